"""POST /api/v1/auth/register (contract auth.md §3.1 with §1.1, §2.1, §2.3, §2.4; README §1.2, §1.4).

Shared seeded account: every test registers e-mail addresses of its own.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import jwt
import pytest

from chalicelib.core.config import DEFAULT_JWT_SECRET
from chalicelib.users.repository import find_details, find_user
from tests.contract import LOGGED_IN_LEVEL, LOGGED_IN_PERMISSIONS
from tests.integration.conftest import drain_events, outbox_events, sent_mail

REGISTER = "/api/v1/auth/register"
PASSWORD = "Secret123!"
ENVELOPE = {"success": False, "token": None, "user_id": None, "user": None}
TOKEN_KEYS = {"success", "token", "refresh_token", "expires_in", "user_id", "error", "user"}
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
REFRESH_TOKEN = re.compile(r"^rt_[A-Za-z0-9_-]{43}$")

LENGTH_MIN = "Password must be at least 8 characters"
LENGTH_MAX = "Password must be at most 128 characters"
LOWER = "Password must contain at least one lowercase letter"
UPPER = "Password must contain at least one uppercase letter"
DIGIT = "Password must contain at least one digit"
SPECIAL = "Password must contain at least one special character"


def unique_email(tag: str = "reg") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


def field_error(fields: dict[str, list[str]]) -> dict[str, Any]:
    joined = "; ".join(f"{name}: {message}" for name, messages in fields.items() for message in messages)
    return {**ENVELOPE, "error": joined, "fields": fields}


# --- success ---------------------------------------------------------------------------------------------------


def test_register_answers_the_token_envelope_with_the_login_user_object(api):
    email = unique_email()
    answer = api.post(REGISTER, {"email": email, "password": PASSWORD})

    assert answer.status == 200
    body = answer.json
    assert set(body) == TOKEN_KEYS
    assert body["success"] is True
    assert body["error"] is None
    assert body["expires_in"] == 900
    assert UUID4.match(body["user_id"])
    assert REFRESH_TOKEN.match(body["refresh_token"])
    assert body["user"] == {
        "id": body["user_id"],
        "email": email,
        "name": email.split("@")[0],
        "role": "USER",
        "is_admin": False,
        "access_levels": [],
        "permissions": [],
        "user_access_levels": [LOGGED_IN_LEVEL],
        "user_permissions": LOGGED_IN_PERMISSIONS,
    }
    assert answer.headers["content-type"].startswith("application/json")


def test_register_creates_an_active_user_without_details(api):
    email = unique_email()
    body = api.post(REGISTER, {"email": email, "password": PASSWORD}).json

    user = find_user(body["user_id"])
    assert user is not None
    assert (user.email, user.role, user.status, user.has_used_trial) == (email, "USER", "ACTIVE", False)
    assert list(user.access_level_ids) == []
    assert list(user.user_access_level_ids) == [LOGGED_IN_LEVEL["id"]]
    assert user.password_hash != PASSWORD
    assert PASSWORD not in json.dumps(body)
    assert find_details(body["user_id"]) is None
    profile = api.get("/api/v1/user/profile", token=body["token"])
    assert profile.status == 200
    assert profile.json["details"] is None
    assert profile.json["user"]["status"] == "ACTIVE"


def test_the_issued_access_token_carries_the_contract_claims(api):
    email = unique_email()
    body = api.post(REGISTER, {"email": email, "password": PASSWORD}).json

    header = jwt.get_unverified_header(body["token"])
    assert header["alg"] == "HS256"
    claims = jwt.decode(
        body["token"],
        DEFAULT_JWT_SECRET,
        algorithms=["HS256"],
        audience="vbwd-api",
        issuer="vbwd-serverless",
        options={"verify_exp": False, "verify_iat": False},
    )
    assert set(claims) == {"iss", "aud", "sub", "user_id", "email", "iat", "exp", "jti", "typ", "sid"}
    assert claims["iss"] == "vbwd-serverless"
    assert claims["aud"] == "vbwd-api"
    assert claims["sub"] == claims["user_id"] == body["user_id"]
    assert claims["email"] == email
    assert claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == 900
    assert UUID4.match(claims["jti"])
    assert UUID4.match(claims["sid"])


def test_the_tokens_of_a_registration_work(api):
    email = unique_email()
    body = api.post(REGISTER, {"email": email, "password": PASSWORD}).json

    me = api.get("/api/v1/auth/me", token=body["token"])
    assert me.status == 200
    assert me.json["id"] == body["user_id"]
    refreshed = api.post("/api/v1/auth/refresh", {"refresh_token": body["refresh_token"]})
    assert refreshed.status == 200
    assert refreshed.json["user_id"] == body["user_id"]
    assert api.login(email, PASSWORD)["user_id"] == body["user_id"]


def test_the_first_login_and_me_carry_the_level_the_registration_granted(api):
    """The VBWD fe-user gates every dashboard page on `user_permissions` (contract README row 70)."""
    email = unique_email("level")
    registered = api.post(REGISTER, {"email": email, "password": PASSWORD}).json
    login = api.login(email, PASSWORD)
    me = api.get("/api/v1/auth/me", token=login["token"]).json
    for user in (registered["user"], login["user"], me):
        assert user["user_access_levels"] == [LOGGED_IN_LEVEL]
        assert sorted(user["user_permissions"]) == sorted(LOGGED_IN_PERMISSIONS)
        assert (user["access_levels"], user["permissions"]) == ([], [])


def test_each_registration_gets_its_own_ids_and_tokens(api):
    first = api.post(REGISTER, {"email": unique_email(), "password": PASSWORD}).json
    second = api.post(REGISTER, {"email": unique_email(), "password": PASSWORD}).json
    assert first["user_id"] != second["user_id"]
    assert first["token"] != second["token"]
    assert first["refresh_token"] != second["refresh_token"]


def test_email_is_trimmed_and_lower_cased(api):
    local = f"New-{uuid.uuid4().hex[:10]}"
    answer = api.post(REGISTER, {"email": f"  {local}@Example.COM ", "password": PASSWORD})

    stored = f"{local.lower()}@example.com"
    assert answer.status == 200
    assert answer.json["user"]["email"] == stored
    assert answer.json["user"]["name"] == local.lower()
    assert find_user(answer.json["user_id"]).email == stored
    assert api.get(f"/api/v1/auth/check-email?email={stored}").json == {"exists": True}
    assert api.login(stored, PASSWORD)["user_id"] == answer.json["user_id"]


@pytest.mark.parametrize("password", ["Abcdef1!", "Aa1!" + "x" * 124, "Ääääää1!", 'Pass word1"'])
def test_passwords_that_follow_every_rule_are_accepted(api, password):
    answer = api.post(REGISTER, {"email": unique_email(), "password": password})
    assert answer.status == 200, answer.json


def test_every_character_of_a_long_password_is_significant(api):
    email = unique_email()
    password = "Aa1!" + "x" * 120 + "tail"
    assert api.post(REGISTER, {"email": email, "password": password}).status == 200

    wrong_tail = api.post("/api/v1/auth/login", {"email": email, "password": password[:-1] + "X"})
    assert wrong_tail.status == 401
    assert api.login(email, password)["user"]["email"] == email


# --- duplicates ------------------------------------------------------------------------------------------------


def test_a_taken_email_is_refused_case_insensitively(api):
    email = unique_email("dup")
    assert api.post(REGISTER, {"email": email, "password": PASSWORD}).status == 200

    for variant in (email, email.upper(), f"  {email.capitalize()} "):
        answer = api.post(REGISTER, {"email": variant, "password": "Other123!"})
        assert answer.status == 400
        assert answer.json == {**ENVELOPE, "error": "User with this email already exists"}
    # The first password still holds: the refused attempts changed nothing.
    assert api.login(email, PASSWORD)["user"]["email"] == email


def test_a_seeded_email_is_taken(api):
    answer = api.post(REGISTER, {"email": "Test@Example.com", "password": PASSWORD})
    assert answer.status == 400
    assert answer.json == {**ENVELOPE, "error": "User with this email already exists"}


# --- validation ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [{}, None, {"email": "", "password": ""}, {"email": "   ", "password": None}])
def test_missing_email_and_password(api, body):
    answer = api.post(REGISTER, body)
    assert answer.status == 400
    assert answer.json == field_error({"email": ["Email is required"], "password": ["Password is required"]})
    assert answer.json["error"] == "email: Email is required; password: Password is required"


def test_missing_password_only(api):
    answer = api.post(REGISTER, {"email": unique_email()})
    assert answer.status == 400
    assert answer.json == field_error({"password": ["Password is required"]})


def test_a_password_that_is_not_a_string_is_missing(api):
    answer = api.post(REGISTER, {"email": unique_email(), "password": 12345678})
    assert answer.status == 400
    assert answer.json == field_error({"password": ["Password is required"]})


@pytest.mark.parametrize(
    ("password", "messages"),
    [
        ("short", [LENGTH_MIN, UPPER, DIGIT, SPECIAL]),
        ("a" * 129, [LENGTH_MAX, UPPER, DIGIT, SPECIAL]),
        ("Aa1!" + "x" * 125, [LENGTH_MAX]),
        ("ALLUPPER1!", [LOWER]),
        ("alllower1!", [UPPER]),
        ("NoDigits!!", [DIGIT]),
        ("NoSpecial12", [SPECIAL]),
        ("Abc1!", [LENGTH_MIN]),
        ("12345678", [LOWER, UPPER, SPECIAL]),
        ("!!!!", [LENGTH_MIN, LOWER, UPPER, DIGIT]),
    ],
)
def test_every_broken_password_rule_is_reported_in_order(api, password, messages):
    email = unique_email("weak")
    answer = api.post(REGISTER, {"email": email, "password": password})
    assert answer.status == 400
    assert answer.json == field_error({"password": messages})
    assert api.get(f"/api/v1/auth/check-email?email={email}").json == {"exists": False}


@pytest.mark.parametrize(
    "email",
    [
        "not-an-email",
        "a@b",
        "a@b.c",
        "name@domain.c0m",
        "two@@example.com",
        "space in@example.com",
        "x" * 244 + "@example.com",
    ],
)
def test_invalid_email_format(api, email):
    answer = api.post(REGISTER, {"email": email, "password": PASSWORD})
    assert answer.status == 400
    assert answer.json == field_error({"email": ["Invalid email format"]})


def test_an_email_of_255_characters_is_accepted(api):
    email = uuid.uuid4().hex[:10] + "x" * 233 + "@example.com"
    assert len(email) == 255
    answer = api.post(REGISTER, {"email": email, "password": PASSWORD})
    assert answer.status == 200, answer.json


def test_both_fields_invalid(api):
    answer = api.post(REGISTER, {"email": "nope", "password": "short"})
    assert answer.status == 400
    assert answer.json == field_error(
        {"email": ["Invalid email format"], "password": [LENGTH_MIN, UPPER, DIGIT, SPECIAL]}
    )
    assert answer.json["error"] == (
        "email: Invalid email format; password: Password must be at least 8 characters; "
        "password: Password must contain at least one uppercase letter; "
        "password: Password must contain at least one digit; "
        "password: Password must contain at least one special character"
    )


def test_unknown_keys_are_refused(api):
    email = unique_email("strict")
    answer = api.post(REGISTER, {"email": email, "password": PASSWORD, "name": "Ada", "role": "ADMIN"})
    assert answer.status == 400
    assert answer.json == field_error({"name": ["Unknown field."], "role": ["Unknown field."]})
    assert api.get(f"/api/v1/auth/check-email?email={email}").json == {"exists": False}


def test_unknown_keys_are_listed_after_the_declared_fields(api):
    answer = api.post(REGISTER, {"extra": 1, "email": "bad", "password": PASSWORD})
    assert answer.status == 400
    assert answer.json == field_error({"email": ["Invalid email format"], "extra": ["Unknown field."]})
    assert answer.json["error"] == "email: Invalid email format; extra: Unknown field."


# --- framework errors in the auth envelope ---------------------------------------------------------------------


@pytest.mark.parametrize("raw", ['{"email": "a@b.de", ', "not json", "{'email': 'x'}", "NaN"])
def test_malformed_json(api, raw):
    answer = api.request("POST", REGISTER, body=raw, headers={"Content-Type": "application/json"})
    assert answer.status == 400
    assert answer.json == {**ENVELOPE, "error": "Invalid JSON body"}


@pytest.mark.parametrize("raw", ["[]", '[{"email": "a@example.com"}]', '"text"', "42", "null"])
def test_json_that_is_not_an_object(api, raw):
    answer = api.request("POST", REGISTER, body=raw, headers={"Content-Type": "application/json"})
    assert answer.status == 400
    assert answer.json == {**ENVELOPE, "error": "Request body must be a JSON object"}


def test_a_body_without_the_json_media_type(api):
    raw = json.dumps({"email": unique_email(), "password": PASSWORD})
    answer = api.request("POST", REGISTER, body=raw, headers={"Content-Type": "text/plain"})
    assert answer.status == 415
    assert answer.json == {**ENVELOPE, "error": "Unsupported media type"}


def test_a_body_over_one_mebibyte(api):
    raw = json.dumps({"email": unique_email(), "password": PASSWORD, "padding": "x" * 1_048_576})
    answer = api.request("POST", REGISTER, body=raw, headers={"Content-Type": "application/json"})
    assert answer.status == 413
    assert answer.json == {**ENVELOPE, "error": "Request body too large", "max_bytes": 1048576}


def test_the_json_media_type_may_carry_a_charset(api):
    raw = json.dumps({"email": unique_email(), "password": PASSWORD})
    answer = api.request("POST", REGISTER, body=raw, headers={"Content-Type": "application/json; charset=utf-8"})
    assert answer.status == 200


def test_other_methods_are_not_allowed(api):
    answer = api.get(REGISTER)
    assert answer.status == 405
    assert answer.json == {"error": "Method not allowed"}
    assert answer.headers["allow"] == "POST"


def test_a_credential_is_ignored_on_this_public_route(api):
    answer = api.post(
        REGISTER, {"email": unique_email("cred"), "password": PASSWORD}, headers={"Authorization": "Bearer nope"}
    )
    assert answer.status == 200
    assert answer.headers["cache-control"] == "no-store"


def test_a_trailing_slash_is_the_same_route(api):
    answer = api.post(REGISTER + "/", {"email": unique_email("slash"), "password": PASSWORD})
    assert answer.status == 200
    assert answer.json["success"] is True


def test_preflight(api):
    answer = api.request(
        "OPTIONS", REGISTER, headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"}
    )
    assert answer.status == 204
    assert answer.headers["access-control-allow-methods"] == "POST, OPTIONS"
    assert "Authorization" in answer.headers["access-control-allow-headers"]
    assert answer.headers["access-control-allow-origin"] == "*"


# --- effects ---------------------------------------------------------------------------------------------------


def test_registration_records_user_registered_and_sends_the_welcome_mail(api):
    email = unique_email("welcome")
    user_id = api.post(REGISTER, {"email": email, "password": PASSWORD}).json["user_id"]
    assert api.post(REGISTER, {"email": email, "password": PASSWORD}).status == 400

    events = [e for e in outbox_events("user.registered") if e["data"]["user_id"] == user_id]
    assert len(events) == 1
    assert events[0]["data"] == {"user_id": user_id, "email": email, "source": "self"}
    assert events[0]["source"] == "vbwd.users"

    drain_events()
    mails = [m for m in sent_mail() if m["to"] == [email]]
    assert len(mails) == 1
    assert mails[0]["subject"] == "Welcome to VBWD"
    assert f"your account {email} is ready" in mails[0]["body"]


def test_a_refused_registration_sends_no_mail(api):
    email = unique_email("nomail")
    assert api.post(REGISTER, {"email": email, "password": "weak"}).status == 400
    drain_events()
    assert [m for m in sent_mail() if m["to"] == [email]] == []
