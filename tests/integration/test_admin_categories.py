"""Admin plan categories (admin.md §5): flat and tree lists, CRUD, attach and detach plans, `root` protected, no
cycles, slugs unique under their guards."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.catalog.models import UniqueGuardItem
from chalicelib.core.ids import seed_id
from tests.integration.admin_catalog import ADMIN_API, admin_token, delete, new_plan, observer_token, refusal, unique
from tests.integration.conftest import Api

CATEGORIES = f"{ADMIN_API}/tarif-plan-categories"
ROOT = seed_id("category", "root")
BACKEND = seed_id("category", "backend")
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def token(api: Api) -> str:
    return admin_token(api)


@pytest.fixture(scope="module")
def observer(api: Api) -> str:
    return observer_token(api)


def new_category(api: Api, token: str, **fields: Any) -> dict[str, Any]:
    answer = api.post(f"{CATEGORIES}/", {"name": unique("Group"), **fields}, token=token)
    assert answer.status == 201, answer.json
    assert answer.json["message"] == "Category created successfully"
    return answer.json["category"]  # type: ignore[no-any-return]


def test_a_created_category_has_its_defaults(api: Api, token: str) -> None:
    category = new_category(api, token, name="Team Tools", parent_id=ROOT)
    assert (category["slug"], category["parent_id"], category["is_single"], category["sort_order"]) == (
        "team-tools",
        ROOT,
        True,
        0,
    )
    assert (category["plan_count"], category["children"], category["description"]) == (0, [], None)
    assert UniqueGuardItem.get(*UniqueGuardItem.key("CATEGORY_SLUG", "team-tools")).owner_id == category["id"]
    assert api.get(f"{CATEGORIES}/{category['id']}", token=token).json == {"category": category}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Name is required"),
        ({"name": " "}, "Name is required"),
        ({"name": "G", "slug": "No Slug"}, "Invalid slug"),
        ({"name": "G", "slug": "root"}, "Category with slug 'root' already exists"),
        ({"name": "G", "parent_id": MISSING}, f"Parent category {MISSING} not found"),
    ],
)
def test_a_category_breaking_a_rule_is_refused(api: Api, token: str, body: dict[str, Any], message: str) -> None:
    assert refusal(api.post(f"{CATEGORIES}/", body, token=token)) == (400, message)


def test_flat_and_tree_lists(api: Api, token: str) -> None:
    parent = new_category(api, token, sort_order=90)
    child = new_category(api, token, parent_id=parent["id"])

    flat = api.get(f"{CATEGORIES}/", token=token).json["categories"]
    assert api.get(f"{CATEGORIES}?format=flat", token=token).json["categories"] == flat
    assert {parent["id"], child["id"], ROOT} <= {c["id"] for c in flat}
    assert all(c["children"] == [] for c in flat)
    order = [(c["sort_order"], c["name"]) for c in flat]
    assert order == sorted(order)

    tree = api.get(f"{CATEGORIES}?format=tree", token=token).json["categories"]
    top = {c["id"]: c for c in tree}
    assert child["id"] not in top
    assert [c["id"] for c in top[parent["id"]]["children"]] == [child["id"]]
    assert refusal(api.get(f"{CATEGORIES}?format=nested", token=token)) == (400, "Invalid format: nested")


def test_detail_404(api: Api, token: str) -> None:
    assert refusal(api.get(f"{CATEGORIES}/{MISSING}", token=token)) == (404, "Category not found")


def test_an_update_changes_the_fields_sent_and_moves_the_slug_guard(api: Api, token: str) -> None:
    category = new_category(api, token, description="d")
    slug = f"{category['slug']}-moved"
    answer = api.put(
        f"{CATEGORIES}/{category['id']}", {"slug": slug, "is_single": False, "parent_id": BACKEND}, token=token
    )
    assert answer.status == 200
    changed = answer.json["category"]
    assert (changed["slug"], changed["is_single"], changed["parent_id"], changed["description"]) == (
        slug,
        False,
        BACKEND,
        "d",
    )
    assert UniqueGuardItem.count(f"UNIQUE#CATEGORY_SLUG#{category['slug']}") == 0
    assert new_category(api, token, slug=category["slug"])["slug"] == category["slug"]
    moved_up = api.put(f"{CATEGORIES}/{category['id']}", {"parent_id": None}, token=token)
    assert moved_up.json["category"]["parent_id"] is None


def test_an_update_never_makes_a_cycle(api: Api, token: str) -> None:
    top = new_category(api, token)
    middle = new_category(api, token, parent_id=top["id"])
    bottom = new_category(api, token, parent_id=middle["id"])

    cases = [
        (top["id"], {"parent_id": top["id"]}, "Category cannot be its own parent"),
        (top["id"], {"parent_id": bottom["id"]}, "Category cannot be moved under its own descendant"),
        (top["id"], {"parent_id": MISSING}, f"Parent category {MISSING} not found"),
        (top["id"], {"slug": "root"}, "Category with slug 'root' already exists"),
        (top["id"], {"name": ""}, "Name is required"),
    ]
    for category_id, body, message in cases:
        assert refusal(api.put(f"{CATEGORIES}/{category_id}", body, token=token)) == (400, message)
    assert refusal(api.put(f"{CATEGORIES}/{MISSING}", {"name": "x"}, token=token)) == (404, "Category not found")


def test_delete_rules(api: Api, token: str) -> None:
    parent = new_category(api, token)
    child = new_category(api, token, parent_id=parent["id"])
    plan = new_plan(api, token, category_ids=[child["id"]])

    assert refusal(delete(api, f"{CATEGORIES}/{ROOT}", token)) == (400, "Cannot delete root category")
    assert refusal(delete(api, f"{CATEGORIES}/{parent['id']}", token)) == (
        400,
        "Cannot delete category with children. Delete children first.",
    )
    answer = delete(api, f"{CATEGORIES}/{child['id']}", token)
    assert (answer.status, answer.json) == (200, {"message": "Category deleted successfully"})
    assert api.get(f"{ADMIN_API}/tarif-plans/{plan['id']}", token=token).json["plan"]["categories"] == []
    assert UniqueGuardItem.count(f"UNIQUE#CATEGORY_SLUG#{child['slug']}") == 0
    assert delete(api, f"{CATEGORIES}/{parent['id']}", token).status == 200
    assert refusal(delete(api, f"{CATEGORIES}/{parent['id']}", token)) == (404, "Category not found")


def test_attach_and_detach_are_idempotent_and_count_every_plan(api: Api, token: str) -> None:
    category = new_category(api, token)
    active, inactive = new_plan(api, token), new_plan(api, token, is_active=False)
    path = f"{CATEGORIES}/{category['id']}"
    both = {"plan_ids": [active["id"], inactive["id"]]}

    attached = api.post(f"{path}/attach-plans", both, token=token)
    again = api.post(f"{path}/attach-plans", both, token=token)

    assert attached.status == again.status == 200
    assert attached.json["category"]["plan_count"] == again.json["category"]["plan_count"] == 2
    plan = api.get(f"{ADMIN_API}/tarif-plans/{active['id']}", token=token).json["plan"]
    assert [c["id"] for c in plan["categories"]] == [category["id"]]
    public = api.get("/api/v1/tarif-plan-categories?format=flat").json["categories"]
    assert next(c for c in public if c["id"] == category["id"])["plan_count"] == 1  # the public count: active plans

    detached = api.post(f"{path}/detach-plans", {"plan_ids": [active["id"]]}, token=token)
    assert detached.json["category"]["plan_count"] == 1
    assert api.post(f"{path}/detach-plans", {"plan_ids": [active["id"]]}, token=token).json == detached.json


@pytest.mark.parametrize("action", ["attach-plans", "detach-plans"])
@pytest.mark.parametrize(
    ("category", "body", "message"),
    [
        (BACKEND, {}, "plan_ids is required"),
        (BACKEND, {"plan_ids": []}, "plan_ids is required"),
        (BACKEND, {"plan_ids": [MISSING]}, f"Plan {MISSING} not found"),
        (MISSING, {"plan_ids": [seed_id("plan", "basic")]}, "Category not found"),
    ],
)
def test_attach_and_detach_refusals(
    api: Api, token: str, action: str, category: str, body: dict[str, Any], message: str
) -> None:
    assert refusal(api.post(f"{CATEGORIES}/{category}/{action}", body, token=token)) == (400, message)


ROUTES = [
    ("GET", f"{CATEGORIES}/"),
    ("GET", f"{CATEGORIES}/{ROOT}"),
    ("POST", f"{CATEGORIES}/"),
    ("PUT", f"{CATEGORIES}/{ROOT}"),
    ("DELETE", f"{CATEGORIES}/{BACKEND}"),
    ("POST", f"{CATEGORIES}/{ROOT}/attach-plans"),
    ("POST", f"{CATEGORIES}/{ROOT}/detach-plans"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_categories_need_plans_manage_even_to_read(api: Api, observer: str, method: str, path: str) -> None:
    observed = api.request(method, path, json_body={"name": "x"}, token=observer)
    assert (observed.status, observed.json) == (
        403,
        {"error": "Permission denied", "required": "subscription.plans.manage"},
    )
