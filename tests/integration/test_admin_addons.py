"""Admin add-ons (admin.md §6): paged list, CRUD, the slug route, activate/deactivate, and no delete while a
subscription of the add-on is held."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.catalog.models import UniqueGuardItem
from chalicelib.core.ids import seed_id
from tests.integration.admin_catalog import ADMIN_API, admin_token, delete, new_plan, observer_token, refusal, unique
from tests.integration.buyers import german_buyer
from tests.integration.conftest import Api

ADDONS = f"{ADMIN_API}/addons"
SUPPORT = seed_id("addon", "priority-support")
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def token(api: Api) -> str:
    return admin_token(api)


def new_addon(api: Api, token: str, **fields: Any) -> dict[str, Any]:
    answer = api.post(f"{ADDONS}/", {"name": unique("Extra"), "price": "4.00", **fields}, token=token)
    assert answer.status == 201, answer.json
    assert answer.json["message"] == "Add-on created successfully"
    return answer.json["addon"]  # type: ignore[no-any-return]


def test_a_created_addon_has_its_defaults(api: Api, token: str) -> None:
    addon = new_addon(api, token, name="Extra  Seats_Pack++")
    assert addon["slug"] == "extra-seats-pack"
    assert (addon["price"], addon["currency"], addon["billing_period"], addon["config"]) == (
        "4.00",
        "EUR",
        "MONTHLY",
        {},
    )
    assert (addon["is_active"], addon["sort_order"], addon["tarif_plan_ids"], addon["tarif_plans"]) == (True, 0, [], [])
    assert UniqueGuardItem.get(*UniqueGuardItem.key("ADDON_SLUG", "extra-seats-pack")).owner_id == addon["id"]
    assert api.get(f"{ADDONS}/{addon['id']}", token=token).json == {"addon": addon}
    assert api.get(f"{ADDONS}/slug/{addon['slug']}", token=token).json == {"addon": addon}


def test_every_field_of_an_addon_can_be_given(api: Api, token: str) -> None:
    plan = new_plan(api, token)
    addon = new_addon(
        api,
        token,
        slug=unique("given").replace(" ", "-"),
        description="more",
        currency="usd",
        billing_period="one_time",
        config={"seats": 5},
        is_active=False,
        sort_order=3,
        tarif_plan_ids=[plan["id"]],
    )
    assert (addon["currency"], addon["billing_period"], addon["config"], addon["is_recurring"]) == (
        "USD",
        "ONE_TIME",
        {"seats": 5},
        False,
    )
    assert addon["tarif_plans"] == [{"id": plan["id"], "name": plan["name"]}]
    assert (addon["is_active"], addon["sort_order"], addon["description"]) == (False, 3, "more")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"price": 1}, "Name is required"),
        ({"name": ""}, "Name is required"),
        ({"name": "A"}, "Price is required"),
        ({"name": "A", "price": -0.01}, "Price cannot be negative"),
        ({"name": "A", "price": "abc"}, "Invalid price"),
        ({"name": "A", "price": 1, "billing_period": "hourly"}, "Invalid billing period: hourly"),
        ({"name": "A", "price": 1, "currency": "zzz"}, "Unknown currency: ZZZ"),
        ({"name": "A", "price": 1, "slug": "priority-support"}, "Slug already exists"),
        ({"name": "A", "price": 1, "tarif_plan_ids": [MISSING]}, "One or more tariff plan IDs are invalid"),
        ({"name": "A", "price": 1, "tarif_plan_ids": ["x"]}, "One or more tariff plan IDs are invalid"),
    ],
)
def test_an_addon_breaking_a_rule_is_refused(api: Api, token: str, body: dict[str, Any], message: str) -> None:
    assert refusal(api.post(f"{ADDONS}/", body, token=token)) == (400, message)


def test_the_list_is_paged_and_leaves_inactive_ones_out_unless_asked(api: Api, token: str) -> None:
    hidden = new_addon(api, token, is_active=False)
    first = api.get(f"{ADDONS}/", token=token).json
    everything = api.get(f"{ADDONS}/?include_inactive=true&per_page=100", token=token).json

    assert (first["page"], first["per_page"]) == (1, 20)
    assert hidden["id"] not in [a["id"] for a in first["items"]] and all(a["is_active"] for a in first["items"])
    assert hidden["id"] in [a["id"] for a in everything["items"]]
    assert everything["total"] == len(everything["items"]) and everything["next_cursor"] is None
    order = [(a["sort_order"], a["name"]) for a in everything["items"]]
    assert order == sorted(order)

    page = api.get(f"{ADDONS}/?include_inactive=true&page=1&per_page=2", token=token).json
    assert len(page["items"]) == 2 and page["pages"] == -(-everything["total"] // 2) and page["next_cursor"]
    following = api.get(f"{ADDONS}/?include_inactive=true&per_page=2&cursor={page['next_cursor']}", token=token)
    assert following.json["items"] == everything["items"][2:4]


def test_not_found(api: Api, token: str) -> None:
    for path in (f"{ADDONS}/{MISSING}", f"{ADDONS}/slug/no-such-addon"):
        assert refusal(api.get(path, token=token)) == (404, "Add-on not found")
    assert refusal(api.put(f"{ADDONS}/{MISSING}", {"name": "x"}, token=token)) == (404, "Add-on not found")
    assert refusal(delete(api, f"{ADDONS}/{MISSING}", token)) == (404, "Add-on not found")
    for action in ("activate", "deactivate"):
        assert refusal(api.post(f"{ADDONS}/{MISSING}/{action}", token=token)) == (404, "Add-on not found")


def test_an_update_changes_what_was_sent_and_empty_plans_unbind(api: Api, token: str) -> None:
    plan = new_plan(api, token)
    addon = new_addon(api, token, tarif_plan_ids=[plan["id"]], description="kept")
    slug = f"{addon['slug']}-new"
    answer = api.put(f"{ADDONS}/{addon['id']}", {"slug": slug, "price": 6, "tarif_plan_ids": []}, token=token)

    assert answer.status == 200
    changed = answer.json["addon"]
    assert (changed["slug"], changed["price"], changed["tarif_plan_ids"], changed["description"]) == (
        slug,
        "6.00",
        [],
        "kept",
    )
    assert UniqueGuardItem.count(f"UNIQUE#ADDON_SLUG#{addon['slug']}") == 0
    assert api.get(f"{ADDONS}/slug/{slug}", token=token).json == {"addon": changed}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, "Name cannot be empty"),
        ({"name": None}, "Name cannot be empty"),
        ({"price": -1}, "Price cannot be negative"),
        ({"price": "1.2.3"}, "Invalid price"),
        ({"billing_period": "x"}, "Invalid billing period: x"),
        ({"currency": "QQQ"}, "Unknown currency: QQQ"),
        ({"slug": "priority-support"}, "Slug already exists"),
        ({"tarif_plan_ids": [MISSING]}, "One or more tariff plan IDs are invalid"),
    ],
)
def test_an_update_breaking_a_rule_is_refused(api: Api, token: str, body: dict[str, Any], message: str) -> None:
    addon = new_addon(api, token)
    assert refusal(api.put(f"{ADDONS}/{addon['id']}", body, token=token)) == (400, message)


def test_activate_and_deactivate(api: Api, token: str) -> None:
    addon = new_addon(api, token)
    off = api.post(f"{ADDONS}/{addon['id']}/deactivate", token=token)
    assert (off.status, off.json["message"], off.json["addon"]["is_active"]) == (200, "Add-on deactivated", False)
    assert addon["id"] not in [a["id"] for a in api.get("/api/v1/addons").json["addons"]]
    on = api.post(f"{ADDONS}/{addon['id']}/activate", token=token)
    assert (on.status, on.json["message"], on.json["addon"]["is_active"]) == (200, "Add-on activated", True)
    assert addon["id"] in [a["id"] for a in api.get("/api/v1/addons").json["addons"]]


def test_an_addon_nobody_holds_is_deleted_and_a_held_one_is_not(api: Api, token: str) -> None:
    held = new_addon(api, token)
    buyer = german_buyer(api, "holder")
    bought = api.post(
        "/api/v1/user/checkout", {"add_on_ids": [held["id"]], "payment_method_code": "sandbox"}, token=buyer.token
    )
    assert bought.status == 201, bought.json

    assert refusal(delete(api, f"{ADDONS}/{held['id']}", token)) == (
        400,
        "Cannot delete add-on with active subscriptions. Deactivate instead.",
    )
    free = new_addon(api, token)
    answer = delete(api, f"{ADDONS}/{free['id']}", token)
    assert (answer.status, answer.json) == (200, {"message": "Add-on deleted successfully"})
    assert refusal(api.get(f"{ADDONS}/{free['id']}", token=token)) == (404, "Add-on not found")
    assert UniqueGuardItem.count(f"UNIQUE#ADDON_SLUG#{free['slug']}") == 0


ROUTES = [
    ("GET", f"{ADDONS}/"),
    ("POST", f"{ADDONS}/"),
    ("GET", f"{ADDONS}/{SUPPORT}"),
    ("GET", f"{ADDONS}/slug/priority-support"),
    ("PUT", f"{ADDONS}/{SUPPORT}"),
    ("DELETE", f"{ADDONS}/{SUPPORT}"),
    ("POST", f"{ADDONS}/{SUPPORT}/activate"),
    ("POST", f"{ADDONS}/{SUPPORT}/deactivate"),
]


@pytest.fixture(scope="module")
def observer(api: Api) -> str:
    return observer_token(api)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_addons_need_addons_manage_even_to_read(api: Api, observer: str, method: str, path: str) -> None:
    observed = api.request(method, path, json_body={"name": "x"}, token=observer)
    assert (observed.status, observed.json) == (
        403,
        {"error": "Permission denied", "required": "subscription.addons.manage"},
    )
