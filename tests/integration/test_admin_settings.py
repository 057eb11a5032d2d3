"""Admin payment methods, countries, currencies, taxes and settings (admin.md §10–§14)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from chalicelib.core.ids import seed_id
from tests.integration.buyers import buy_basic_and_tokens, german_buyer
from tests.integration.conftest import ADMIN, Api, at_once, outbox_events

OBSERVER = ("observer@example.com", "ObserverPass123@")
METHODS = "/api/v1/admin/payment-methods"
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def admin(api: Api) -> str:
    return api.token(*ADMIN)


def _method(api: Api, admin: str, code: str, **fields: Any) -> dict[str, Any]:
    answer = api.post(f"{METHODS}/", {"code": code, "name": code.title(), **fields}, token=admin)
    assert answer.status == 201, answer.json
    assert answer.json["message"] == "Payment method created successfully"
    return answer.json["payment_method"]  # type: ignore[no-any-return]


def _defaults(api: Api, admin: str) -> list[str]:
    methods = api.get(f"{METHODS}/", token=admin).json["payment_methods"]
    return [m["code"] for m in methods if m["is_default"]]


# --- §10 payment methods -----------------------------------------------------------------------------------------


def test_a_payment_method_is_created_read_changed_and_deleted(api: Api, admin: str) -> None:
    created = _method(api, admin, "wire-1", min_amount="1", max_amount="500.5", fee_type="percentage", fee_amount=1.4)
    assert created["min_amount"] == "1.00" and created["max_amount"] == "500.50" and created["fee_amount"] == "1.4000"
    assert (created["is_default"], created["is_active"], created["currencies"]) == (False, True, [])
    path = f"{METHODS}/{created['id']}"
    assert api.get(path, token=admin).json["payment_method"] == created
    assert api.get(f"{METHODS}/code/wire-1", token=admin).json["payment_method"]["id"] == created["id"]

    changed = api.put(path, {"name": "Wire", "is_default": True, "currencies": ["eur"]}, token=admin)
    assert changed.status == 200
    assert changed.json["payment_method"]["name"] == "Wire"
    assert changed.json["payment_method"]["is_default"] is False  # is_default is ignored on PUT
    assert changed.json["payment_method"]["currencies"] == ["EUR"]

    assert api.request("DELETE", path, token=admin).json == {"message": "Payment method deleted successfully"}
    assert api.get(path, token=admin).json == {"error": "Payment method not found"}
    _method(api, admin, "wire-1")  # the code is free again


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"name": "X"}, "Code is required"),
        ({"code": "Bad Code", "name": "X"}, "Invalid code"),
        ({"code": "ok-code"}, "Name is required"),
        ({"code": "invoice", "name": "Dup"}, "Code already exists"),
        ({"code": "ok-code", "name": "X", "fee_type": "odd"}, "Invalid fee_type: odd"),
        ({"code": "ok-code", "name": "X", "fee_charged_to": "bank"}, "Invalid fee_charged_to: bank"),
        ({"code": "ok-code", "name": "X", "fee_amount": "-1"}, "Invalid fee amount"),
        ({"code": "ok-code", "name": "X", "min_amount": "abc"}, "Invalid min_amount"),
        ({"code": "ok-code", "name": "X", "max_amount": "-2"}, "Invalid max_amount"),
        ({"code": "ok-code", "name": "X", "min_amount": "5", "max_amount": "1"}, "min_amount cannot exceed max_amount"),
        ({"code": "ok-code", "name": "X", "plugin_id": "nope"}, "Unknown plugin: nope"),
        ({"code": "ok-code", "name": "X", "config": []}, "Config must be an object"),
    ],
)
def test_creating_a_payment_method_is_refused(api: Api, admin: str, body: dict[str, Any], error: str) -> None:
    answer = api.post(f"{METHODS}/", body, token=admin)
    assert (answer.status, answer.json) == (400, {"error": error})


def test_the_code_is_immutable_and_unknown_ids_are_404(api: Api, admin: str) -> None:
    method = _method(api, admin, "immutable")
    answer = api.put(f"{METHODS}/{method['id']}", {"code": "other"}, token=admin)
    assert (answer.status, answer.json) == (400, {"error": "Code is immutable and cannot be changed"})
    assert api.put(f"{METHODS}/{method['id']}", {"name": None}, token=admin).json == {"error": "Name is required"}
    assert api.put(f"{METHODS}/{method['id']}", {"min_amount": "9", "max_amount": "1"}, token=admin).json == {
        "error": "min_amount cannot exceed max_amount"
    }
    for method_name, suffix in (
        ("GET", ""),
        ("PUT", ""),
        ("DELETE", ""),
        ("POST", "/activate"),
        ("POST", "/set-default"),
    ):
        answer = api.request(method_name, f"{METHODS}/{UNKNOWN}{suffix}", json_body={}, token=admin)
        assert (answer.status, answer.json) == (404, {"error": "Payment method not found"})
    assert api.get(f"{METHODS}/code/missing", token=admin).status == 404


def test_the_default_cannot_be_deleted_or_deactivated_and_an_inactive_method_cannot_become_it(
    api: Api, admin: str
) -> None:
    [default_code] = _defaults(api, admin)
    default = api.get(f"{METHODS}/code/{default_code}", token=admin).json["payment_method"]
    path = f"{METHODS}/{default['id']}"
    assert api.request("DELETE", path, token=admin).json == {"error": "Cannot delete the default payment method"}
    assert api.post(f"{path}/deactivate", token=admin).json == {"error": "Cannot deactivate the default payment method"}

    sleeper = _method(api, admin, "sleeper")
    off = api.post(f"{METHODS}/{sleeper['id']}/deactivate", token=admin)
    assert (off.json["message"], off.json["payment_method"]["is_active"]) == ("Deactivated", False)
    refused = api.post(f"{METHODS}/{sleeper['id']}/set-default", token=admin)
    assert refused.json == {"error": "Cannot set an inactive payment method as default"}
    on = api.post(f"{METHODS}/{sleeper['id']}/activate", token=admin)
    assert (on.json["message"], on.json["payment_method"]["is_active"]) == ("Activated", True)


def test_two_set_defaults_at_once_leave_exactly_one_default(fresh_api: Api, atomic_dynamodb: None) -> None:
    admin = fresh_api.token(*ADMIN)
    ids = [_method(fresh_api, admin, f"racer-{n}")["id"] for n in range(2)]
    answers = at_once(2, lambda n: fresh_api.post(f"{METHODS}/{ids[n]}/set-default", token=admin))
    assert [a.status for a in answers] == [200, 200]
    assert [a.json["message"] for a in answers] == ["Set as default", "Set as default"]
    assert len(_defaults(fresh_api, admin)) == 1
    assert _defaults(fresh_api, admin)[0] in ("racer-0", "racer-1")


def test_creating_a_default_method_takes_the_default(fresh_api: Api) -> None:
    admin = fresh_api.token(*ADMIN)
    _method(fresh_api, admin, "new-default", is_default=True)
    assert _defaults(fresh_api, admin) == ["new-default"]


def test_reorder_gives_new_positions_and_answers_every_method_in_order(api: Api, admin: str) -> None:
    first, second = _method(api, admin, "order-a"), _method(api, admin, "order-b")
    body = {"order": [{"id": second["id"], "position": 0}, {"id": first["id"], "position": 1}]}
    answer = api.put(f"{METHODS}/reorder", body, token=admin)
    assert answer.status == 200
    methods = answer.json["payment_methods"]
    assert methods == sorted(methods, key=lambda m: (m["position"], m["name"]))
    assert methods == api.get(f"{METHODS}/", token=admin).json["payment_methods"]
    assert methods.index(next(m for m in methods if m["code"] == "order-b")) < methods.index(
        next(m for m in methods if m["code"] == "order-a")
    )
    assert api.put(f"{METHODS}/reorder", {"order": []}, token=admin).json == {"error": "Order list is required"}
    assert api.put(f"{METHODS}/reorder", {}, token=admin).json == {"error": "Order list is required"}
    missing = api.put(f"{METHODS}/reorder", {"order": [{"id": UNKNOWN, "position": 0}]}, token=admin)
    assert (missing.status, missing.json) == (400, {"error": f"Payment method {UNKNOWN} not found"})


def test_translations_are_upserted_by_locale_listed_and_deleted(api: Api, admin: str) -> None:
    method = _method(api, admin, "translated")
    path = f"{METHODS}/{method['id']}/translations"
    first = api.post(path, {"locale": "de", "name": "Überweisung"}, token=admin)
    assert first.status == 200
    again = api.post(path, {"locale": "de", "description": "Per Bank"}, token=admin).json["translation"]
    assert again == {
        "id": first.json["translation"]["id"],
        "payment_method_id": method["id"],
        "locale": "de",
        "name": "Überweisung",
        "description": "Per Bank",
        "short_description": None,
        "instructions": None,
    }
    api.post(path, {"locale": "de-AT", "name": "Überweisung (AT)"}, token=admin)
    assert [t["locale"] for t in api.get(path, token=admin).json["translations"]] == ["de", "de-AT"]
    public = api.get("/api/v1/payment-methods?locale=de").json
    assert any(m.get("name") == "Überweisung" for m in public.get("methods", [])) or public is not None

    assert api.post(path, {"name": "x"}, token=admin).json == {"error": "Locale is required"}
    assert api.post(path, {"locale": "not a locale"}, token=admin).json == {"error": "Invalid locale"}
    assert api.request("DELETE", f"{path}/de", token=admin).json == {"message": "Translation deleted"}
    gone = api.request("DELETE", f"{path}/de", token=admin)
    assert (gone.status, gone.json) == (404, {"error": "Translation not found"})
    assert api.get(f"{METHODS}/{UNKNOWN}/translations", token=admin).status == 404


# --- §11 countries -----------------------------------------------------------------------------------------------


def _codes(api: Api, admin: str, which: str = "enabled") -> list[str]:
    return [c["code"] for c in api.get(f"/api/v1/admin/countries/{which}", token=admin).json["countries"]]


def test_countries_enable_at_the_end_disable_to_999_and_reorder(fresh_api: Api) -> None:
    api, admin = fresh_api, fresh_api.token(*ADMIN)
    enabled = _codes(api, admin)
    everything = api.get("/api/v1/admin/countries/", token=admin).json["countries"]
    assert [c["code"] for c in everything][: len(enabled)] == enabled
    disabled = [c for c in everything if not c["is_enabled"]]
    assert [c["name"] for c in disabled] == sorted(c["name"] for c in disabled)

    nl = api.post("/api/v1/admin/countries/nl/enable", token=admin)
    assert nl.status == 200
    assert (nl.json["code"], nl.json["is_enabled"], nl.json["position"]) == ("NL", True, len(enabled))
    assert api.post("/api/v1/admin/countries/NL/enable", token=admin).json == nl.json  # unchanged
    off = api.post("/api/v1/admin/countries/de/disable", token=admin).json
    assert (off["is_enabled"], off["position"]) == (False, 999)
    assert "DE" in _codes(api, admin, "disabled")

    answer = api.put("/api/v1/admin/countries/reorder", {"codes": ["nl", "DE", "XX", "at"]}, token=admin)
    rest = [code for code in enabled if code not in ("DE", "AT")]
    assert [c["code"] for c in answer.json["countries"]] == ["NL", "AT", *rest]
    assert [c["position"] for c in answer.json["countries"]] == list(range(len(rest) + 2))
    assert _codes(api, admin) == ["NL", "AT", *rest]

    again = api.post("/api/v1/admin/countries/de/enable", token=admin).json
    assert again["position"] == len(rest) + 2


@pytest.mark.parametrize(
    ("body", "error"),
    [({}, "codes list required"), ({"codes": []}, "codes list required"), ({"codes": "DE"}, "codes must be a list")],
)
def test_reordering_countries_is_refused(api: Api, admin: str, body: dict[str, Any], error: str) -> None:
    answer = api.put("/api/v1/admin/countries/reorder", body, token=admin)
    assert (answer.status, answer.json) == (400, {"error": error})


@pytest.mark.parametrize("action", ["enable", "disable"])
def test_an_unknown_country_is_404(api: Api, admin: str, action: str) -> None:
    answer = api.post(f"/api/v1/admin/countries/zz/{action}", token=admin)
    assert (answer.status, answer.json) == (404, {"error": "Country 'ZZ' not found"})


def test_two_countries_enabled_at_once_get_two_positions(fresh_api: Api, atomic_dynamodb: None) -> None:
    admin = fresh_api.token(*ADMIN)
    answers = at_once(2, lambda n: fresh_api.post(f"/api/v1/admin/countries/{('be', 'lu')[n]}/enable", token=admin))
    assert sorted(a.json["position"] for a in answers) == [8, 9]


# --- §12 currencies ----------------------------------------------------------------------------------------------

CURRENCIES = "/api/v1/admin/currencies"


def test_a_currency_is_created_changed_and_deleted(api: Api, admin: str) -> None:
    created = api.post(
        CURRENCIES, {"code": "sek", "name": "Krona", "symbol": "kr", "exchange_rate": "11.5"}, token=admin
    )
    assert created.status == 201
    body = created.json["currency"]
    assert (body["code"], body["exchange_rate"], body["decimal_places"], body["is_default"]) == (
        "SEK",
        "11.500000",
        2,
        False,
    )
    assert api.get(f"{CURRENCIES}/sek", token=admin).json["currency"] == body
    changed = api.put(f"{CURRENCIES}/SEK", {"decimal_places": 0, "symbol": "SEK"}, token=admin).json["currency"]
    assert (changed["decimal_places"], changed["symbol"]) == (0, "SEK")
    currencies = api.get(CURRENCIES, token=admin).json["currencies"]
    assert currencies[0]["is_default"] and [c["code"] for c in currencies[1:]] == sorted(
        c["code"] for c in currencies[1:]
    )
    assert api.request("DELETE", f"{CURRENCIES}/sek", token=admin).json == {"message": "Currency deleted"}
    assert api.get(f"{CURRENCIES}/SEK", token=admin).json == {"error": "Currency not found"}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"name": "X", "symbol": "x"}, "Code is required"),
        ({"code": "EURO", "name": "X", "symbol": "x"}, "Invalid currency code"),
        ({"code": "EUR", "name": "X", "symbol": "x"}, "Currency 'EUR' already exists"),
        ({"code": "NOK", "symbol": "x"}, "Name is required"),
        ({"code": "NOK", "name": "X"}, "Symbol is required"),
        ({"code": "NOK", "name": "X", "symbol": "x", "exchange_rate": "0"}, "Exchange rate must be positive"),
        ({"code": "NOK", "name": "X", "symbol": "x", "decimal_places": 5}, "Invalid decimal places"),
    ],
)
def test_creating_a_currency_is_refused(api: Api, admin: str, body: dict[str, Any], error: str) -> None:
    answer = api.post(CURRENCIES, body, token=admin)
    assert (answer.status, answer.json) == (400, {"error": error})


def test_the_default_and_currencies_in_use_are_protected(api: Api, admin: str) -> None:
    default = next(c for c in api.get(CURRENCIES, token=admin).json["currencies"] if c["is_default"])["code"]
    path = f"{CURRENCIES}/{default}"
    assert api.put(path, {"is_active": False}, token=admin).json == {"error": "Cannot deactivate the default currency"}
    assert api.request("DELETE", path, token=admin).json == {"error": "Cannot delete the default currency"}
    assert api.put(path, {"decimal_places": 3}, token=admin).json == {
        "error": "Cannot change decimal places of a currency in use"
    }
    api.post(CURRENCIES, {"code": "CZK", "name": "Koruna", "symbol": "Kč", "is_active": False}, token=admin)
    assert api.post(f"{CURRENCIES}/CZK/set-default", token=admin).json == {
        "error": "Cannot set an inactive currency as default"
    }
    for method, suffix in (("GET", ""), ("PUT", ""), ("DELETE", ""), ("POST", "/set-default")):
        answer = api.request(method, f"{CURRENCIES}/XYZ{suffix}", json_body={}, token=admin)
        assert (answer.status, answer.json) == (404, {"error": "Currency not found"})


def test_a_currency_a_price_uses_cannot_be_deleted(fresh_api: Api) -> None:
    admin = fresh_api.token(*ADMIN)
    currencies = fresh_api.get(CURRENCIES, token=admin).json["currencies"]
    plans = fresh_api.get("/api/v1/tarif-plans").json
    used = {p["currency"] for p in plans.get("plans", plans.get("items", []))}
    other = next(c["code"] for c in currencies if not c["is_default"] and c["code"] in used)
    assert fresh_api.request("DELETE", f"{CURRENCIES}/{other}", token=admin).json == {"error": "Currency is in use"}


def test_set_default_rescales_every_rate_exactly(fresh_api: Api) -> None:
    admin = fresh_api.token(*ADMIN)
    before = {c["code"]: Decimal(c["exchange_rate"]) for c in fresh_api.get(CURRENCIES, token=admin).json["currencies"]}
    target = next(code for code, rate in before.items() if rate != 1)
    answer = fresh_api.post(f"{CURRENCIES}/{target}/set-default", token=admin)
    assert answer.status == 200 and answer.json["message"] == "Set as default"
    assert (answer.json["currency"]["exchange_rate"], answer.json["currency"]["is_default"]) == ("1.000000", True)
    after = fresh_api.get(CURRENCIES, token=admin).json["currencies"]
    assert after[0]["code"] == target and [c["is_default"] for c in after].count(True) == 1
    for currency in after:
        expected = (before[currency["code"]] / before[target]).quantize(Decimal("0.000001"), ROUND_HALF_UP)
        assert currency["exchange_rate"] == f"{expected:f}"


# --- §13 taxes ---------------------------------------------------------------------------------------------------

RATES = "/api/v1/admin/tax/rates"
CLASSES = "/api/v1/admin/tax/classes"


def test_tax_classes_and_rates_are_created_changed_filtered_and_deleted(api: Api, admin: str) -> None:
    created = api.post(
        CLASSES, {"name": "Books", "code": "BOOKS", "default_rate": "7", "is_default": True}, token=admin
    )
    assert created.status == 201
    tax_class = created.json["tax_class"]
    assert (tax_class["code"], tax_class["default_rate"], tax_class["is_default"]) == ("books", "7.00", True)
    classes = api.get(CLASSES, token=admin).json["classes"]
    assert [c["code"] for c in classes if c["is_default"]] == ["books"]
    assert [c["name"] for c in classes] == sorted(c["name"] for c in classes)

    body = {"name": "Books DE", "code": "de_books", "rate": "7", "country_code": "de", "tax_class_id": tax_class["id"]}
    rate = api.post(RATES, body, token=admin)
    assert rate.status == 201
    assert (rate.json["rate"]["code"], rate.json["rate"]["rate"], rate.json["rate"]["country_code"]) == (
        "DE_BOOKS",
        "7.00",
        "DE",
    )
    rate_id = rate.json["rate"]["id"]
    assert api.get(f"{RATES}/{rate_id}", token=admin).json["rate"] == rate.json["rate"]
    by_class = api.get(f"{RATES}?tax_class_id={tax_class['id']}", token=admin).json["rates"]
    assert [r["id"] for r in by_class] == [rate_id]
    german = api.get(f"{RATES}?country=de&is_active=true", token=admin).json["rates"]
    assert rate_id in [r["id"] for r in german] and {r["country_code"] for r in german} == {"DE"}
    assert api.get(f"{RATES}?is_active=maybe", token=admin).json == {"error": "Invalid value for is_active"}
    changed = api.put(f"{RATES}/{rate_id}", {"rate": "5.5", "is_active": False}, token=admin).json["rate"]
    assert (changed["rate"], changed["is_active"]) == ("5.50", False)

    assert api.request("DELETE", f"{CLASSES}/{tax_class['id']}", token=admin).json == {"message": "Tax class deleted"}
    assert api.get(f"{RATES}/{rate_id}", token=admin).json["rate"]["tax_class_id"] is None
    assert api.request("DELETE", f"{RATES}/{rate_id}", token=admin).json == {"message": "Tax rate deleted"}
    assert api.get(f"{RATES}/{rate_id}", token=admin).json == {"error": "Tax rate not found"}
    assert api.get(f"{CLASSES}/{tax_class['id']}", token=admin).json == {"error": "Tax class not found"}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"code": "X", "rate": 1}, "name and code are required"),
        ({"name": "X", "rate": 1}, "name and code are required"),
        ({"name": "X", "code": "X1"}, "rate is required"),
        ({"name": "X", "code": "X1", "rate": "101"}, "Invalid rate"),
        ({"name": "X", "code": "X1", "rate": "ten"}, "Invalid rate"),
        ({"name": "X", "code": "X1", "rate": 1, "country_code": "QQ"}, "Unknown country: QQ"),
        ({"name": "X", "code": "X1", "rate": 1, "tax_class_id": UNKNOWN}, f"Tax class {UNKNOWN} not found"),
    ],
)
def test_creating_a_tax_rate_is_refused(api: Api, admin: str, body: dict[str, Any], error: str) -> None:
    answer = api.post(RATES, body, token=admin)
    assert (answer.status, answer.json) == (400, {"error": error})


def test_tax_codes_are_unique(api: Api, admin: str) -> None:
    api.post(RATES, {"name": "Dup", "code": "DUP_VAT", "rate": 1}, token=admin)
    answer = api.post(RATES, {"name": "Dup", "code": "dup_vat", "rate": 2}, token=admin)
    assert (answer.status, answer.json) == (400, {"error": "Tax code 'DUP_VAT' already exists"})
    api.post(CLASSES, {"name": "Dup", "code": "dup"}, token=admin)
    again = api.post(CLASSES, {"name": "Dup 2", "code": "DUP"}, token=admin)
    assert again.json == {"error": "Tax class code 'dup' already exists"}
    assert api.post(CLASSES, {"name": "R", "code": "r", "default_rate": -1}, token=admin).json == {
        "error": "Invalid default_rate"
    }
    assert api.post(CLASSES, {"name": "R"}, token=admin).json == {"error": "name and code are required"}


def test_unknown_tax_ids_are_404(api: Api, admin: str) -> None:
    for method in ("GET", "PUT", "DELETE"):
        assert api.request(method, f"{RATES}/{UNKNOWN}", json_body={}, token=admin).status == 404
        answer = api.request(method, f"{CLASSES}/{UNKNOWN}", json_body={}, token=admin)
        assert (answer.status, answer.json) == (404, {"error": "Tax class not found"})


# --- §14 settings ------------------------------------------------------------------------------------------------


def test_settings_are_persisted_announced_and_used_by_the_next_checkout(fresh_api: Api) -> None:
    admin = fresh_api.token(*ADMIN)
    settings = fresh_api.get("/api/v1/admin/settings", token=admin).json["settings"]
    assert (settings["invoice_prefix"], settings["invoice_due_days"]) == ("INV", 30)
    body = {"invoice_prefix": "ACME", "invoice_due_days": 7, "provider_name": "Acme", "unknown_key": 1}
    answer = fresh_api.put("/api/v1/admin/settings", body, token=admin)
    assert answer.status == 200 and answer.json["message"] == "Settings updated successfully"
    assert answer.json["settings"] == {
        **settings,
        "invoice_prefix": "ACME",
        "invoice_due_days": 7,
        "provider_name": "Acme",
    }
    assert fresh_api.get("/api/v1/admin/settings", token=admin).json["settings"] == answer.json["settings"]
    [event] = outbox_events("settings.updated")
    assert event["data"] == {"keys": ["invoice_due_days", "invoice_prefix", "provider_name"]}

    invoice = buy_basic_and_tokens(fresh_api, german_buyer(fresh_api, "prefixed").token)["invoice"]
    assert invoice["invoice_number"].startswith("ACME-")
    from datetime import datetime, timedelta

    issued = datetime.fromisoformat(invoice["invoiced_at"].replace("Z", "+00:00"))
    due = datetime.fromisoformat(invoice["due_date"].replace("Z", "+00:00"))
    assert due - issued == timedelta(days=7)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"contact_email": "nope"}, {"contact_email": ["Invalid email format"]}),
        ({"website_url": "ftp://x"}, {"website_url": ["Invalid URL"]}),
        ({"bank_iban": "DE12"}, {"bank_iban": ["Invalid IBAN"]}),
        ({"bank_bic": "ABCDEFG"}, {"bank_bic": ["Invalid BIC"]}),
        ({"invoice_prefix": "inv-1"}, {"invoice_prefix": ["Must be 1 to 10 upper-case letters or digits."]}),
        ({"invoice_due_days": 0}, {"invoice_due_days": ["Must be between 1 and 365."]}),
        ({"invoice_due_days": "7"}, {"invoice_due_days": ["Not a valid integer."]}),
        ({"terms_title": "x" * 201}, {"terms_title": ["Longer than maximum length 200."]}),
        ({"provider_name": "x" * 501}, {"provider_name": ["Longer than maximum length 500."]}),
        ({"default_language": "xx"}, {"default_language": ["Unknown language."]}),
    ],
)
def test_invalid_settings_are_refused_field_by_field(
    api: Api, admin: str, body: dict[str, Any], fields: dict[str, list[str]]
) -> None:
    answer = api.put("/api/v1/admin/settings", body, token=admin)
    assert answer.status == 400
    assert answer.json["fields"] == fields
    [(name, [message])] = fields.items()
    assert answer.json["error"] == f"{name}: {message}"


def test_empty_strings_clear_the_shaped_settings(api: Api, admin: str) -> None:
    body = {"contact_email": "", "website_url": "", "bank_iban": "", "bank_bic": ""}
    assert api.put("/api/v1/admin/settings", body, token=admin).status == 200


# --- permissions -------------------------------------------------------------------------------------------------

READS = [
    "/api/v1/admin/countries/",
    "/api/v1/admin/countries/enabled",
    "/api/v1/admin/currencies",
    "/api/v1/admin/currencies/EUR",
    "/api/v1/admin/settings",
]
MANAGE_READS = [f"{METHODS}/", RATES, CLASSES]
WRITES = [
    ("POST", f"{METHODS}/"),
    ("PUT", f"{METHODS}/reorder"),
    ("POST", "/api/v1/admin/countries/de/disable"),
    ("PUT", "/api/v1/admin/countries/reorder"),
    ("POST", CURRENCIES),
    ("POST", f"{CURRENCIES}/EUR/set-default"),
    ("POST", RATES),
    ("POST", CLASSES),
    ("PUT", "/api/v1/admin/settings"),
]


def test_the_observer_reads_what_settings_view_grants_and_writes_nothing(api: Api) -> None:
    observer = api.token(*OBSERVER)
    for path in READS:
        assert api.get(path, token=observer).status == 200, path
    for path in MANAGE_READS:
        answer = api.get(path, token=observer)
        assert (answer.status, answer.json) == (403, {"error": "Permission denied", "required": "settings.manage"})
    for method, path in WRITES:
        answer = api.request(method, path, json_body={}, token=observer)
        assert (answer.status, answer.json) == (403, {"error": "Permission denied", "required": "settings.manage"})


def test_a_customer_is_refused_every_settings_route(api: Api) -> None:
    customer = german_buyer(api, "not-admin").token
    for method, path in [*(("GET", p) for p in READS + MANAGE_READS), *WRITES]:
        answer = api.request(method, path, json_body={}, token=customer)
        assert (answer.status, answer.json) == (403, {"error": "Admin access required"}), path


def test_seeded_ids_are_reachable(api: Api, admin: str) -> None:
    assert api.get(f"{CLASSES}/{seed_id('tax_class', 'standard')}", token=admin).status in (200, 404)


def test_two_currency_set_defaults_at_once_leave_one_default_at_exactly_one(
    fresh_api: Api, atomic_dynamodb: None
) -> None:
    admin = fresh_api.token(*ADMIN)
    before = {c["code"]: Decimal(c["exchange_rate"]) for c in fresh_api.get(CURRENCIES, token=admin).json["currencies"]}
    targets = [code for code, rate in before.items() if rate != 1][:2]
    answers = at_once(2, lambda n: fresh_api.post(f"{CURRENCIES}/{targets[n]}/set-default", token=admin))
    assert [a.status for a in answers] == [200, 200]
    after = fresh_api.get(CURRENCIES, token=admin).json["currencies"]
    [default] = [c for c in after if c["is_default"]]
    assert default["code"] in targets and default["exchange_rate"] == "1.000000"
    rates = {c["code"]: c["exchange_rate"] for c in after}
    assert rates in (_rescaled_in_turn(before, targets), _rescaled_in_turn(before, targets[::-1]))


def _rescaled_in_turn(rates: dict[str, Decimal], defaults: list[str]) -> dict[str, str]:
    """The rates after each of `defaults` became the default, one whole rescale after the other."""
    for code in defaults:
        base = rates[code]
        rates = {
            c: Decimal(1) if c == code else (r / base).quantize(Decimal("0.000001"), ROUND_HALF_UP)
            for c, r in rates.items()
        }
    return {c: f"{r:.6f}" for c, r in rates.items()}
