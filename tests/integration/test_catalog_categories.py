"""Plan categories (contract catalog.md §2.3, §4.5; seed-data.md §7)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from chalicelib.core.ids import seed_id

ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$")
CATEGORY_KEYS = {
    "id",
    "name",
    "slug",
    "description",
    "parent_id",
    "is_single",
    "sort_order",
    "plan_count",
    "children",
    "created_at",
    "updated_at",
}
# slug, name, parent slug, is_single, sort_order, active plan count (seed-data.md §7)
CATEGORIES: list[tuple[str, str, str | None, bool, int, int]] = [
    ("root", "Root", None, False, 0, 10),
    ("backend", "Backend", "root", True, 1, 0),
    ("fe-admin", "Admin frontend", "root", True, 2, 0),
    ("fe-user", "User frontend", "root", True, 3, 0),
    ("payments", "Payments", "root", True, 4, 0),
    ("subscription-plans", "Subscription plans", None, True, 5, 2),
]


def expected(slug: str, children: list[dict[str, Any]]) -> dict[str, Any]:
    row = next(r for r in CATEGORIES if r[0] == slug)
    _, name, parent, is_single, sort_order, plan_count = row
    return {
        "id": seed_id("category", slug),
        "name": name,
        "slug": slug,
        "description": None,
        "parent_id": seed_id("category", parent) if parent else None,
        "is_single": is_single,
        "sort_order": sort_order,
        "plan_count": plan_count,
        "children": children,
    }


def strip_stamps(category: dict[str, Any]) -> dict[str, Any]:
    assert ISO_INSTANT.match(category["created_at"])
    assert ISO_INSTANT.match(category["updated_at"])
    stripped = {k: v for k, v in category.items() if k not in ("created_at", "updated_at")}
    stripped["children"] = [strip_stamps(child) for child in category["children"]]
    return stripped


def test_tree_is_the_default_format(api):
    answer = api.get("/api/v1/tarif-plan-categories")
    assert answer.status == 200
    assert [strip_stamps(c) for c in answer.json["categories"]] == [
        expected("root", [expected(slug, []) for slug in ("backend", "fe-admin", "fe-user", "payments")]),
        expected("subscription-plans", []),
    ]


def test_tree_format_explicit(api):
    tree = api.get("/api/v1/tarif-plan-categories?format=tree")
    assert tree.status == 200
    assert tree.json["categories"] == api.get("/api/v1/tarif-plan-categories").json["categories"]


def test_tree_entries_have_the_category_keys(api):
    root = api.get("/api/v1/tarif-plan-categories").json["categories"][0]
    assert set(root) == CATEGORY_KEYS
    for child in root["children"]:
        assert set(child) == CATEGORY_KEYS
        assert child["parent_id"] == root["id"]


def test_flat_format_lists_every_category_in_order_without_children(api):
    answer = api.get("/api/v1/tarif-plan-categories?format=flat")
    assert answer.status == 200
    assert [strip_stamps(c) for c in answer.json["categories"]] == [expected(row[0], []) for row in CATEGORIES]
    assert answer.json["total"] == 6


def test_plan_count_counts_active_plans(api):
    flat = {c["slug"]: c["plan_count"] for c in api.get("/api/v1/tarif-plan-categories?format=flat").json["categories"]}
    assert flat == {"root": 10, "backend": 0, "fe-admin": 0, "fe-user": 0, "payments": 0, "subscription-plans": 2}
    # the same numbers the category filter of /tarif-plans gives
    for slug, count in flat.items():
        assert api.get(f"/api/v1/tarif-plans?category={slug}").json["total"] == count


def test_is_single_flags(api):
    flat = {c["slug"]: c["is_single"] for c in api.get("/api/v1/tarif-plan-categories?format=flat").json["categories"]}
    assert flat["root"] is False
    assert flat["subscription-plans"] is True


def test_trailing_slash(api):
    answer = api.get("/api/v1/tarif-plan-categories/")
    assert answer.status == 200
    assert [c["slug"] for c in answer.json["categories"]] == ["root", "subscription-plans"]


@pytest.mark.parametrize("value", ["bogus", "list", "trees"])
def test_invalid_format_is_400(api, value):
    answer = api.get(f"/api/v1/tarif-plan-categories?format={value}")
    assert answer.status == 400
    assert answer.json == {"error": f"Invalid format: {value}"}
    assert answer.headers["x-request-id"]
