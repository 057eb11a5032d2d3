"""Hostile query strings on the public catalog routes (issue 6 §5): country codes that are not codes, huge values,
non-numbers where an amount goes. Each is the contract's 400 or an ordinary answer, never a 500 — and a value that
cannot be a country code is refused without a lookup (tests/ddblocal/test_hostile_keys.py holds that against
DynamoDB's key limits).
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

HUGE = "x" * 3000


@pytest.mark.parametrize("path", ["/api/v1/tarif-plans", "/api/v1/tarif-plans/basic"])
@pytest.mark.parametrize(
    ("country", "echoed"),
    [(" ", ""), ("1.5", "1.5"), ('{"a":1}', '{"A":1}'), ("DEU", "DEU"), ("D", "D"), ("ÄÖ", "ÄÖ"), (HUGE, HUGE.upper())],
)
def test_a_country_that_is_not_a_code_is_unknown(api, path, country, echoed):
    answer = api.get(f"{path}?country={quote(country)}")
    assert answer.status == 400
    assert answer.json == {"error": f"Unknown country: {echoed}"}


def test_a_country_code_in_any_case_and_padding_is_known(api):
    answer = api.get("/api/v1/tarif-plans?country=%20de%20")
    assert answer.status == 200
    assert answer.json["country"] == "DE"


@pytest.mark.parametrize("path", ["/api/v1/tarif-plans", "/api/v1/tarif-plans/basic"])
def test_a_huge_currency_is_unknown(api, path):
    answer = api.get(f"{path}?currency={HUGE}")
    assert answer.status == 400
    assert answer.json["error"] == f"Unknown currency: {HUGE.upper()}"


def test_a_huge_category_is_not_found(api):
    answer = api.get(f"/api/v1/tarif-plans?category={HUGE}")
    assert answer.status == 404
    assert answer.json == {"error": f"Category '{HUGE}' not found"}


@pytest.mark.parametrize("path", ["/api/v1/settings/taxes", "/api/v1/settings/payment-methods"])
@pytest.mark.parametrize("country", [HUGE, " ", "1.5", "ÄÖ"])
def test_filters_by_a_country_that_is_not_a_code_answer_an_ordinary_list(api, path, country):
    answer = api.get(f"{path}?country={quote(country)}")
    assert answer.status == 200, answer.json


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", "sNaN", "1e", "0x10", "-0.01", HUGE, "1.5.5"])
def test_amounts_that_are_not_decimals_at_least_zero(api, amount):
    answer = api.get(f"/api/v1/settings/payment-methods?amount={quote(amount)}")
    assert answer.status == 400
    assert answer.json == {"error": "Invalid amount"}


@pytest.mark.parametrize("amount", ["1e99999999", "1e-99999999", "0", " 12.50 ", "9" * 500])
def test_extreme_decimal_amounts_are_compared_not_refused(api, amount):
    answer = api.get(f"/api/v1/settings/payment-methods?amount={quote(amount)}")
    assert answer.status == 200, answer.json


@pytest.mark.parametrize("locale", [HUGE, "1.5", "de-" + "x" * 500, "_", "-"])
def test_any_locale_text_lists_the_methods(api, locale):
    answer = api.get(f"/api/v1/settings/payment-methods?locale={quote(locale)}")
    assert answer.status == 200
    assert answer.json["methods"]
    answer = api.get(f"/api/v1/settings/payment-methods/invoice?locale={quote(locale)}")
    assert answer.status == 200


@pytest.mark.parametrize("plan_id", [HUGE, "1.5", " "])
def test_a_plan_id_that_is_not_a_uuid(api, plan_id):
    answer = api.get(f"/api/v1/addons?plan_id={quote(plan_id)}")
    assert answer.status == 400
    assert answer.json == {"error": "Invalid plan_id format"}


@pytest.mark.parametrize("fmt", [HUGE, "1.5", "TREE"])
def test_a_category_format_that_is_not_tree_or_flat(api, fmt):
    answer = api.get(f"/api/v1/tarif-plan-categories?format={fmt}")
    assert answer.status == 400
    assert answer.json == {"error": f"Invalid format: {fmt}"}


@pytest.mark.parametrize("path", ["/api/v1/tarif-plans/", "/api/v1/settings/payment-methods/"])
def test_a_huge_path_parameter_is_not_found(api, path):
    assert api.get(path + HUGE).status == 404


def test_a_body_too_deep_on_a_plan_is_the_edge_error_its_document_allows(api):
    """The plan route documents its own 400 (`plan` on an unknown currency); the edge's 400s keep their keys."""
    deep = "[" * 100 + "]" * 100
    answer = api.request("GET", "/api/v1/tarif-plans/basic", body=deep, headers={"Content-Type": "application/json"})
    assert answer.status == 400
    assert answer.json == {"error": "Invalid JSON body", "max_depth": 64}
