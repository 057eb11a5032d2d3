"""GET /api/v1/user/profile, GET and PUT /api/v1/user/details (contract auth.md §2.2, §2.5, §4.1–§4.3).

Shared seeded account: seeded users are only read; every write goes to a user the test registered.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from chalicelib.core.ids import seed_id
from chalicelib.users.repository import find_details
from tests.contract import UUID
from tests.integration.conftest import drain_events, outbox_events

PROFILE = "/api/v1/user/profile"
DETAILS = "/api/v1/user/details"
PASSWORD = "Secret123!"
FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "company",
    "tax_number",
    "address_line_1",
    "address_line_2",
    "city",
    "postal_code",
    "country",
)
DETAIL_KEYS = {"id", "user_id", *FIELDS, "created_at", "updated_at"}
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$")


def register(api) -> tuple[str, dict[str, Any]]:
    email = f"details-{uuid.uuid4().hex[:12]}@example.com"
    answer = api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD})
    assert answer.status == 200, answer.json
    return email, answer.json


def put(api, token: str, body: Any):
    return api.put(DETAILS, body, token=token)


def field_error(fields: dict[str, list[str]]) -> dict[str, Any]:
    joined = "; ".join(f"{name}: {message}" for name, messages in fields.items() for message in messages)
    return {"error": joined, "fields": fields}


def stored_config(user_id: str) -> dict[str, Any]:
    details = find_details(user_id)
    assert details is not None
    return dict(details.config or {})


# --- GET /user/profile -----------------------------------------------------------------------------------------


def test_profile_of_the_seeded_user(api):
    token = api.token("test@example.com", "TestPass123@")
    answer = api.get(PROFILE, token=token)
    assert answer.status == 200
    body = answer.json
    assert set(body) == {"user", "details"}
    user_id = seed_id("user", "test@example.com")
    user = body["user"]
    assert set(user) == {"id", "email", "status", "role", "created_at", "updated_at"}
    assert (user["id"], user["email"], user["status"], user["role"]) == (user_id, "test@example.com", "ACTIVE", "USER")
    assert INSTANT.match(user["created_at"])
    assert INSTANT.match(user["updated_at"])
    details = body["details"]
    assert set(details) == DETAIL_KEYS
    assert details["id"] == seed_id("details", user_id)
    assert details["user_id"] == user_id
    assert (details["first_name"], details["last_name"]) == ("Test", "User")
    assert all(details[name] is None for name in FIELDS[2:])
    assert INSTANT.match(details["created_at"])


def test_profile_of_an_admin_renders_the_role_plainly(api):
    user = api.get(PROFILE, token=api.token("admin@example.com", "AdminPass123@")).json["user"]
    assert (user["role"], user["status"]) == ("ADMIN", "ACTIVE")


def test_profile_of_a_new_user_has_no_details(api):
    email, registered = register(api)
    body = api.get(PROFILE, token=registered["token"]).json
    assert body["details"] is None
    assert body["user"]["email"] == email
    assert body["user"]["status"] == "ACTIVE"
    assert body["user"]["role"] == "USER"
    assert body["user"]["created_at"] == body["user"]["updated_at"]


def test_a_trailing_slash_is_the_same_route(api):
    token = api.token("test@example.com", "TestPass123@")
    assert api.get(PROFILE + "/", token=token).json == api.get(PROFILE, token=token).json
    assert api.get(DETAILS + "/", token=token).json == api.get(DETAILS, token=token).json


def test_profile_needs_a_user(api):
    answer = api.get(PROFILE)
    assert answer.status == 401
    assert answer.json == {"error": "Authorization header is required"}


# --- GET /user/details -----------------------------------------------------------------------------------------


def test_details_of_a_new_user_are_all_null_except_user_id(api):
    _, registered = register(api)
    answer = api.get(DETAILS, token=registered["token"])
    assert answer.status == 200
    assert answer.json == {
        "id": None,
        "user_id": registered["user_id"],
        **dict.fromkeys(FIELDS),
        "created_at": None,
        "updated_at": None,
    }


def test_details_of_the_seeded_pro_user(api):
    token = api.token("user.pro@demo.local", "DemoPass123!")
    body = api.get(DETAILS, token=token).json
    assert set(body) == DETAIL_KEYS
    assert (body["first_name"], body["last_name"], body["city"], body["country"]) == ("Paula", "Pro", "Berlin", "DE")
    assert body["user_id"] == seed_id("user", "user.pro@demo.local")


def test_details_need_a_user(api):
    assert api.get(DETAILS).json == {"error": "Authorization header is required"}
    assert api.put(DETAILS, {"city": "Berlin"}).json == {"error": "Authorization header is required"}


# --- PUT /user/details: create and update ----------------------------------------------------------------------


def test_the_first_put_creates_the_record(api):
    _, registered = register(api)
    sent = {"first_name": "Ada", "last_name": "Byron", "city": "Berlin", "country": "de"}
    answer = put(api, registered["token"], sent)
    assert answer.status == 200
    body = answer.json
    assert set(body) == DETAIL_KEYS
    assert UUID.match(body["id"])
    assert body["user_id"] == registered["user_id"]
    assert {name: body[name] for name in FIELDS} == {
        **dict.fromkeys(FIELDS),
        "first_name": "Ada",
        "last_name": "Byron",
        "city": "Berlin",
        "country": "DE",
    }
    assert INSTANT.match(body["created_at"])
    assert body["created_at"] == body["updated_at"]
    assert api.get(DETAILS, token=registered["token"]).json == body
    assert api.get(PROFILE, token=registered["token"]).json["details"] == body


def test_a_later_put_updates_only_the_given_fields(api):
    _, registered = register(api)
    created = put(api, registered["token"], {"first_name": "Ada", "city": "Berlin"}).json
    updated = put(api, registered["token"], {"phone": "+49 30 1234567", "company": "Analytical Engines"}).json

    assert updated["id"] == created["id"]
    assert updated["created_at"] == created["created_at"]
    assert updated["updated_at"] >= created["updated_at"]
    assert {name: updated[name] for name in FIELDS} == {
        **dict.fromkeys(FIELDS),
        "first_name": "Ada",
        "city": "Berlin",
        "phone": "+49 30 1234567",
        "company": "Analytical Engines",
    }


def test_every_field_can_be_written(api):
    _, registered = register(api)
    values = {
        "first_name": "Ada",
        "last_name": "Byron",
        "phone": "+49 30 1234567",
        "company": "Engines Ltd",
        "tax_number": "DE123456789",
        "address_line_1": "Unter den Linden 1",
        "address_line_2": "2nd floor",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
    }
    body = put(api, registered["token"], values).json
    assert {name: body[name] for name in FIELDS} == values


def test_strings_are_stored_as_sent(api):
    _, registered = register(api)
    body = put(api, registered["token"], {"city": "  Berlin ", "first_name": "Zoë"}).json
    assert (body["city"], body["first_name"]) == ("  Berlin ", "Zoë")


@pytest.mark.parametrize(("sent", "stored"), [("de", "DE"), ("De", "DE"), ("TH", "TH"), ("jp", "JP"), ("us", "US")])
def test_country_is_case_insensitive_and_may_be_disabled(api, sent, stored):
    _, registered = register(api)
    answer = put(api, registered["token"], {"country": sent})
    assert answer.status == 200
    assert answer.json["country"] == stored


@pytest.mark.parametrize("clear", ["", None])
def test_empty_string_and_null_clear_a_field(api, clear):
    _, registered = register(api)
    put(api, registered["token"], {"first_name": "Ada", "city": "Berlin", "country": "DE", "phone": "123"})
    body = put(api, registered["token"], {"city": clear, "country": clear, "phone": clear}).json
    assert (body["first_name"], body["city"], body["country"], body["phone"]) == ("Ada", None, None, None)
    assert api.get(DETAILS, token=registered["token"]).json == body


def test_writable_fields_only(api):
    _, registered = register(api)
    answer = put(api, registered["token"], {"id": str(uuid.uuid4()), "user_id": str(uuid.uuid4()), "city": "Rome"})
    assert answer.status == 400
    assert answer.json == field_error({"id": ["Unknown field."], "user_id": ["Unknown field."]})


# --- PUT /user/details: validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("first_name", 100),
        ("last_name", 100),
        ("phone", 20),
        ("company", 255),
        ("tax_number", 100),
        ("address_line_1", 255),
        ("address_line_2", 255),
        ("city", 100),
        ("postal_code", 20),
    ],
)
def test_length_limits(api, field, limit):
    _, registered = register(api)
    assert put(api, registered["token"], {field: "x" * limit}).json[field] == "x" * limit
    answer = put(api, registered["token"], {field: "y" * (limit + 1)})
    assert answer.status == 400
    assert answer.json == field_error({field: [f"Longer than maximum length {limit}."]})
    assert api.get(DETAILS, token=registered["token"]).json[field] == "x" * limit


def test_the_contract_example_of_a_length_error(api):
    _, registered = register(api)
    answer = put(api, registered["token"], {"first_name": "x" * 101})
    assert answer.status == 400
    assert answer.json == {
        "error": "first_name: Longer than maximum length 100.",
        "fields": {"first_name": ["Longer than maximum length 100."]},
    }


@pytest.mark.parametrize("value", [5, 1.5, True, ["Ada"], {"name": "Ada"}])
def test_a_value_that_is_not_a_string(api, value):
    _, registered = register(api)
    answer = put(api, registered["token"], {"first_name": value})
    assert answer.status == 400
    assert answer.json == field_error({"first_name": ["Not a valid string."]})


def test_a_country_that_is_not_a_string(api):
    _, registered = register(api)
    answer = put(api, registered["token"], {"country": 49})
    assert answer.status == 400
    assert answer.json == field_error({"country": ["Not a valid string."]})


@pytest.mark.parametrize("country", ["XX", "xx", "DEU", "D", "1A", "ÄÖ"])
def test_unknown_country_codes(api, country):
    _, registered = register(api)
    answer = put(api, registered["token"], {"country": country, "city": "Nowhere"})
    assert answer.status == 400
    assert answer.json == field_error({"country": ["Unknown country code"]})
    assert api.get(DETAILS, token=registered["token"]).json["city"] is None


@pytest.mark.parametrize("key", ["nickname", "status", "balance", "email", "role"])
def test_unknown_keys_are_refused(api, key):
    _, registered = register(api)
    answer = put(api, registered["token"], {key: "x", "city": "Berlin"})
    assert answer.status == 400
    assert answer.json == field_error({key: ["Unknown field."]})
    assert api.get(DETAILS, token=registered["token"]).json["city"] is None


def test_every_failing_field_is_reported_in_field_order(api):
    _, registered = register(api)
    answer = put(api, registered["token"], {"zzz": 1, "last_name": 5, "first_name": "x" * 101})
    assert answer.status == 400
    assert answer.json == field_error(
        {
            "first_name": ["Longer than maximum length 100."],
            "last_name": ["Not a valid string."],
            "zzz": ["Unknown field."],
        }
    )
    assert answer.json["error"] == (
        "first_name: Longer than maximum length 100.; last_name: Not a valid string.; zzz: Unknown field."
    )


def test_malformed_json_and_non_objects(api):
    _, registered = register(api)
    headers = {"Content-Type": "application/json"}
    broken = api.request("PUT", DETAILS, body="{", headers=headers, token=registered["token"])
    assert broken.status == 400
    assert broken.json == {"error": "Invalid JSON body"}
    listed = api.put(DETAILS, [{"city": "Berlin"}], token=registered["token"])
    assert listed.status == 400
    assert listed.json == {"error": "Request body must be a JSON object"}


# --- config ----------------------------------------------------------------------------------------------------


def test_config_is_merged_key_by_key_and_null_removes_a_key(api):
    _, registered = register(api)
    token, user_id = registered["token"], registered["user_id"]
    assert put(api, token, {"config": {"language": "de", "theme": "dark"}}).status == 200
    assert stored_config(user_id) == {"language": "de", "theme": "dark"}

    assert put(api, token, {"config": {"theme": None, "timezone": "Europe/Berlin"}}).status == 200
    assert stored_config(user_id) == {"language": "de", "timezone": "Europe/Berlin"}

    assert put(api, token, {"city": "Berlin"}).status == 200
    assert stored_config(user_id) == {"language": "de", "timezone": "Europe/Berlin"}

    assert put(api, token, {"config": None}).status == 200
    assert stored_config(user_id) == {}


def test_config_is_not_shown_on_user_routes(api):
    _, registered = register(api)
    body = put(api, registered["token"], {"config": {"language": "de"}}).json
    assert set(body) == DETAIL_KEYS


@pytest.mark.parametrize("value", [5, "dark", ["language"], True])
def test_config_must_be_an_object(api, value):
    _, registered = register(api)
    answer = put(api, registered["token"], {"config": value})
    assert answer.status == 400
    assert answer.json == field_error({"config": ["Not a valid mapping."]})


def test_config_of_at_most_4096_bytes(api):
    _, registered = register(api)
    token, user_id = registered["token"], registered["user_id"]
    # '{"blob":"…"}' is 11 bytes around the value.
    assert put(api, token, {"config": {"blob": "x" * 4085}}).status == 200
    assert len(json.dumps(stored_config(user_id), separators=(",", ":")).encode()) == 4096

    answer = put(api, token, {"config": {"blob": "x" * 4086}})
    assert answer.status == 400
    assert answer.json == field_error({"config": ["Config too large"]})


def test_the_merged_config_counts_toward_the_limit(api):
    _, registered = register(api)
    token, user_id = registered["token"], registered["user_id"]
    assert put(api, token, {"config": {"a": "x" * 3000}}).status == 200
    answer = put(api, token, {"config": {"b": "y" * 1500}})
    assert answer.status == 400
    assert answer.json == field_error({"config": ["Config too large"]})
    assert stored_config(user_id) == {"a": "x" * 3000}


# --- effects ---------------------------------------------------------------------------------------------------


def test_the_login_name_follows_the_saved_names(api):
    email, registered = register(api)
    token = registered["token"]

    put(api, token, {"first_name": "Ada", "last_name": "Byron"})
    assert api.login(email, PASSWORD)["user"]["name"] == "Ada Byron"
    assert api.get("/api/v1/auth/me", token=token).json["name"] == "Ada Byron"

    put(api, token, {"last_name": None})
    assert api.login(email, PASSWORD)["user"]["name"] == "Ada"

    put(api, token, {"first_name": "", "last_name": "Lovelace"})
    assert api.login(email, PASSWORD)["user"]["name"] == "Lovelace"

    put(api, token, {"last_name": ""})
    assert api.login(email, PASSWORD)["user"]["name"] == email.split("@")[0]


def test_the_login_name_is_trimmed(api):
    email, registered = register(api)
    put(api, registered["token"], {"first_name": "  Ada ", "last_name": None})
    assert api.login(email, PASSWORD)["user"]["name"] == "Ada"
    put(api, registered["token"], {"first_name": "   "})
    assert api.login(email, PASSWORD)["user"]["name"] == email.split("@")[0]


def test_a_put_records_user_updated_with_the_changed_fields(api):
    _, registered = register(api)
    put(api, registered["token"], {"first_name": "Ada", "city": "Berlin", "country": "DE"})
    put(api, registered["token"], {"first_name": "Ada", "city": "Paris"})
    drain_events()

    found = outbox_events("user.updated")
    mine = sorted((e for e in found if e["data"]["user_id"] == registered["user_id"]), key=lambda e: e["occurred_at"])
    assert [sorted(e["data"]["changed_fields"]) for e in mine] == [["city", "country", "first_name"], ["city"]]
    assert all(e["source"] == "vbwd.users" for e in mine)
