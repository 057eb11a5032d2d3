"""Public tariff plans (contract catalog.md §2.1, §2.2, §3, §4.3, §4.4) on the seed of seed-data.md §4–§7."""

from __future__ import annotations

import re
from typing import Any

import pytest

from chalicelib.core.ids import seed_id

ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$")
ROOT = {"id": seed_id("category", "root"), "name": "Root", "slug": "root", "is_single": False}
SUBSCRIPTION_PLANS = {
    "id": seed_id("category", "subscription-plans"),
    "name": "Subscription plans",
    "slug": "subscription-plans",
    "is_single": True,
}
PLAN_KEYS = {
    "id",
    "name",
    "slug",
    "description",
    "price_float",
    "price",
    "currency",
    "billing_period",
    "features",
    "trial_days",
    "is_active",
    "is_recurring",
    "sort_order",
    "categories",
    "created_at",
    "updated_at",
}
LISTING_KEYS = PLAN_KEYS | {"display_currency", "display_price"}
TAX_KEYS = {"net_price", "tax_amount", "gross_price", "tax_rate", "tax_inclusive"}

# seed-data.md §7, active plans in the listing order (sort_order, then name).
ACTIVE_PLANS: list[tuple[str, str, str, str, str, int, dict[str, int], list[dict[str, Any]], int]] = [
    ("free", "Free", "0.00", "EUR", "MONTHLY", 0, {"default_tokens": 0, "storage_gb": 1, "api_calls_limit": 100},
     [ROOT], 0),
    ("basic", "Basic", "9.99", "EUR", "MONTHLY", 0, {"default_tokens": 50, "storage_gb": 10, "api_calls_limit": 1000},
     [ROOT], 1),
    ("pro", "Pro", "29.99", "EUR", "MONTHLY", 3,
     {"default_tokens": 200, "storage_gb": 100, "api_calls_limit": 10000}, [ROOT], 2),
    ("enterprise", "Enterprise", "99.99", "EUR", "MONTHLY", 5, {"default_tokens": 1000, "storage_gb": 1000}, [ROOT], 3),
    ("lifetime", "Lifetime", "499.99", "EUR", "ONE_TIME", 0, {"default_tokens": 500}, [], 4),
    ("basic-yearly", "Basic Yearly", "99.90", "EUR", "YEARLY", 0, {"default_tokens": 600, "api_calls_limit": 12000},
     [ROOT], 5),
    ("quarterly", "Quarterly", "27.99", "EUR", "QUARTERLY", 0, {"default_tokens": 150}, [ROOT], 6),
    ("weekly-pass", "Weekly Pass", "2.99", "EUR", "WEEKLY", 0, {"default_tokens": 10}, [ROOT], 7),
    ("day-pass", "Day Pass", "0.99", "EUR", "DAILY", 0, {"default_tokens": 2}, [ROOT], 8),
    ("basic-usd", "Basic (USD)", "10.99", "USD", "MONTHLY", 0, {"default_tokens": 50}, [ROOT], 9),
    ("starter", "Starter", "4.99", "EUR", "MONTHLY", 14, {"default_tokens": 20}, [SUBSCRIPTION_PLANS], 10),
    ("professional", "Professional", "19.99", "EUR", "MONTHLY", 14, {"default_tokens": 100}, [SUBSCRIPTION_PLANS], 11),
    ("test-data-basic-plan", "TEST_DATA_Basic Plan", "9.99", "EUR", "MONTHLY", 0, {"default_tokens": 0}, [ROOT], 99),
]  # fmt: skip
ACTIVE_SLUGS = [row[0] for row in ACTIVE_PLANS]
SYMBOLS = {"EUR": "€", "USD": "$"}


def without_stamps(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if key not in ("created_at", "updated_at")}


