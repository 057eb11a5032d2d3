"""Token bundles and add-ons (contract catalog.md §2.6, §2.7, §4.8, §4.9; seed-data.md §8)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from chalicelib.core.ids import seed_id
from tests.contract import ENTERPRISE_ADD_ON_SLUGS

ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$")
BUNDLE_KEYS = {
    "id",
    "name",
    "description",
    "token_amount",
    "price",
    "currency",
    "is_active",
    "sort_order",
    "created_at",
    "updated_at",
}
ADDON_KEYS = {
    "id",
    "name",
    "slug",
    "description",
    "price",
    "currency",
    "billing_period",
    "config",
    "is_active",
    "is_recurring",
    "sort_order",
    "tarif_plan_ids",
    "tarif_plans",
    "created_at",
    "updated_at",
}
BUNDLES = [("100 Tokens", 100, "3.00", 0), ("500 Tokens", 500, "10.00", 1), ("2000 Tokens", 2000, "35.00", 2)]
LEGACY_BUNDLE = "50 Tokens (legacy)"
INDEPENDENT = ["extra-storage-50gb", "extra-seats-yearly", "dedicated-onboarding"]
PLAN_NAMES = {"pro": "Pro", "enterprise": "Enterprise", "professional": "Professional"}
# slug: (name, price, period, bound plans, sort_order)
ADDONS: dict[str, tuple[str, str, str, list[str], int]] = {
    "extra-storage-50gb": ("Extra Storage 50 GB", "4.99", "MONTHLY", [], 0),
    "priority-support": ("Priority Support", "9.99", "MONTHLY", ["pro", "enterprise"], 1),
    "api-boost": ("API Boost", "14.99", "MONTHLY", ["professional", "enterprise"], 2),
    "white-label": ("White Label", "49.99", "MONTHLY", ["enterprise"], 3),
    "extra-seats-yearly": ("Extra Seats (yearly)", "39.00", "YEARLY", [], 4),
    "dedicated-onboarding": ("Dedicated Onboarding", "199.00", "ONE_TIME", [], 5),
    "legacy-addon": ("Legacy Add-on", "1.00", "MONTHLY", [], 6),
}
PRO_USER = ("user.pro@demo.local", "DemoPass123!")


def slugs(answer: Any) -> list[str]:
    return [addon["slug"] for addon in answer.json["addons"]]


def assert_error(answer: Any, status: int, message: str) -> None:
    assert answer.status == status
    assert answer.json == {"error": message}
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["x-request-id"]


def check_addon(entry: dict[str, Any], slug: str, active: bool = True) -> None:
    name, price, period, plans, sort_order = ADDONS[slug]
    assert set(entry) == ADDON_KEYS
    assert entry["id"] == seed_id("addon", slug)
    assert entry["name"] == name
    assert entry["slug"] == slug
    assert entry["price"] == price
    assert entry["currency"] == "EUR"
    assert entry["billing_period"] == period
    assert entry["config"] == {}
    assert entry["is_active"] is active
    assert entry["is_recurring"] is (period != "ONE_TIME")
    assert entry["sort_order"] == sort_order
    assert sorted(entry["tarif_plan_ids"]) == sorted(seed_id("plan", p) for p in plans)
    assert sorted(entry["tarif_plans"], key=lambda p: p["id"]) == sorted(
        ({"id": seed_id("plan", p), "name": PLAN_NAMES[p]} for p in plans), key=lambda p: p["id"]
    )
    assert ISO_INSTANT.match(entry["created_at"])
    assert ISO_INSTANT.match(entry["updated_at"])


@pytest.fixture(scope="module")
def pro_token(api):
    return api.token(*PRO_USER)


# --- GET /api/v1/token-bundles/ ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/token-bundles/", "/api/v1/token-bundles"])
def test_bundles_active_only_in_order(api, path):
    answer = api.get(path)
    assert answer.status == 200
    assert answer.json["total"] == 3
    bundles = answer.json["bundles"]
    assert [b["name"] for b in bundles] == [name for name, *_ in BUNDLES]
    for bundle, (name, tokens, price, sort_order) in zip(bundles, BUNDLES, strict=True):
        assert set(bundle) == BUNDLE_KEYS
        assert bundle["id"] == seed_id("bundle", name)
        assert bundle["token_amount"] == tokens
        assert bundle["price"] == price
        assert bundle["currency"] == "EUR"
        assert bundle["is_active"] is True
        assert bundle["sort_order"] == sort_order
        assert ISO_INSTANT.match(bundle["created_at"])


def test_legacy_bundle_is_not_listed(api):
    names = [b["name"] for b in api.get("/api/v1/token-bundles/").json["bundles"]]
    assert LEGACY_BUNDLE not in names


# --- GET /api/v1/token-bundles/<id> -----------------------------------------------------------------------------------


def test_bundle_by_id(api):
    answer = api.get(f"/api/v1/token-bundles/{seed_id('bundle', '100 Tokens')}")
    assert answer.status == 200
    assert set(answer.json) == {"bundle"}
    bundle = answer.json["bundle"]
    assert {k: v for k, v in bundle.items() if k not in ("created_at", "updated_at", "description")} == {
        "id": seed_id("bundle", "100 Tokens"),
        "name": "100 Tokens",
        "token_amount": 100,
        "price": "3.00",
        "currency": "EUR",
        "is_active": True,
        "sort_order": 0,
    }
    assert set(bundle) == BUNDLE_KEYS


def test_bundle_by_upper_case_id(api):
    answer = api.get(f"/api/v1/token-bundles/{seed_id('bundle', '500 Tokens').upper()}")
    assert answer.status == 200
    assert answer.json["bundle"]["id"] == seed_id("bundle", "500 Tokens")


def test_inactive_bundle_is_returned_by_id(api):
    answer = api.get(f"/api/v1/token-bundles/{seed_id('bundle', LEGACY_BUNDLE)}")
    assert answer.status == 200
    bundle = answer.json["bundle"]
    assert (bundle["name"], bundle["token_amount"], bundle["price"], bundle["is_active"]) == (
        LEGACY_BUNDLE,
        50,
        "2.00",
        False,
    )


def test_unknown_bundle_is_404(api):
    assert_error(api.get("/api/v1/token-bundles/00000000-0000-4000-8000-000000000000"), 404, "Token bundle not found")


@pytest.mark.parametrize(
    "bad", ["abc", "100-tokens", "7887a26a-8877-5ca0-9883-db22ca95a1b", "g887a26a-8877-5ca0-9883-db22ca95a1b3"]
)
def test_malformed_bundle_id_is_400(api, bad):
    assert_error(api.get(f"/api/v1/token-bundles/{bad}"), 400, "Invalid id")


# --- GET /api/v1/addons/ ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/addons/", "/api/v1/addons"])
def test_anonymous_sees_independent_active_addons(api, path):
    answer = api.get(path)
    assert answer.status == 200
    assert slugs(answer) == INDEPENDENT
    assert answer.json["total"] == 3
    for entry in answer.json["addons"]:
        check_addon(entry, entry["slug"])


def test_plan_id_adds_the_addons_bound_to_that_plan(api):
    answer = api.get(f"/api/v1/addons?plan_id={seed_id('plan', 'pro')}")
    assert answer.status == 200
    assert slugs(answer) == ["extra-storage-50gb", "priority-support", "extra-seats-yearly", "dedicated-onboarding"]
    check_addon(answer.json["addons"][1], "priority-support")


def test_plan_id_of_enterprise(api):
    answer = api.get(f"/api/v1/addons/?plan_id={seed_id('plan', 'enterprise')}")
    assert slugs(answer) == list(ENTERPRISE_ADD_ON_SLUGS)
    for entry in answer.json["addons"]:
        check_addon(entry, entry["slug"])


def test_plan_id_in_upper_case(api):
    answer = api.get(f"/api/v1/addons?plan_id={seed_id('plan', 'professional').upper()}")
    assert answer.status == 200
    assert slugs(answer) == ["extra-storage-50gb", "api-boost", "extra-seats-yearly", "dedicated-onboarding"]


def test_plan_id_of_a_plan_without_bound_addons(api):
    answer = api.get(f"/api/v1/addons?plan_id={seed_id('plan', 'basic')}")
    assert answer.status == 200
    assert slugs(answer) == INDEPENDENT


def test_plan_id_of_no_plan(api):
    answer = api.get("/api/v1/addons?plan_id=00000000-0000-4000-8000-000000000000")
    assert answer.status == 200
    assert slugs(answer) == INDEPENDENT


@pytest.mark.parametrize("bad", ["garbage", "pro", "123"])
def test_malformed_plan_id_is_400(api, bad):
    assert_error(api.get(f"/api/v1/addons?plan_id={bad}"), 400, "Invalid plan_id format")


def test_subscriber_sees_the_addons_of_their_plan(api, pro_token):
    answer = api.get("/api/v1/addons", token=pro_token)
    assert answer.status == 200
    assert slugs(answer) == ["extra-storage-50gb", "priority-support", "extra-seats-yearly", "dedicated-onboarding"]


def test_subscriber_with_plan_id_sees_both_plans_addons(api, pro_token):
    answer = api.get(f"/api/v1/addons?plan_id={seed_id('plan', 'professional')}", token=pro_token)
    assert slugs(answer) == [
        "extra-storage-50gb",
        "priority-support",
        "api-boost",
        "extra-seats-yearly",
        "dedicated-onboarding",
    ]


def test_user_whose_plan_has_no_bound_addons(api):
    token = api.token("test@example.com", "TestPass123@")
    assert slugs(api.get("/api/v1/addons", token=token)) == INDEPENDENT


def test_user_without_subscription(api):
    token = api.token("test2@example.com", "TestPass123@")
    assert slugs(api.get("/api/v1/addons", token=token)) == INDEPENDENT


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer", "Bearer a b"])
def test_invalid_credential_is_treated_as_anonymous(api, header):
    answer = api.get("/api/v1/addons", headers={"Authorization": header})
    assert answer.status == 200
    assert slugs(answer) == INDEPENDENT


# --- GET /api/v1/addons/<id> ------------------------------------------------------------------------------------------


def test_addon_by_id(api):
    answer = api.get(f"/api/v1/addons/{seed_id('addon', 'priority-support')}")
    assert answer.status == 200
    assert set(answer.json) == {"addon"}
    check_addon(answer.json["addon"], "priority-support")


def test_addon_by_upper_case_id(api):
    answer = api.get(f"/api/v1/addons/{seed_id('addon', 'white-label').upper()}")
    assert answer.status == 200
    check_addon(answer.json["addon"], "white-label")


def test_inactive_addon_is_returned_by_id(api):
    answer = api.get(f"/api/v1/addons/{seed_id('addon', 'legacy-addon')}")
    assert answer.status == 200
    check_addon(answer.json["addon"], "legacy-addon", active=False)


def test_inactive_addon_is_not_listed(api):
    assert "legacy-addon" not in slugs(api.get(f"/api/v1/addons?plan_id={seed_id('plan', 'enterprise')}"))


def test_one_time_addon_is_not_recurring(api):
    addon = api.get(f"/api/v1/addons/{seed_id('addon', 'dedicated-onboarding')}").json["addon"]
    assert addon["is_recurring"] is False
    assert addon["billing_period"] == "ONE_TIME"


def test_unknown_addon_is_404(api):
    assert_error(api.get("/api/v1/addons/00000000-0000-4000-8000-000000000000"), 404, "Add-on not found")


@pytest.mark.parametrize("bad", ["abc", "priority-support", "a54196ec6f5753b09c243932fa0c5f45"])
def test_malformed_addon_id_is_400(api, bad):
    assert_error(api.get(f"/api/v1/addons/{bad}"), 400, "Invalid id")
