"""Catalog reads after the stored state changes: plugins, inactive records, ordering ties, settings.

Each test gets a seeded account of its own (`fresh_api`) and changes records directly in the store, the way an
admin write would leave them (contract catalog.md §4, README §1.1 plugins).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.catalog.models import (
    AddonItem,
    CategoryItem,
    CountryItem,
    CurrencyItem,
    PaymentMethodItem,
    PlanItem,
    TaxItem,
    TokenBundleItem,
)
from chalicelib.core.config import reload_settings
from chalicelib.core.ids import seed_id
from chalicelib.plugins.registry import forget_cached_states
from tests.contract import BASIC, EXTRA_STORAGE, INVOICE_METHOD, PLUGIN_NOT_ENABLED, PRO, TOKENS_100
from tests.integration.buyers import change, change_settings, set_plugin

PLUGIN_ROUTES = [
    "/api/v1/tarif-plans",
    "/api/v1/tarif-plans/",
    "/api/v1/tarif-plans/basic",
    f"/api/v1/tarif-plans/{BASIC}",
    "/api/v1/tarif-plan-categories",
    "/api/v1/addons",
    "/api/v1/addons/",
    f"/api/v1/addons/{EXTRA_STORAGE}",
]
CORE_ROUTES = [
    "/",
    "/api/v1/health",
    "/api/v1/settings/currencies",
    "/api/v1/settings/taxes",
    "/api/v1/token-bundles/",
    f"/api/v1/token-bundles/{TOKENS_100}",
    "/api/v1/settings/countries",
    "/api/v1/settings/terms",
    "/api/v1/settings/payment-methods",
    "/api/v1/settings/payment-methods/invoice",
    "/api/v1/config/languages",
]
STRIPE_KEYS = {"STRIPE_TEST_SECRET_KEY": "sk_test_123", "STRIPE_TEST_WEBHOOK_SECRET": "whsec_test_123"}
PAYPAL_KEYS = {"PAYPAL_TEST_CLIENT_ID": "paypal-client", "PAYPAL_TEST_CLIENT_SECRET": "paypal-secret"}
PROVIDER_ENV = (
    *STRIPE_KEYS,
    *PAYPAL_KEYS,
    "STRIPE_SECRET_KEY",
    "PAYPAL_CLIENT_ID",
    "PAYPAL_CLIENT_SECRET",
    "SANDBOX_ENABLED",
)


def slugs(answer: Any, key: str = "plans") -> list[str]:
    assert answer.status == 200, answer.json
    return [entry["slug"] for entry in answer.json[key]]


def assert_error(answer: Any, status: int, body: dict[str, Any]) -> None:
    assert answer.status == status
    assert answer.json == body
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["x-request-id"]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    reload_settings()
    forget_cached_states()

    def setenv(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        reload_settings()
        forget_cached_states()

    yield setenv
    monkeypatch.undo()
    reload_settings()
    forget_cached_states()


# --- the subscription plugin ------------------------------------------------------------------------------------------


def test_disabled_subscription_plugin_hides_its_routes(fresh_api):
    set_plugin("subscription", False)
    for path in PLUGIN_ROUTES:
        assert_error(fresh_api.get(path), 404, PLUGIN_NOT_ENABLED)


def test_disabled_subscription_plugin_leaves_core_routes(fresh_api):
    set_plugin("subscription", False)
    for path in CORE_ROUTES:
        assert fresh_api.get(path).status == 200, path


def test_plugin_gate_comes_before_parameter_errors(fresh_api):
    set_plugin("subscription", False)
    assert_error(fresh_api.get("/api/v1/tarif-plans?currency=XXX"), 404, PLUGIN_NOT_ENABLED)
    assert_error(fresh_api.get("/api/v1/addons?plan_id=garbage"), 404, PLUGIN_NOT_ENABLED)


def test_disabled_subscription_plugin_hides_addons_from_subscribers(fresh_api):
    token = fresh_api.token("user.pro@demo.local", "DemoPass123!")
    set_plugin("subscription", False)
    assert_error(fresh_api.get("/api/v1/addons", token=token), 404, PLUGIN_NOT_ENABLED)


def test_re_enabled_subscription_plugin_answers_again(fresh_api):
    set_plugin("subscription", False)
    assert fresh_api.get("/api/v1/tarif-plans").status == 404
    set_plugin("subscription", True)
    assert fresh_api.get("/api/v1/tarif-plans").status == 200


# --- payment-method providers -----------------------------------------------------------------------------------------


def test_disabled_sandbox_plugin_hides_sandbox(fresh_api, env):
    set_plugin("sandbox", False)
    assert [m["code"] for m in fresh_api.get("/api/v1/settings/payment-methods").json["methods"]] == ["invoice"]
    assert_error(fresh_api.get("/api/v1/settings/payment-methods/sandbox"), 404, {"error": "Payment method not found"})


def test_configured_stripe_disappears_when_its_plugin_is_disabled(fresh_api, env):
    env(**STRIPE_KEYS, **PAYPAL_KEYS)
    methods = fresh_api.get("/api/v1/settings/payment-methods").json["methods"]
    assert [m["code"] for m in methods] == ["invoice", "sandbox", "stripe", "paypal"]
    set_plugin("stripe", False)
    methods = fresh_api.get("/api/v1/settings/payment-methods").json["methods"]
    assert [m["code"] for m in methods] == ["invoice", "sandbox", "paypal"]
    assert_error(fresh_api.get("/api/v1/settings/payment-methods/stripe"), 404, {"error": "Payment method not found"})


def test_configured_paypal_disappears_when_its_plugin_is_disabled(fresh_api, env):
    env(**PAYPAL_KEYS)
    set_plugin("paypal", False)
    methods = fresh_api.get("/api/v1/settings/payment-methods").json["methods"]
    assert [m["code"] for m in methods] == ["invoice", "sandbox"]
    assert_error(fresh_api.get("/api/v1/settings/payment-methods/paypal"), 404, {"error": "Payment method not found"})


def test_inactive_method_is_hidden(fresh_api, env):
    change(PaymentMethodItem, *PaymentMethodItem.key(INVOICE_METHOD), is_active=False)
    assert [m["code"] for m in fresh_api.get("/api/v1/settings/payment-methods").json["methods"]] == ["sandbox"]
    assert_error(fresh_api.get("/api/v1/settings/payment-methods/invoice"), 404, {"error": "Payment method not found"})


def test_methods_ordered_by_position_then_name(fresh_api, env):
    env(**STRIPE_KEYS)
    change(PaymentMethodItem, *PaymentMethodItem.key(INVOICE_METHOD), position=2)
    methods = fresh_api.get("/api/v1/settings/payment-methods").json["methods"]
    # sandbox (1), then position 2: "Credit Card" (stripe) before "Invoice"
    assert [m["code"] for m in methods] == ["sandbox", "stripe", "invoice"]
    assert methods[2]["position"] == 2


def test_country_filter_uses_the_method_countries(fresh_api, env):
    change(PaymentMethodItem, *PaymentMethodItem.key(INVOICE_METHOD), countries=["DE", "AT"])
    base = "/api/v1/settings/payment-methods"
    assert [m["code"] for m in fresh_api.get(f"{base}?country=DE").json["methods"]] == ["invoice", "sandbox"]
    assert [m["code"] for m in fresh_api.get(f"{base}?country=at").json["methods"]] == ["invoice", "sandbox"]
    assert [m["code"] for m in fresh_api.get(f"{base}?country=FR").json["methods"]] == ["sandbox"]
    assert [m["code"] for m in fresh_api.get(base).json["methods"]] == ["invoice", "sandbox"]


def test_currency_filter_uses_the_method_currencies(fresh_api, env):
    change(PaymentMethodItem, *PaymentMethodItem.key(INVOICE_METHOD), currencies=["EUR"])
    base = "/api/v1/settings/payment-methods"
    assert [m["code"] for m in fresh_api.get(f"{base}?currency=eur").json["methods"]] == ["invoice", "sandbox"]
    assert [m["code"] for m in fresh_api.get(f"{base}?currency=USD").json["methods"]] == ["sandbox"]


@pytest.mark.parametrize(
    ("locale", "name", "description"),
    [
        ("de-AT", "Rechnung (AT)", "Zahlung per Rechnung (AT)"),
        ("de-CH", "Rechnung", "Zahlung per Rechnung"),
        ("de", "Rechnung", "Zahlung per Rechnung"),
    ],
)
def test_exact_locale_wins_over_its_language(fresh_api, env, locale, name, description):
    translations = {
        "de": {"name": "Rechnung", "description": "Zahlung per Rechnung"},
        "de-AT": {"name": "Rechnung (AT)", "description": "Zahlung per Rechnung (AT)"},
    }
    change(PaymentMethodItem, *PaymentMethodItem.key(INVOICE_METHOD), translations=translations)
    method = fresh_api.get(f"/api/v1/settings/payment-methods/invoice?locale={locale}").json["method"]
    assert (method["name"], method["description"]) == (name, description)
    listed = fresh_api.get(f"/api/v1/settings/payment-methods?locale={locale}").json["methods"][0]
    assert (listed["name"], listed["description"]) == (name, description)


@pytest.mark.parametrize(
    ("amount", "listed"),
    [("9.99", False), ("10", True), ("10.00", True), ("55.5", True), ("100", True), ("100.01", False)],
)
def test_amount_filter_uses_the_method_bounds(fresh_api, env, amount, listed):
    from decimal import Decimal

    change(
        PaymentMethodItem,
        *PaymentMethodItem.key(INVOICE_METHOD),
        min_amount=Decimal("10.00"),
        max_amount=Decimal("100.00"),
    )
    methods = fresh_api.get(f"/api/v1/settings/payment-methods?amount={amount}").json["methods"]
    assert [m["code"] for m in methods] == (["invoice", "sandbox"] if listed else ["sandbox"])
    # bounds never leak into the public form
    for method in methods:
        assert "min_amount" not in method
        assert "max_amount" not in method


# --- currencies and taxes ---------------------------------------------------------------------------------------------


def test_inactive_currency_is_not_listed_and_not_accepted(fresh_api):
    change(CurrencyItem, *CurrencyItem.key("GBP"), is_active=False)
    codes = [c["code"] for c in fresh_api.get("/api/v1/settings/currencies").json["currencies"]]
    assert codes == ["EUR", "CHF", "JPY", "THB", "USD"]
    assert_error(fresh_api.get("/api/v1/tarif-plans?currency=GBP"), 400, {"error": "Unknown currency: GBP"})
    assert_error(
        fresh_api.get("/api/v1/tarif-plans/basic?currency=gbp"),
        400,
        {
            "error": "Unknown currency: GBP",
            "plan": {"id": BASIC, "name": "Basic", "slug": "basic", "price": "9.99"},
        },
    )


def test_changed_exchange_rate_changes_display_prices(fresh_api):
    from decimal import Decimal

    change(CurrencyItem, *CurrencyItem.key("USD"), exchange_rate=Decimal("1.5"))
    usd = fresh_api.get("/api/v1/settings/currencies").json["currencies"][-1]
    assert usd["exchange_rate"] == "1.500000"
    basic = fresh_api.get("/api/v1/tarif-plans/basic?currency=USD").json
    assert basic["display_price"] == 14.99  # 9.99 × 1.5 = 14.985 → 14.99 (ROUND_HALF_UP)


def test_inactive_tax_is_not_listed_and_not_applied(fresh_api):
    change(TaxItem, *TaxItem.key(seed_id("tax", "VAT_AT")), is_active=False)
    assert fresh_api.get("/api/v1/settings/taxes?country=AT").json["taxes"] == []
    codes = [t["code"] for t in fresh_api.get("/api/v1/settings/taxes").json["taxes"]]
    assert "VAT_AT" not in codes
    assert len(codes) == 8
    basic = fresh_api.get("/api/v1/tarif-plans/basic?country=AT").json
    assert (basic["net_price"], basic["tax_amount"], basic["gross_price"]) == ("9.99", "0.00", "9.99")
    assert (basic["tax_rate"], basic["tax_inclusive"]) == ("0.00", False)


# --- countries --------------------------------------------------------------------------------------------------------


def test_countries_follow_enabled_state_and_position_then_name(fresh_api):
    change(CountryItem, *CountryItem.key("FR"), is_enabled=False)
    change(CountryItem, *CountryItem.key("JP"), is_enabled=True, position=1)
    countries = fresh_api.get("/api/v1/settings/countries").json["countries"]
    # JP shares position 1 with AT: "Austria" before "Japan"
    assert [c["code"] for c in countries] == ["DE", "AT", "JP", "CH", "IT", "ES", "PL", "TH"]
    assert countries[2] == {"code": "JP", "name": "Japan"}


# --- plans and categories ---------------------------------------------------------------------------------------------


def test_plans_with_equal_sort_order_are_ordered_by_name(fresh_api):
    change(PlanItem, *PlanItem.key(PRO), sort_order=1)
    assert slugs(fresh_api.get("/api/v1/tarif-plans"))[:4] == ["free", "basic", "pro", "enterprise"]
    assert slugs(fresh_api.get("/api/v1/tarif-plans?category=root"))[:3] == ["free", "basic", "pro"]


def test_deactivated_plan_leaves_the_listing_and_the_counts(fresh_api):
    change(PlanItem, *PlanItem.key(BASIC), is_active=False)
    assert "basic" not in slugs(fresh_api.get("/api/v1/tarif-plans"))
    assert fresh_api.get("/api/v1/tarif-plans").json["total"] == 12
    flat = fresh_api.get("/api/v1/tarif-plan-categories?format=flat").json["categories"]
    assert {c["slug"]: c["plan_count"] for c in flat}["root"] == 9
    tree = fresh_api.get("/api/v1/tarif-plan-categories").json["categories"]
    assert tree[0]["plan_count"] == 9
    detail = fresh_api.get("/api/v1/tarif-plans/basic")
    assert detail.status == 200
    assert detail.json["is_active"] is False


def test_inactive_plan_in_a_category_is_not_counted_nor_filtered_in(fresh_api):
    category = seed_id("category", "subscription-plans")
    change(PlanItem, *PlanItem.key(seed_id("plan", "legacy-plan")), category_ids=[category])
    assert slugs(fresh_api.get("/api/v1/tarif-plans?category=subscription-plans")) == ["starter", "professional"]
    flat = fresh_api.get("/api/v1/tarif-plan-categories?format=flat").json["categories"]
    assert {c["slug"]: c["plan_count"] for c in flat}["subscription-plans"] == 2
    legacy = fresh_api.get("/api/v1/tarif-plans/legacy-plan").json
    assert legacy["categories"] == [
        {"id": category, "name": "Subscription plans", "slug": "subscription-plans", "is_single": True}
    ]


def test_plan_in_two_categories_lists_both(fresh_api):
    root, single = seed_id("category", "root"), seed_id("category", "subscription-plans")
    change(PlanItem, *PlanItem.key(BASIC), category_ids=[root, single])
    assert slugs(fresh_api.get("/api/v1/tarif-plans?category=subscription-plans")) == [
        "basic",
        "starter",
        "professional",
    ]
    assert [c["slug"] for c in fresh_api.get("/api/v1/tarif-plans/basic").json["categories"]] == [
        "root",
        "subscription-plans",
    ]


def test_category_children_ordered_by_sort_order_then_name(fresh_api):
    change(CategoryItem, *CategoryItem.key(seed_id("category", "payments")), sort_order=3)
    root = fresh_api.get("/api/v1/tarif-plan-categories").json["categories"][0]
    # payments and fe-user share 3: "Payments" before "User frontend"
    assert [c["slug"] for c in root["children"]] == ["backend", "fe-admin", "payments", "fe-user"]
    flat = fresh_api.get("/api/v1/tarif-plan-categories?format=flat").json["categories"]
    assert [c["slug"] for c in flat] == ["root", "backend", "fe-admin", "payments", "fe-user", "subscription-plans"]


def test_nested_sub_category_appears_under_its_parent(fresh_api):
    change(CategoryItem, *CategoryItem.key(seed_id("category", "payments")), parent_id=seed_id("category", "backend"))
    root = fresh_api.get("/api/v1/tarif-plan-categories").json["categories"][0]
    backend = root["children"][0]
    assert [c["slug"] for c in root["children"]] == ["backend", "fe-admin", "fe-user"]
    assert [c["slug"] for c in backend["children"]] == ["payments"]
    assert backend["children"][0]["parent_id"] == backend["id"]
    assert backend["children"][0]["children"] == []


# --- bundles and add-ons ----------------------------------------------------------------------------------------------


def test_bundles_with_equal_sort_order_are_ordered_by_name(fresh_api):
    change(TokenBundleItem, *TokenBundleItem.key(seed_id("bundle", "500 Tokens")), sort_order=0)
    names = [b["name"] for b in fresh_api.get("/api/v1/token-bundles/").json["bundles"]]
    assert names == ["100 Tokens", "500 Tokens", "2000 Tokens"]


def test_deactivated_bundle_is_unlisted_but_readable(fresh_api):
    bundle_id = seed_id("bundle", "500 Tokens")
    change(TokenBundleItem, *TokenBundleItem.key(bundle_id), is_active=False)
    names = [b["name"] for b in fresh_api.get("/api/v1/token-bundles/").json["bundles"]]
    assert names == ["100 Tokens", "2000 Tokens"]
    answer = fresh_api.get(f"/api/v1/token-bundles/{bundle_id}")
    assert answer.status == 200
    assert answer.json["bundle"]["is_active"] is False


def test_addons_with_equal_sort_order_are_ordered_by_name(fresh_api):
    change(AddonItem, *AddonItem.key(seed_id("addon", "extra-seats-yearly")), sort_order=0)
    assert slugs(fresh_api.get("/api/v1/addons"), "addons") == [
        "extra-seats-yearly",
        "extra-storage-50gb",
        "dedicated-onboarding",
    ]


def test_deactivated_addon_is_unlisted_but_readable(fresh_api):
    addon_id = seed_id("addon", "priority-support")
    change(AddonItem, *AddonItem.key(addon_id), is_active=False)
    listed = slugs(fresh_api.get(f"/api/v1/addons?plan_id={seed_id('plan', 'pro')}"), "addons")
    assert listed == ["extra-storage-50gb", "extra-seats-yearly", "dedicated-onboarding"]
    answer = fresh_api.get(f"/api/v1/addons/{addon_id}")
    assert answer.status == 200
    assert answer.json["addon"]["is_active"] is False


# --- settings ---------------------------------------------------------------------------------------------------------


def test_terms_come_from_the_settings(fresh_api):
    change_settings(terms_title="AGB", terms_content="# AGB\n\nBitte lesen.")
    assert fresh_api.get("/api/v1/settings/terms").json == {"title": "AGB", "content": "# AGB\n\nBitte lesen."}


def test_default_language_comes_from_the_settings(fresh_api):
    change_settings(default_language="de")
    answer = fresh_api.get("/api/v1/config/languages")
    assert answer.json["default"] == "de"
    assert len(answer.json["languages"]) == 8


# --- readiness --------------------------------------------------------------------------------------------------------


def test_ready_is_503_without_the_event_bus(fresh_api):
    from chalicelib.core.aws import aws_client
    from chalicelib.core.config import get_settings

    aws_client("events").delete_event_bus(Name=get_settings().event_bus_name)
    answer = fresh_api.get("/api/v1/health/ready")
    assert_error(
        answer,
        503,
        {"error": "Service unavailable", "status": "degraded", "checks": {"dynamodb": "ok", "eventbus": "error"}},
    )
    # liveness does not depend on it
    assert fresh_api.get("/api/v1/health").status == 200


def test_ready_is_503_without_the_catalog_table(fresh_api):
    from chalicelib.store.base import CatalogTable
    from chalicelib.store.connection import client

    client().delete_table(TableName=CatalogTable.Meta.table_name)
    answer = fresh_api.get("/api/v1/health/ready")
    assert_error(
        answer,
        503,
        {"error": "Service unavailable", "status": "degraded", "checks": {"dynamodb": "error", "eventbus": "ok"}},
    )


def test_liveness_does_not_touch_storage(fresh_api):
    from chalicelib.store.base import CatalogTable
    from chalicelib.store.connection import client

    client().delete_table(TableName=CatalogTable.Meta.table_name)
    answer = fresh_api.get("/api/v1/health")
    assert answer.status == 200
    assert answer.json["status"] == "ok"


# --- add-ons by the caller's subscription status (catalog.md §4.9) ----------------------------------------------------


@pytest.mark.parametrize(
    ("status", "sees_pro_addons"),
    [("ACTIVE", True), ("TRIALING", True), ("PAST_DUE", True), ("PAUSED", False), ("CANCELLED", False),
     ("EXPIRED", False)],
)  # fmt: skip
def test_plan_bound_addons_follow_the_subscription_status(fresh_api, status, sees_pro_addons):
    from chalicelib.subscriptions.repository import subscriptions_of

    token = fresh_api.token("user.pro@demo.local", "DemoPass123!")
    (subscription,) = subscriptions_of(seed_id("user", "user.pro@demo.local"))
    subscription.status = status
    subscription.save()
    listed = slugs(fresh_api.get("/api/v1/addons", token=token), "addons")
    if sees_pro_addons:
        assert listed == ["extra-storage-50gb", "priority-support", "extra-seats-yearly", "dedicated-onboarding"]
    else:
        assert listed == ["extra-storage-50gb", "extra-seats-yearly", "dedicated-onboarding"]


# --- the hard cap of whole lists (README §1.11) -----------------------------------------------------------------------


def test_whole_list_is_capped_at_1000_items_with_a_cursor(fresh_api):

    now = datetime.now(UTC)
    with CountryItem.batch_write() as batch:
        for n in range(1005):
            code = f"Z{n:04d}"
            batch.save(
                CountryItem(
                    CountryItem.PK,
                    code,
                    id=code,
                    code=code,
                    name=f"Zone {n:04d}",
                    is_enabled=True,
                    position=500,
                    created_at=now,
                    updated_at=now,
                )
            )
    first = fresh_api.get("/api/v1/settings/countries").json
    assert first["total"] == 1013
    assert len(first["countries"]) == 1000
    assert first["countries"][8] == {"code": "Z0000", "name": "Zone 0000"}
    assert isinstance(first["next_cursor"], str)
    rest = fresh_api.get(f"/api/v1/settings/countries?cursor={first['next_cursor']}").json
    assert [c["code"] for c in rest["countries"]] == [f"Z{n:04d}" for n in range(992, 1005)]
    assert rest["next_cursor"] is None
