"""Hostile input on the auth routes (issue 6 §5): over-long emails and tokens, lone surrogates, and numbers, objects
and lists where strings go. Each answers the contract's 4xx (or its usual 200) — never a 500, never a DynamoDB key
built from an input no account can have (tests/ddblocal/test_hostile_keys.py holds that against DynamoDB's limits).

Shared seeded account: only users the tests register are changed.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote

import pytest

PASSWORD = "Secret123!"
ENVELOPE = {"success": False, "token": None, "user_id": None, "user": None}
REFRESH_ENVELOPE = {**ENVELOPE, "refresh_token": None}
INVALID_JSON = {"error": "Invalid JSON body"}
RESET_SENT = {"message": "If email exists, reset link sent"}
LONG_EMAIL = "a" * 3000 + "@example.com"
NOT_STRINGS = [1.5, 7, True, {"value": "x"}, ["x"]]
LONE_SURROGATE = '"\\ud800"'


def register(api) -> tuple[str, dict[str, Any]]:
    email = f"hostile-{uuid.uuid4().hex[:12]}@example.com"
    answer = api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD})
    assert answer.status == 200, answer.json
    return email, answer.json


def post_raw(api, path: str, text: str, token: str | None = None):
    """POST a JSON text as written (json.dumps would refuse to write a lone surrogate escape by itself)."""
    return api.request("POST", path, body=text, headers={"Content-Type": "application/json"}, token=token)


# --- 3,000-character emails ------------------------------------------------------------------------------------


def test_login_with_a_3000_character_email_is_invalid_credentials(api):
    answer = api.post("/api/v1/auth/login", {"email": LONG_EMAIL, "password": PASSWORD})
    assert answer.status == 401
    assert answer.json == {**ENVELOPE, "error": "Invalid credentials"}


def test_a_3000_character_email_never_locks_anything(api):
    """No account can have such an address (register allows 255 characters): its failures are not counted."""
    for _ in range(11):
        answer = api.post("/api/v1/auth/login", {"email": LONG_EMAIL, "password": "Wrong123!"})
        assert answer.status == 401, answer.json


def test_forgot_password_with_a_3000_character_email_answers_as_for_any_unknown_email(api):
    answer = api.post("/api/v1/auth/forgot-password", {"email": LONG_EMAIL})
    assert answer.status == 200
    assert answer.json == RESET_SENT


def test_register_with_a_3000_character_email_is_an_invalid_format(api):
    answer = api.post("/api/v1/auth/register", {"email": LONG_EMAIL, "password": PASSWORD})
    assert answer.status == 400
    assert answer.json == {
        **ENVELOPE,
        "error": "email: Invalid email format",
        "fields": {"email": ["Invalid email format"]},
    }


def test_check_email_with_a_3000_character_email_does_not_exist(api):
    answer = api.get(f"/api/v1/auth/check-email?email={LONG_EMAIL}")
    assert answer.status == 200
    assert answer.json == {"exists": False}


def test_an_email_of_255_characters_still_logs_in(api):
    """The length cut-off is exactly the longest address register accepts."""
    email = "b" * (255 - len("@example.com")) + "@example.com"
    assert api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD}).status == 200
    assert api.post("/api/v1/auth/login", {"email": email.upper(), "password": PASSWORD}).status == 200
    assert api.get(f"/api/v1/auth/check-email?email={email}").json == {"exists": True}


def test_a_3000_character_refresh_token_is_invalid(api):
    answer = api.post("/api/v1/auth/refresh", {"refresh_token": "rt_" + "x" * 3000})
    assert answer.status == 401
    assert answer.json == {**REFRESH_ENVELOPE, "error": "Invalid refresh token"}


def test_a_3000_character_reset_token_is_invalid(api):
    answer = api.post("/api/v1/auth/reset-password", {"token": "t" * 3000, "new_password": "Renewed456?"})
    assert answer.status == 400
    assert answer.json == {"error": "Invalid token"}


def test_a_3000_character_refresh_token_on_logout_is_ignored(api):
    answer = api.post("/api/v1/auth/logout", {"refresh_token": "rt_" + "x" * 3000})
    assert answer.status == 200
    assert answer.json == {"message": "Logged out successfully"}


# --- lone surrogates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "text", "envelope"),
    [
        ("/api/v1/auth/register", '{"email": "\\ud800@example.com", "password": "Secret123!"}', ENVELOPE),
        ("/api/v1/auth/register", '{"email": "a@example.com", "password": "Secret123!\\ud800"}', ENVELOPE),
        ("/api/v1/auth/login", '{"email": "\\ud800@example.com", "password": "Secret123!"}', ENVELOPE),
        ("/api/v1/auth/login", '{"email": "test@example.com", "password": ' + LONE_SURROGATE + "}", ENVELOPE),
        ("/api/v1/auth/refresh", '{"refresh_token": "rt_\\ud800"}', REFRESH_ENVELOPE),
        ("/api/v1/auth/forgot-password", '{"email": "\\udfff@example.com"}', {}),
        ("/api/v1/auth/reset-password", '{"token": ' + LONE_SURROGATE + ', "new_password": "Renewed456?"}', {}),
        ("/api/v1/auth/reset-password", '{"token": "abc", "new_password": "Renewed456?\\ud800"}', {}),
        ("/api/v1/auth/logout", '{"refresh_token": ' + LONE_SURROGATE + "}", {}),
    ],
)
def test_a_lone_surrogate_is_invalid_json(api, path, text, envelope):
    answer = post_raw(api, path, text)
    assert answer.status == 400
    assert answer.json == {**envelope, **INVALID_JSON}


def test_a_lone_surrogate_in_a_new_password_is_invalid_json(api):
    _, registered = register(api)
    text = '{"currentPassword": "Secret123!", "newPassword": "Changed456?\\ud800"}'
    answer = post_raw(api, "/api/v1/user/change-password", text, token=registered["token"])
    assert answer.status == 400
    assert answer.json == INVALID_JSON


def test_a_surrogate_pair_is_ordinary_text(api):
    """An escaped pair is one character (U+1F600): a valid password character, not a broken one."""
    email = f"pair-{uuid.uuid4().hex[:12]}@example.com"
    text = json.dumps({"email": email, "password": "Secret123!"})[:-2] + '\\ud83d\\ude00"}'
    answer = post_raw(api, "/api/v1/auth/register", text)
    assert answer.status == 200, answer.json
    assert api.post("/api/v1/auth/login", {"email": email, "password": "Secret123!\U0001f600"}).status == 200


# --- numbers, objects and lists where strings go ---------------------------------------------------------------


@pytest.mark.parametrize("value", NOT_STRINGS)
def test_register_fields_that_are_not_strings(api, value):
    answer = api.post("/api/v1/auth/register", {"email": value, "password": value})
    assert answer.status == 400
    assert answer.json == {
        **ENVELOPE,
        "error": "email: Email is required; password: Password is required",
        "fields": {"email": ["Email is required"], "password": ["Password is required"]},
    }


@pytest.mark.parametrize("value", NOT_STRINGS)
def test_login_fields_that_are_not_strings(api, value):
    answer = api.post("/api/v1/auth/login", {"email": value, "password": PASSWORD})
    assert answer.status == 400
    assert answer.json == {**ENVELOPE, "error": "email: Email is required", "fields": {"email": ["Email is required"]}}
    answer = api.post("/api/v1/auth/login", {"email": "test@example.com", "password": value})
    assert answer.status == 400
    assert answer.json == {
        **ENVELOPE,
        "error": "password: Password is required",
        "fields": {"password": ["Password is required"]},
    }


@pytest.mark.parametrize("value", NOT_STRINGS)
def test_refresh_tokens_that_are_not_strings(api, value):
    answer = api.post("/api/v1/auth/refresh", {"refresh_token": value})
    assert answer.status == 400
    assert answer.json == {**REFRESH_ENVELOPE, "error": "refresh_token is required"}


@pytest.mark.parametrize("value", NOT_STRINGS)
def test_logout_ignores_a_refresh_token_that_is_not_a_string(api, value):
    answer = api.post("/api/v1/auth/logout", {"refresh_token": value})
    assert answer.status == 200
    assert answer.json == {"message": "Logged out successfully"}


@pytest.mark.parametrize("value", NOT_STRINGS)
def test_forgot_password_emails_that_are_not_strings(api, value):
    answer = api.post("/api/v1/auth/forgot-password", {"email": value})
    assert answer.status == 400
    assert answer.json == {"error": "Email required"}


@pytest.mark.parametrize("value", NOT_STRINGS)
def test_reset_fields_that_are_not_strings(api, value):
    for body in ({"token": value, "new_password": "Renewed456?"}, {"token": "abc", "new_password": value}):
        answer = api.post("/api/v1/auth/reset-password", body)
        assert answer.status == 400
        assert answer.json == {"error": "Token and new password required"}


@pytest.mark.parametrize("value", NOT_STRINGS)
def test_change_password_fields_that_are_not_strings(api, value):
    email, registered = register(api)
    bodies = [
        {"currentPassword": value, "newPassword": "Changed456?"},
        {"current_password": PASSWORD, "new_password": value},
    ]
    for body in bodies:
        answer = api.post("/api/v1/user/change-password", body, token=registered["token"])
        assert answer.status == 400
        assert answer.json == {"error": "Current password and new password are required"}
    assert api.post("/api/v1/auth/login", {"email": email, "password": PASSWORD}).status == 200


def test_a_spelling_holding_a_non_string_gives_way_to_the_other(api):
    """camelCase and snake_case are alternatives: the first that holds a non-empty string is used."""
    email, registered = register(api)
    body = {"currentPassword": 5, "current_password": PASSWORD, "newPassword": "", "new_password": "Changed456?"}
    answer = api.post("/api/v1/user/change-password", body, token=registered["token"])
    assert answer.status == 200, answer.json
    assert api.post("/api/v1/auth/login", {"email": email, "password": "Changed456?"}).status == 200


@pytest.mark.parametrize("value", NOT_STRINGS)
def test_check_email_query_is_always_text(api, value):
    """A query string holds only text: `email=1.5` is an address nobody has."""
    answer = api.get(f"/api/v1/auth/check-email?email={quote(json.dumps(value))}")
    assert answer.status == 200
    assert answer.json == {"exists": False}
