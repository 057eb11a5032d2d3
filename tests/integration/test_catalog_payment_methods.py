"""Public payment methods (contract catalog.md §2.9, §4.12; seed-data.md §9, §10).

Which provider methods are listed depends on the environment (provider keys, stage, SANDBOX_ENABLED); tests set it
with `env(...)`, which reloads the settings and restores them afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chalicelib.core.config import reload_settings
from chalicelib.core.ids import seed_id
from chalicelib.plugins.registry import forget_cached_states

PUBLIC_KEYS = {
    "id",
    "code",
    "name",
    "description",
    "short_description",
    "icon",
    "is_default",
    "is_active",
    "position",
    "fee_type",
    "fee_amount",
    "fee_charged_to",
    "instructions",
}
PRIVATE_KEYS = {"plugin_id", "min_amount", "max_amount", "currencies", "countries", "config"}
PROVIDER_ENV = (
    "STRIPE_SECRET_KEY",
    "STRIPE_TEST_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_TEST_WEBHOOK_SECRET",
    "PAYPAL_CLIENT_ID",
    "PAYPAL_TEST_CLIENT_ID",
    "PAYPAL_CLIENT_SECRET",
    "PAYPAL_TEST_CLIENT_SECRET",
    "YOOKASSA_SHOP_ID",
    "YOOKASSA_SECRET_KEY",
    "SANDBOX_ENABLED",
)
INVOICE_INSTRUCTIONS = "Please transfer the amount within 30 days quoting the invoice number."
STRIPE_KEYS = {"STRIPE_TEST_SECRET_KEY": "sk_test_123", "STRIPE_TEST_WEBHOOK_SECRET": "whsec_test_123"}
PAYPAL_KEYS = {"PAYPAL_TEST_CLIENT_ID": "paypal-client", "PAYPAL_TEST_CLIENT_SECRET": "paypal-secret"}
# The emulated resources were created with the local stage's names; another stage reuses them.
SAME_RESOURCES = {"VBWD_RESOURCE_PREFIX": "vbwd-local"}
DEPLOYED_SECRETS = {
    "JWT_SECRET": "a-production-jwt-secret-of-at-least-32-bytes",
    "PAYMENT_WEBHOOK_SECRETS": "whsec_prod_webhook_secret",
}


def codes(answer: Any) -> list[str]:
    return [method["code"] for method in answer.json["methods"]]


def assert_error(answer: Any, status: int, message: str) -> None:
    assert answer.status == status
    assert answer.json == {"error": message}
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["x-request-id"]


def refresh() -> None:
    reload_settings()
    forget_cached_states()


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """A local stage without provider keys; `env(NAME=value, …)` changes it for one test."""
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    refresh()

    def setenv(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        refresh()

    yield setenv
    monkeypatch.undo()
    refresh()


# --- the list ---------------------------------------------------------------------------------------------------------


def test_fresh_local_stack_lists_invoice_and_sandbox(api):
    answer = api.get("/api/v1/settings/payment-methods")
    assert answer.status == 200
    assert codes(answer) == ["invoice", "sandbox"]
    assert answer.json["total"] == 2


def test_invoice_method_public_form(api):
    invoice = api.get("/api/v1/settings/payment-methods").json["methods"][0]
    assert invoice == {
        "id": seed_id("payment_method", "invoice"),
        "code": "invoice",
        "name": "Invoice",
        "description": invoice["description"],
        "short_description": "Bank transfer",
        "icon": invoice["icon"],
        "is_default": True,
        "is_active": True,
        "position": 0,
        "fee_type": "none",
        "fee_amount": "0.0000",
        "fee_charged_to": "customer",
        "instructions": INVOICE_INSTRUCTIONS,
    }


def test_sandbox_method_public_form(api):
    sandbox = api.get("/api/v1/settings/payment-methods").json["methods"][1]
    assert set(sandbox) == PUBLIC_KEYS
    assert sandbox["id"] == seed_id("payment_method", "sandbox")
    assert sandbox["name"] == "Sandbox (test payments)"
    assert sandbox["short_description"] == "Instant test payment"
    assert (sandbox["is_default"], sandbox["is_active"], sandbox["position"]) == (False, True, 1)
    assert (sandbox["fee_type"], sandbox["fee_amount"], sandbox["fee_charged_to"]) == ("none", "0.0000", "customer")


def test_public_form_never_has_private_keys(api, env):
    env(**STRIPE_KEYS, **PAYPAL_KEYS)
    methods = api.get("/api/v1/settings/payment-methods").json["methods"]
    assert len(methods) == 4
    for method in methods:
        assert set(method) == PUBLIC_KEYS
        assert not PRIVATE_KEYS & set(method)


def test_trailing_slash(api):
    answer = api.get("/api/v1/settings/payment-methods/")
    assert answer.status == 200
    assert codes(answer) == ["invoice", "sandbox"]


# --- locale -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["de", "de-AT", "de_AT"])
def test_german_locale_translates_invoice(api, locale):
    invoice = api.get(f"/api/v1/settings/payment-methods?locale={locale}").json["methods"][0]
    assert invoice["code"] == "invoice"
    assert invoice["name"] == "Rechnung"
    assert invoice["description"] == "Zahlung per Rechnung"
    # untranslated fields keep their base text
    assert invoice["short_description"] == "Bank transfer"
    assert invoice["instructions"] == INVOICE_INSTRUCTIONS


def test_german_locale_leaves_untranslated_methods(api):
    sandbox = api.get("/api/v1/settings/payment-methods?locale=de").json["methods"][1]
    assert sandbox["name"] == "Sandbox (test payments)"


@pytest.mark.parametrize("locale", ["fr", "en", "xx-YY"])
def test_locale_without_translation_keeps_base_text(api, locale):
    invoice = api.get(f"/api/v1/settings/payment-methods?locale={locale}").json["methods"][0]
    assert (invoice["name"], invoice["short_description"]) == ("Invoice", "Bank transfer")


def test_german_locale_translates_stripe(api, env):
    env(**STRIPE_KEYS)
    methods = {m["code"]: m for m in api.get("/api/v1/settings/payment-methods?locale=de").json["methods"]}
    assert methods["stripe"]["name"] == "Kreditkarte"
    assert methods["stripe"]["short_description"] == "Visa, Mastercard, Amex"


# --- filters ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("currency", ["JPY", "jpy", "EUR"])
def test_currency_filter_keeps_methods_for_all_currencies(api, currency):
    assert codes(api.get(f"/api/v1/settings/payment-methods?currency={currency}")) == ["invoice", "sandbox"]


def test_currency_filter_drops_paypal_for_other_currencies(api, env):
    env(**STRIPE_KEYS, **PAYPAL_KEYS)
    assert codes(api.get("/api/v1/settings/payment-methods?currency=usd")) == ["invoice", "sandbox", "stripe", "paypal"]
    assert codes(api.get("/api/v1/settings/payment-methods?currency=GBP")) == ["invoice", "sandbox", "stripe", "paypal"]
    assert codes(api.get("/api/v1/settings/payment-methods?currency=jpy")) == ["invoice", "sandbox", "stripe"]
    assert codes(api.get("/api/v1/settings/payment-methods?currency=THB")) == ["invoice", "sandbox", "stripe"]


@pytest.mark.parametrize("country", ["DE", "th", "US"])
def test_country_filter_keeps_methods_for_all_countries(api, country):
    assert codes(api.get(f"/api/v1/settings/payment-methods?country={country}")) == ["invoice", "sandbox"]


@pytest.mark.parametrize("amount", ["0", "9.99", "100000", "1e3"])
def test_amount_filter_keeps_unbounded_methods(api, amount):
    answer = api.get(f"/api/v1/settings/payment-methods?amount={amount}")
    assert answer.status == 200
    assert codes(answer) == ["invoice", "sandbox"]


@pytest.mark.parametrize("amount", ["abc", "-1", "-0.01", "NaN", "Infinity", "1,5"])
def test_invalid_amount_is_400(api, amount):
    assert_error(api.get(f"/api/v1/settings/payment-methods?amount={amount}"), 400, "Invalid amount")


# --- providers and stages ---------------------------------------------------------------------------------------------


def test_stripe_appears_once_its_keys_are_configured(api, env):
    env(**STRIPE_KEYS)
    answer = api.get("/api/v1/settings/payment-methods")
    assert codes(answer) == ["invoice", "sandbox", "stripe"]
    stripe = answer.json["methods"][2]
    assert (stripe["name"], stripe["short_description"], stripe["position"]) == (
        "Credit Card",
        "Visa, Mastercard, Amex",
        2,
    )


def test_paypal_appears_once_both_keys_are_configured(api, env):
    env(PAYPAL_TEST_CLIENT_ID="paypal-client")
    assert codes(api.get("/api/v1/settings/payment-methods")) == ["invoice", "sandbox"]
    env(PAYPAL_TEST_CLIENT_SECRET="paypal-secret")
    answer = api.get("/api/v1/settings/payment-methods")
    assert codes(answer) == ["invoice", "sandbox", "paypal"]
    assert answer.json["methods"][2]["short_description"] == "Pay with your PayPal account"


def test_yookassa_stays_hidden_while_inactive(api, env):
    env(YOOKASSA_SHOP_ID="shop", YOOKASSA_SECRET_KEY="secret")
    assert "yookassa" not in codes(api.get("/api/v1/settings/payment-methods"))


def test_dev_stage_keeps_sandbox(api, env):
    env(VBWD_STAGE="dev", **SAME_RESOURCES, **DEPLOYED_SECRETS)
    assert codes(api.get("/api/v1/settings/payment-methods")) == ["invoice", "sandbox"]


def test_prod_stage_hides_sandbox(api, env):
    env(VBWD_STAGE="prod", **SAME_RESOURCES, **DEPLOYED_SECRETS)
    assert codes(api.get("/api/v1/settings/payment-methods")) == ["invoice"]
    assert_error(api.get("/api/v1/settings/payment-methods/sandbox"), 404, "Payment method not found")


def test_sandbox_disabled_by_setting(api, env):
    env(SANDBOX_ENABLED="false")
    assert codes(api.get("/api/v1/settings/payment-methods")) == ["invoice"]
    assert_error(api.get("/api/v1/settings/payment-methods/sandbox"), 404, "Payment method not found")


# --- GET /api/v1/settings/payment-methods/<code> ----------------------------------------------------------------------


def test_method_by_code(api):
    answer = api.get("/api/v1/settings/payment-methods/invoice")
    assert answer.status == 200
    assert set(answer.json) == {"method"}
    assert answer.json["method"] == api.get("/api/v1/settings/payment-methods").json["methods"][0]


def test_method_by_code_with_locale(api):
    for locale in ("de", "de-AT"):
        method = api.get(f"/api/v1/settings/payment-methods/invoice?locale={locale}").json["method"]
        assert (method["name"], method["description"]) == ("Rechnung", "Zahlung per Rechnung")


def test_sandbox_by_code(api):
    answer = api.get("/api/v1/settings/payment-methods/sandbox")
    assert answer.status == 200
    assert answer.json["method"]["code"] == "sandbox"
    assert set(answer.json["method"]) == PUBLIC_KEYS


def test_method_trailing_slash(api):
    answer = api.get("/api/v1/settings/payment-methods/invoice/")
    assert answer.status == 200
    assert answer.json["method"]["code"] == "invoice"


@pytest.mark.parametrize("code", ["nope", "yookassa", "stripe", "paypal"])
def test_missing_inactive_or_unlisted_method_is_404(api, code):
    assert_error(api.get(f"/api/v1/settings/payment-methods/{code}"), 404, "Payment method not found")


def test_configured_stripe_by_code(api, env):
    env(**STRIPE_KEYS)
    answer = api.get("/api/v1/settings/payment-methods/stripe?locale=de")
    assert answer.status == 200
    assert answer.json["method"]["name"] == "Kreditkarte"
    assert set(answer.json["method"]) == PUBLIC_KEYS
