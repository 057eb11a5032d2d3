"""Hostile input on PUT /api/v1/user/details (issue 6 §5): numbers with fractions inside `config`, lone surrogates,
and values of the wrong JSON type. Each is a 200 or the contract's field error, never a 500.

Shared seeded account: every write goes to a user the test registered.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.users.repository import find_details

DETAILS = "/api/v1/user/details"
PASSWORD = "Secret123!"
INVALID_JSON = {"error": "Invalid JSON body"}


def register(api) -> tuple[str, str]:
    email = f"hostile-details-{uuid.uuid4().hex[:12]}@example.com"
    answer = api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD})
    assert answer.status == 200, answer.json
    return answer.json["user_id"], answer.json["token"]


def put_raw(api, token: str, text: str):
    return api.request("PUT", DETAILS, body=text, headers={"Content-Type": "application/json"}, token=token)


def field_error(field: str, message: str) -> dict[str, Any]:
    return {"error": f"{field}: {message}", "fields": {field: [message]}}


def stored_config(user_id: str) -> dict[str, Any]:
    details = find_details(user_id)
    assert details is not None
    return dict(details.config or {})


def test_a_number_with_a_fraction_in_config_is_stored(api):
    user_id, token = register(api)
    answer = api.put(DETAILS, {"config": {"x": 1.5}}, token=token)
    assert answer.status == 200, answer.json
    assert stored_config(user_id) == {"x": 1.5}


def test_fractions_nested_in_config_lists_and_objects_are_stored(api):
    user_id, token = register(api)
    config = {"zoom": [0.25, 1, {"step": 2.5e-3}], "ratio": {"w": 16.0, "h": 9}}
    answer = api.put(DETAILS, {"config": config}, token=token)
    assert answer.status == 200, answer.json
    assert stored_config(user_id) == config


def test_a_stored_fraction_merges_with_later_config(api):
    user_id, token = register(api)
    assert api.put(DETAILS, {"config": {"x": 1.5}}, token=token).status == 200
    assert api.put(DETAILS, {"config": {"y": "de", "x": 2.25}}, token=token).status == 200
    assert stored_config(user_id) == {"x": 2.25, "y": "de"}


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1.5e999999"])
def test_a_number_beyond_a_double_in_config_is_not_a_valid_number(api, number):
    user_id, token = register(api)
    answer = put_raw(api, token, '{"city": "Berlin", "config": {"x": ' + number + "}}")
    assert answer.status == 400
    assert answer.json == field_error("config", "Not a valid number.")
    assert find_details(user_id) is None


def test_a_long_fraction_is_stored_as_the_double_a_json_reader_would_see(api):
    """Preferences are read back by JSON clients, which hold numbers as doubles: 5,000 digits are kept as one."""
    user_id, token = register(api)
    answer = put_raw(api, token, '{"config": {"x": 0.' + "1" * 5000 + "}}")
    assert answer.status == 200, answer.json
    assert stored_config(user_id) == {"x": float(Decimal("0." + "1" * 5000))}


@pytest.mark.parametrize(
    "text",
    [
        '{"first_name": "\\ud800"}',
        '{"city": "Berlin\\udc00"}',
        '{"country": "D\\ud800"}',
        '{"config": {"\\ud800": "x"}}',
        '{"config": {"language": ["\\ud800"]}}',
    ],
)
def test_a_lone_surrogate_in_details_is_invalid_json(api, text):
    user_id, token = register(api)
    answer = put_raw(api, token, text)
    assert answer.status == 400
    assert answer.json == INVALID_JSON
    assert find_details(user_id) is None


@pytest.mark.parametrize("value", [4.9, 49, True, {"code": "DE"}, ["DE"]])
def test_a_country_that_is_not_a_string(api, value):
    _, token = register(api)
    answer = api.put(DETAILS, {"country": value}, token=token)
    assert answer.status == 400
    assert answer.json == field_error("country", "Not a valid string.")


@pytest.mark.parametrize("field", ["first_name", "phone", "company", "postal_code", "address_line_2"])
@pytest.mark.parametrize("value", [1.5, 3, False, {"a": "b"}, ["a"]])
def test_detail_fields_that_are_not_strings(api, field, value):
    _, token = register(api)
    answer = api.put(DETAILS, {field: value}, token=token)
    assert answer.status == 400
    assert answer.json == field_error(field, "Not a valid string.")


@pytest.mark.parametrize("value", [1.5, 3, "de", ["a"], True])
def test_config_that_is_not_an_object(api, value):
    _, token = register(api)
    answer = api.put(DETAILS, {"config": value}, token=token)
    assert answer.status == 400
    assert answer.json == field_error("config", "Not a valid mapping.")


def test_a_3000_character_country_is_an_unknown_country_code(api):
    _, token = register(api)
    answer = api.put(DETAILS, {"country": "D" * 3000}, token=token)
    assert answer.status == 400
    assert answer.json == field_error("country", "Unknown country code")
