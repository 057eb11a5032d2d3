"""Reference data and health (contract catalog.md §4.1, §4.2, §4.6, §4.7, §4.10, §4.11, §4.13; seed-data.md §4–§6)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.config import get_settings

CURRENCIES = [
    {"code": "EUR", "name": "Euro", "symbol": "€", "exchange_rate": "1.000000", "decimal_places": 2,
     "is_default": True},
    {"code": "CHF", "name": "Swiss Franc", "symbol": "CHF", "exchange_rate": "0.940000", "decimal_places": 2,
     "is_default": False},
    {"code": "GBP", "name": "Pound Sterling", "symbol": "£", "exchange_rate": "0.850000", "decimal_places": 2,
     "is_default": False},
    {"code": "JPY", "name": "Japanese Yen", "symbol": "¥", "exchange_rate": "160.000000", "decimal_places": 0,
     "is_default": False},
    {"code": "THB", "name": "Thai Baht", "symbol": "฿", "exchange_rate": "38.500000", "decimal_places": 2,
     "is_default": False},
    {"code": "USD", "name": "US Dollar", "symbol": "$", "exchange_rate": "1.080000", "decimal_places": 2,
     "is_default": False},
]  # fmt: skip


def tax(code: str, name: str, rate: str, country: str, inclusive: bool = False) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "rate": rate,
        "country_code": country,
        "region_code": None,
        "is_inclusive": inclusive,
    }


TAXES = [
    tax("VAT_AT", "VAT Austria", "20.00", "AT"),
    tax("VAT_CH", "VAT Switzerland", "8.10", "CH"),
    tax("VAT_DE", "VAT Germany", "19.00", "DE"),
    tax("VAT_DE_REDUCED", "VAT Germany (reduced)", "7.00", "DE"),
    tax("VAT_ES", "VAT Spain", "21.00", "ES"),
    tax("VAT_FR", "VAT France", "20.00", "FR"),
    tax("VAT_IT", "VAT Italy", "22.00", "IT"),
    tax("VAT_PL", "VAT Poland", "23.00", "PL"),
    tax("VAT_TH", "VAT Thailand", "7.00", "TH", inclusive=True),
]
COUNTRIES = [
    {"code": "DE", "name": "Germany"},
    {"code": "AT", "name": "Austria"},
    {"code": "CH", "name": "Switzerland"},
    {"code": "FR", "name": "France"},
    {"code": "IT", "name": "Italy"},
    {"code": "ES", "name": "Spain"},
    {"code": "PL", "name": "Poland"},
    {"code": "TH", "name": "Thailand"},
]
LANGUAGES = [
    {"code": "en", "name": "English"},
    {"code": "de", "name": "Deutsch"},
    {"code": "ru", "name": "Русский"},
    {"code": "th", "name": "ไทย"},
    {"code": "zh", "name": "中文"},
    {"code": "es", "name": "Español"},
    {"code": "fr", "name": "Français"},
    {"code": "ja", "name": "日本語"},
]


# --- GET / and health -------------------------------------------------------------------------------------------------


def test_root(api):
    answer = api.get("/")
    assert answer.status == 200
    assert answer.json == {"message": "VBWD API", "version": get_settings().service_version, "health": "/api/v1/health"}
    assert answer.json["version"] == "0.1.0"


def test_health(api):
    answer = api.get("/api/v1/health")
    assert answer.status == 200
    version = get_settings().service_version
    assert answer.json == {"status": "ok", "service": "vbwd-api", "version": version, "dynamodb": "moto"}
    assert answer.headers["content-type"].startswith("application/json")


def test_health_ready(api):
    answer = api.get("/api/v1/health/ready")
    assert answer.status == 200
    assert answer.json == {"status": "ok", "checks": {"dynamodb": "ok", "eventbus": "ok"}}


def test_health_ready_degraded_when_the_event_bus_check_fails(api, monkeypatch):
    from chalicelib.health import checks

    def unreachable() -> None:
        raise RuntimeError("event bus down")

    monkeypatch.setattr(checks, "_eventbus", unreachable)
    answer = api.get("/api/v1/health/ready")
    assert answer.status == 503
    assert answer.json == {
        "error": "Service unavailable",
        "status": "degraded",
        "checks": {"dynamodb": "ok", "eventbus": "error"},
    }
    assert answer.headers["x-request-id"]


# --- currencies -------------------------------------------------------------------------------------------------------


def test_currencies(api):
    answer = api.get("/api/v1/settings/currencies")
    assert answer.status == 200
    assert answer.json["currencies"] == CURRENCIES
    assert answer.json["default"] == "EUR"
    assert answer.json["total"] == 6


def test_currencies_default_first_then_by_code(api):
    codes = [c["code"] for c in api.get("/api/v1/settings/currencies").json["currencies"]]
    assert codes[0] == "EUR"
    assert codes[1:] == sorted(codes[1:])
    assert [c["is_default"] for c in api.get("/api/v1/settings/currencies").json["currencies"]].count(True) == 1


def test_currencies_trailing_slash(api):
    answer = api.get("/api/v1/settings/currencies/")
    assert answer.status == 200
    assert answer.json["currencies"] == CURRENCIES


# --- taxes ------------------------------------------------------------------------------------------------------------


def test_taxes_public_form_ordered_by_country_then_code(api):
    answer = api.get("/api/v1/settings/taxes")
    assert answer.status == 200
    assert answer.json["taxes"] == TAXES
    assert answer.json["total"] == 9
    for entry in answer.json["taxes"]:
        assert set(entry) == {"code", "name", "rate", "country_code", "region_code", "is_inclusive"}


@pytest.mark.parametrize("country", ["DE", "de", "De"])
def test_taxes_filtered_by_country_case_insensitively(api, country):
    answer = api.get(f"/api/v1/settings/taxes?country={country}")
    assert answer.status == 200
    assert answer.json["taxes"] == [t for t in TAXES if t["country_code"] == "DE"]
    assert answer.json["total"] == 2


def test_taxes_of_thailand(api):
    assert api.get("/api/v1/settings/taxes?country=th").json["taxes"] == [TAXES[-1]]


def test_taxes_of_a_country_without_tax(api):
    answer = api.get("/api/v1/settings/taxes?country=US")
    assert answer.status == 200
    assert answer.json["taxes"] == []
    assert answer.json["total"] == 0


# --- countries --------------------------------------------------------------------------------------------------------


def test_countries_enabled_only_in_seed_order(api):
    answer = api.get("/api/v1/settings/countries")
    assert answer.status == 200
    assert answer.json["countries"] == COUNTRIES
    assert answer.json["total"] == 8


def test_country_entries_have_exactly_code_and_name(api):
    for entry in api.get("/api/v1/settings/countries").json["countries"]:
        assert set(entry) == {"code", "name"}


def test_disabled_countries_are_not_listed(api):
    codes = {entry["code"] for entry in api.get("/api/v1/settings/countries").json["countries"]}
    assert not {"JP", "US", "GB"} & codes


# --- terms ------------------------------------------------------------------------------------------------------------


def test_terms(api):
    answer = api.get("/api/v1/settings/terms")
    assert answer.status == 200
    assert set(answer.json) == {"title", "content"}
    assert answer.json["title"] == "Terms and Conditions"
    assert answer.json["content"].startswith("# Terms and Conditions")


# --- languages --------------------------------------------------------------------------------------------------------


def test_languages(api):
    answer = api.get("/api/v1/config/languages")
    assert answer.status == 200
    assert answer.json["languages"] == LANGUAGES
    assert answer.json["default"] == "en"
    assert answer.json["total"] == 8