def by_slug(answer_json: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {plan["slug"]: plan for plan in answer_json["plans"]}


def assert_error(answer: Any, status: int, body: dict[str, Any]) -> None:
    assert answer.status == status
    assert answer.json == body
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["x-request-id"]


# --- GET /api/v1/tarif-plans ------------------------------------------------------------------------------------------


def test_listing_envelope_without_parameters(api):
    answer = api.get("/api/v1/tarif-plans")
    assert answer.status == 200
    body = answer.json
    assert body["currency"] == "EUR"
    assert body["country"] is None
    assert body["total"] == len(ACTIVE_SLUGS)
    assert {"plans", "currency", "country", "total"} <= set(body)


def test_listing_has_active_plans_only_in_sort_order(api):
    body = api.get("/api/v1/tarif-plans").json
    assert [plan["slug"] for plan in body["plans"]] == ACTIVE_SLUGS
    assert "legacy-plan" not in {plan["slug"] for plan in body["plans"]}
    assert all(plan["is_active"] is True for plan in body["plans"])


def test_listing_trailing_slash_is_the_same_route(api):
    plain = api.get("/api/v1/tarif-plans")
    slashed = api.get("/api/v1/tarif-plans/")
    assert slashed.status == 200
    assert [p["slug"] for p in slashed.json["plans"]] == [p["slug"] for p in plain.json["plans"]]


def test_listing_entry_of_basic_is_the_full_plan_object_plus_display_keys(api):
    basic = by_slug(api.get("/api/v1/tarif-plans").json)["basic"]
    assert set(basic) == LISTING_KEYS
    assert without_stamps(basic) == {
        "id": seed_id("plan", "basic"),
        "name": "Basic",
        "slug": "basic",
        "description": "For individuals",
        "price_float": 9.99,
        "price": {"price_decimal": "9.99", "price_float": 9.99, "currency_code": "EUR", "currency_symbol": "€"},
        "currency": "EUR",
        "billing_period": "MONTHLY",
        "features": {"default_tokens": 50, "storage_gb": 10, "api_calls_limit": 1000},
        "trial_days": 0,
        "is_active": True,
        "is_recurring": True,
        "sort_order": 1,
        "categories": [ROOT],
        "display_currency": "EUR",
        "display_price": 9.99,
    }
    assert ISO_INSTANT.match(basic["created_at"])
    assert ISO_INSTANT.match(basic["updated_at"])


@pytest.mark.parametrize("row", ACTIVE_PLANS, ids=ACTIVE_SLUGS)
def test_listing_entry_matches_the_seed(api, row):
    slug, name, price, currency, period, trial, features, categories, sort = row
    plan = by_slug(api.get("/api/v1/tarif-plans").json)[slug]
    assert set(plan) == LISTING_KEYS
    assert plan["id"] == seed_id("plan", slug)
    assert plan["name"] == name
    assert plan["price_float"] == float(price)
    assert plan["price"] == {
        "price_decimal": price,
        "price_float": float(price),
        "currency_code": currency,
        "currency_symbol": SYMBOLS[currency],
    }
    assert plan["currency"] == currency
    assert plan["billing_period"] == period
    assert plan["is_recurring"] is (period != "ONE_TIME")
    assert plan["trial_days"] == trial
    assert plan["features"] == features
    assert plan["categories"] == categories
    assert plan["sort_order"] == sort
    assert plan["display_currency"] == "EUR"


def test_free_plan_price_is_present_with_zero(api):
    free = by_slug(api.get("/api/v1/tarif-plans").json)["free"]
    assert free["price"] == {"price_decimal": "0.00", "price_float": 0, "currency_code": "EUR", "currency_symbol": "€"}
    assert free["display_price"] == 0
    assert isinstance(free["display_price"], int | float)


def test_display_price_is_a_json_number(api):
    answer = api.get("/api/v1/tarif-plans")
    for plan in answer.json["plans"]:
        assert isinstance(plan["display_price"], int | float)
        assert not isinstance(plan["display_price"], bool)
        assert isinstance(plan["price_float"], int | float)
    assert b'"display_price":9.99' in answer.body.replace(b" ", b"")


def test_plan_in_another_currency_is_converted_to_the_default_currency(api):
    basic_usd = by_slug(api.get("/api/v1/tarif-plans").json)["basic-usd"]
    # 10.99 USD / 1.08 = 10.1759… → 10.18 EUR
    assert basic_usd["display_currency"] == "EUR"
    assert basic_usd["display_price"] == 10.18
    assert basic_usd["price"]["price_decimal"] == "10.99"


def test_no_tax_keys_without_country(api):
    for plan in api.get("/api/v1/tarif-plans").json["plans"]:
        assert not TAX_KEYS & set(plan)


# --- currency ---------------------------------------------------------------------------------------------------------


def test_currency_usd_converts_display_prices(api):
    answer = api.get("/api/v1/tarif-plans?currency=USD")
    assert answer.status == 200
    assert answer.json["currency"] == "USD"
    plans = by_slug(answer.json)
    assert plans["basic"]["display_currency"] == "USD"
    assert plans["basic"]["display_price"] == 10.79  # 9.99 × 1.08 = 10.7892
    assert plans["pro"]["display_price"] == 32.39  # 29.99 × 1.08 = 32.3892
    assert plans["lifetime"]["display_price"] == 539.99  # 499.99 × 1.08 = 539.9892
    assert plans["basic-usd"]["display_price"] == 10.99  # already in USD: not converted
    # the plan's own price stays in its currency
    assert plans["basic"]["price"]["price_decimal"] == "9.99"
    assert plans["basic"]["currency"] == "EUR"


def test_currency_parameter_is_case_insensitive(api):
    answer = api.get("/api/v1/tarif-plans?currency=usd")
    assert answer.status == 200
    assert answer.json["currency"] == "USD"
    assert by_slug(answer.json)["basic"]["display_price"] == 10.79


def test_currency_with_zero_decimal_places(api):
    answer = api.get("/api/v1/tarif-plans?currency=JPY")
    plans = by_slug(answer.json)
    assert answer.json["currency"] == "JPY"
    assert plans["basic"]["display_price"] == 1598  # 9.99 × 160 = 1598.4
    assert isinstance(plans["basic"]["display_price"], int)
    assert plans["basic-usd"]["display_price"] == 1628  # 10.99 / 1.08 × 160 = 1628.1…
    assert plans["free"]["display_price"] == 0


def test_currency_gbp_and_thb_rounding(api):
    gbp = by_slug(api.get("/api/v1/tarif-plans?currency=GBP").json)
    assert gbp["basic"]["display_price"] == 8.49  # 8.4915
    assert gbp["basic-yearly"]["display_price"] == 84.92  # 84.915, ROUND_HALF_UP
    thb = by_slug(api.get("/api/v1/tarif-plans?currency=THB").json)
    assert thb["basic"]["display_price"] == 384.62  # 384.615


@pytest.mark.parametrize("code", ["XXX", "xxx", "ABC"])
def test_unknown_currency_is_400(api, code):
    assert_error(api.get(f"/api/v1/tarif-plans?currency={code}"), 400, {"error": f"Unknown currency: {code.upper()}"})


def test_repeated_query_parameter_uses_the_first_value(api):
    answer = api.get("/api/v1/tarif-plans?currency=USD&currency=JPY")
    assert answer.status == 200
    assert answer.json["currency"] == "USD"


# --- country ----------------------------------------------------------------------------------------------------------


def test_country_de_adds_exclusive_tax(api):
    answer = api.get("/api/v1/tarif-plans?country=DE")
    assert answer.status == 200
    assert answer.json["country"] == "DE"
    assert answer.json["currency"] == "EUR"
    basic = by_slug(answer.json)["basic"]
    assert set(basic) == LISTING_KEYS | TAX_KEYS
    assert basic["display_price"] == 9.99
    assert basic["net_price"] == "9.99"
    assert basic["tax_amount"] == "1.90"
    assert basic["gross_price"] == "11.89"
    assert basic["tax_rate"] == "19.00"
    assert basic["tax_inclusive"] is False


def test_country_de_for_pro_matches_the_seeded_invoice(api):
    pro = by_slug(api.get("/api/v1/tarif-plans?country=DE").json)["pro"]
    assert (pro["net_price"], pro["tax_amount"], pro["gross_price"]) == ("29.99", "5.70", "35.69")


def test_country_is_case_insensitive_and_echoed_upper_case(api):
    answer = api.get("/api/v1/tarif-plans?country=de")
    assert answer.status == 200
    assert answer.json["country"] == "DE"
    assert by_slug(answer.json)["basic"]["tax_amount"] == "1.90"


def test_country_th_has_inclusive_tax(api):
    basic = by_slug(api.get("/api/v1/tarif-plans?country=TH").json)["basic"]
    assert basic["display_price"] == 9.99
    assert basic["gross_price"] == "9.99"
    assert basic["net_price"] == "9.34"  # 9.99 / 1.07 = 9.336…
    assert basic["tax_amount"] == "0.65"
    assert basic["tax_rate"] == "7.00"
    assert basic["tax_inclusive"] is True


def test_country_ch_rate_with_decimals(api):
    basic = by_slug(api.get("/api/v1/tarif-plans?country=CH").json)["basic"]
    assert (basic["net_price"], basic["tax_amount"], basic["gross_price"]) == ("9.99", "0.81", "10.80")
    assert basic["tax_rate"] == "8.10"


@pytest.mark.parametrize("code", ["US", "JP"])
def test_known_country_without_tax(api, code):
    answer = api.get(f"/api/v1/tarif-plans?country={code}")
    assert answer.status == 200
    assert answer.json["country"] == code
    basic = by_slug(answer.json)["basic"]
    assert basic["net_price"] == "9.99"
    assert basic["gross_price"] == "9.99"
    assert basic["tax_amount"] == "0.00"
    assert basic["tax_rate"] == "0.00"
    assert basic["tax_inclusive"] is False


def test_currency_and_country_together(api):
    answer = api.get("/api/v1/tarif-plans?currency=usd&country=de")
    assert (answer.json["currency"], answer.json["country"]) == ("USD", "DE")
    basic = by_slug(answer.json)["basic"]
    assert basic["display_price"] == 10.79
    assert (basic["net_price"], basic["tax_amount"], basic["gross_price"]) == ("10.79", "2.05", "12.84")


def test_tax_amounts_use_the_display_currency_places(api):
    basic = by_slug(api.get("/api/v1/tarif-plans?currency=JPY&country=DE").json)["basic"]
    assert basic["display_price"] == 1598
    assert (basic["net_price"], basic["tax_amount"], basic["gross_price"]) == ("1598", "304", "1902")


@pytest.mark.parametrize("code", ["XX", "xx", "ZZ"])
def test_unknown_country_is_400(api, code):
    assert_error(api.get(f"/api/v1/tarif-plans?country={code}"), 400, {"error": f"Unknown country: {code.upper()}"})


# --- category ---------------------------------------------------------------------------------------------------------


def test_category_root_filters_plans(api):
    answer = api.get("/api/v1/tarif-plans?category=root")
    assert answer.status == 200
    expected = [slug for slug, *_rest, categories, _sort in ACTIVE_PLANS if ROOT in categories]
    assert [plan["slug"] for plan in answer.json["plans"]] == expected
    assert answer.json["total"] == 10


def test_category_subscription_plans(api):
    answer = api.get("/api/v1/tarif-plans?category=subscription-plans")
    assert [plan["slug"] for plan in answer.json["plans"]] == ["starter", "professional"]
    assert answer.json["currency"] == "EUR"
    assert answer.json["country"] is None


def test_category_without_plans_gives_an_empty_list(api):
    answer = api.get("/api/v1/tarif-plans?category=backend")
    assert answer.status == 200
    assert answer.json["plans"] == []
    assert answer.json["total"] == 0


def test_category_combines_with_currency_and_country(api):
    answer = api.get("/api/v1/tarif-plans?category=subscription-plans&currency=USD&country=DE")
    starter = by_slug(answer.json)["starter"]
    assert starter["display_price"] == 5.39  # 4.99 × 1.08 = 5.3892
    assert (starter["net_price"], starter["tax_amount"], starter["gross_price"]) == ("5.39", "1.02", "6.41")


def test_unknown_category_is_404(api):
    assert_error(api.get("/api/v1/tarif-plans?category=nope"), 404, {"error": "Category 'nope' not found"})


# --- GET /api/v1/tarif-plans/<slug_or_id> -----------------------------------------------------------------------------


def test_plan_by_slug_is_the_flat_listing_entry(api):
    answer = api.get("/api/v1/tarif-plans/basic")
    assert answer.status == 200
    listed = by_slug(api.get("/api/v1/tarif-plans").json)["basic"]
    assert answer.json == listed
    assert set(answer.json) == LISTING_KEYS


def test_plan_by_id(api):
    answer = api.get(f"/api/v1/tarif-plans/{seed_id('plan', 'pro')}")
    assert answer.status == 200
    assert answer.json["slug"] == "pro"
    assert answer.json["price"]["price_decimal"] == "29.99"
    assert answer.json["display_price"] == 29.99


def test_plan_by_upper_case_id(api):
    answer = api.get(f"/api/v1/tarif-plans/{seed_id('plan', 'basic').upper()}")
    assert answer.status == 200
    assert answer.json["id"] == seed_id("plan", "basic")


def test_plan_trailing_slash(api):
    answer = api.get("/api/v1/tarif-plans/basic/")
    assert answer.status == 200
    assert answer.json["slug"] == "basic"


def test_inactive_plan_is_returned(api):
    answer = api.get("/api/v1/tarif-plans/legacy-plan")
    assert answer.status == 200
    assert without_stamps(answer.json) == {
        "id": seed_id("plan", "legacy-plan"),
        "name": "Legacy Plan",
        "slug": "legacy-plan",
        "description": answer.json["description"],
        "price_float": 14.99,
        "price": {"price_decimal": "14.99", "price_float": 14.99, "currency_code": "EUR", "currency_symbol": "€"},
        "currency": "EUR",
        "billing_period": "MONTHLY",
        "features": {"default_tokens": 0},
        "trial_days": 0,
        "is_active": False,
        "is_recurring": True,
        "sort_order": 100,
        "categories": [],
        "display_currency": "EUR",
        "display_price": 14.99,
    }


def test_one_time_plan_is_not_recurring(api):
    lifetime = api.get("/api/v1/tarif-plans/lifetime").json
    assert lifetime["billing_period"] == "ONE_TIME"
    assert lifetime["is_recurring"] is False
    assert lifetime["categories"] == []


def test_plan_with_currency_and_country(api):
    answer = api.get("/api/v1/tarif-plans/legacy-plan?currency=jpy&country=th")
    assert answer.status == 200
    plan = answer.json
    assert set(plan) == LISTING_KEYS | TAX_KEYS
    assert plan["display_currency"] == "JPY"
    assert plan["display_price"] == 2398  # 14.99 × 160 = 2398.4
    assert (plan["net_price"], plan["tax_amount"], plan["gross_price"]) == ("2241", "157", "2398")
    assert (plan["tax_rate"], plan["tax_inclusive"]) == ("7.00", True)


def test_plan_with_country_de(api):
    plan = api.get("/api/v1/tarif-plans/basic?country=DE").json
    assert (plan["net_price"], plan["tax_amount"], plan["gross_price"]) == ("9.99", "1.90", "11.89")
    assert (plan["tax_rate"], plan["tax_inclusive"]) == ("19.00", False)


@pytest.mark.parametrize("ref", ["nope", "00000000-0000-4000-8000-000000000000", "BASIC-X"])
def test_unknown_plan_is_404(api, ref):
    assert_error(api.get(f"/api/v1/tarif-plans/{ref}"), 404, {"error": "Plan not found"})


def test_unknown_currency_on_a_plan_carries_the_plan(api):
    assert_error(
        api.get("/api/v1/tarif-plans/basic?currency=xxx"),
        400,
        {
            "error": "Unknown currency: XXX",
            "plan": {"id": seed_id("plan", "basic"), "name": "Basic", "slug": "basic", "price": "9.99"},
        },
    )


def test_unknown_currency_on_a_plan_by_id(api):
    answer = api.get(f"/api/v1/tarif-plans/{seed_id('plan', 'basic-usd')}?currency=ABC")
    assert_error(
        answer,
        400,
        {
            "error": "Unknown currency: ABC",
            "plan": {"id": seed_id("plan", "basic-usd"), "name": "Basic (USD)", "slug": "basic-usd", "price": "10.99"},
        },
    )


def test_unknown_country_on_a_plan(api):
    assert_error(api.get("/api/v1/tarif-plans/basic?country=xx"), 400, {"error": "Unknown country: XX"})
