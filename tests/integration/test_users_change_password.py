"""POST /api/v1/user/change-password (contract auth.md §1.3, §1.4, §4.4). Shared seeded account, own users only."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.auth.sessions import open_impersonation_session
from chalicelib.core import clock
from chalicelib.core.ids import seed_id
from chalicelib.store.transactions import Transaction
from chalicelib.users.repository import find_user
from tests.contract import WEAK_PASSWORDS
from tests.integration.conftest import password_change_notice

CHANGE = "/api/v1/user/change-password"
PASSWORD = "Secret123!"
NEW_PASSWORD = "Changed456?"
REQUIRED = {"error": "Current password and new password are required"}


def register(api, tag: str = "change") -> tuple[str, dict[str, Any]]:
    email = f"{tag}-{uuid.uuid4().hex[:12]}@example.com"
    answer = api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD})
    assert answer.status == 200, answer.json
    return email, answer.json


def login_status(api, email: str, password: str) -> int:
    return api.post("/api/v1/auth/login", {"email": email, "password": password}).status


def impersonation_token(user_id: str) -> str:
    tx = Transaction()
    issued = open_impersonation_session(tx, find_user(user_id), seed_id("user", "admin@example.com"), clock.now())
    tx.commit()
    return issued.access.token


@pytest.mark.parametrize(
    ("current_key", "new_key"),
    [
        ("currentPassword", "newPassword"),
        ("current_password", "new_password"),
        ("currentPassword", "new_password"),
        ("current_password", "newPassword"),
    ],
)
def test_both_spellings_change_the_password(api, current_key, new_key):
    email, session = register(api)
    answer = api.post(CHANGE, {current_key: PASSWORD, new_key: NEW_PASSWORD}, token=session["token"])
    assert answer.status == 200
    assert answer.json == {"success": True}
    assert login_status(api, email, NEW_PASSWORD) == 200
    assert login_status(api, email, PASSWORD) == 401


def test_the_calling_session_stays_and_every_other_session_ends(api):
    email, caller = register(api)
    other = api.login(email, PASSWORD)
    third = api.login(email, PASSWORD)

    body = {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}
    assert api.post(CHANGE, body, token=caller["token"]).json == {"success": True}

    assert api.get("/api/v1/auth/me", token=caller["token"]).status == 200
    rotated = api.post("/api/v1/auth/refresh", {"refresh_token": caller["refresh_token"]})
    assert rotated.status == 200
    assert api.get("/api/v1/auth/me", token=rotated.json["token"]).status == 200

    for session in (other, third):
        denied = api.get("/api/v1/auth/me", token=session["token"])
        assert denied.status == 401
        assert denied.json == {"error": "Invalid or expired token"}
        refused = api.post("/api/v1/auth/refresh", {"refresh_token": session["refresh_token"]})
        assert refused.status == 401
        assert refused.json["error"] == "Invalid refresh token"

    later = api.login(email, NEW_PASSWORD)
    assert api.get("/api/v1/auth/me", token=later["token"]).status == 200


def test_a_change_records_the_event_and_sends_the_notice(api):
    email, session = register(api)
    api.post(CHANGE, {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, token=session["token"])

    assert "changed from your account settings" in password_change_notice(session["user_id"], email, "change")


def test_the_password_can_be_changed_twice_in_one_session(api):
    email, session = register(api)
    api.post(CHANGE, {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}, token=session["token"])
    answer = api.post(CHANGE, {"currentPassword": NEW_PASSWORD, "newPassword": "Third789#"}, token=session["token"])
    assert answer.json == {"success": True}
    assert login_status(api, email, "Third789#") == 200


def test_a_wrong_current_password(api):
    email, session = register(api)
    answer = api.post(CHANGE, {"currentPassword": "Wrong123!", "newPassword": NEW_PASSWORD}, token=session["token"])
    assert answer.status == 400
    assert answer.json == {"error": "Current password is incorrect"}
    assert login_status(api, email, PASSWORD) == 200
    assert api.get("/api/v1/auth/me", token=session["token"]).status == 200


def test_wrong_current_passwords_count_toward_the_failed_login_limit(api, manual_clock):
    email, session = register(api, "changelock")
    for _ in range(10):
        answer = api.post(CHANGE, {"currentPassword": "Wrong123!", "newPassword": NEW_PASSWORD}, token=session["token"])
        assert answer.json == {"error": "Current password is incorrect"}
    locked = api.post("/api/v1/auth/login", {"email": email, "password": PASSWORD})
    assert locked.status == 429
    assert locked.json["error"] == "Rate limit exceeded"
    assert locked.json["message"] == "Too many failed login attempts. Try again in 900 seconds."
    manual_clock.advance(timedelta(minutes=15))
    assert login_status(api, email, PASSWORD) == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        None,
        {"currentPassword": PASSWORD},
        {"newPassword": NEW_PASSWORD},
        {"current_password": PASSWORD, "newPassword": ""},
        {"currentPassword": "", "newPassword": NEW_PASSWORD},
        {"currentPassword": 123, "newPassword": NEW_PASSWORD},
        {"currentPassword": PASSWORD, "newPassword": None},
    ],
)
def test_both_passwords_are_required(api, body):
    email, session = register(api)
    answer = api.post(CHANGE, body, token=session["token"])
    assert answer.status == 400
    assert answer.json == REQUIRED
    assert login_status(api, email, PASSWORD) == 200


@pytest.mark.parametrize(
    ("password", "message"),
    WEAK_PASSWORDS,
)
def test_a_weak_new_password_answers_the_first_failing_rule(api, password, message):
    email, session = register(api)
    answer = api.post(CHANGE, {"currentPassword": PASSWORD, "newPassword": password}, token=session["token"])
    assert answer.status == 400
    assert answer.json == {"error": message}
    assert login_status(api, email, PASSWORD) == 200


def test_an_impersonation_token_may_not_change_the_password(api):
    email, session = register(api)
    borrowed = impersonation_token(session["user_id"])
    body = {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}
    answer = api.post(CHANGE, body, token=borrowed)
    assert answer.status == 403
    assert answer.json == {"error": "Not allowed while impersonating"}
    assert login_status(api, email, PASSWORD) == 200
    assert api.get("/api/v1/auth/me", token=borrowed).status == 200


def test_change_password_needs_a_user(api):
    answer = api.post(CHANGE, {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD})
    assert answer.status == 401
    assert answer.json == {"error": "Authorization header is required"}
    bad = api.post(CHANGE, {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}, token="nope")
    assert bad.status == 401
    assert bad.json == {"error": "Invalid or expired token"}


def test_malformed_json(api):
    _, session = register(api)
    answer = api.request("POST", CHANGE, body="{", headers={"Content-Type": "application/json"}, token=session["token"])
    assert answer.status == 400
    assert answer.json == {"error": "Invalid JSON body"}
