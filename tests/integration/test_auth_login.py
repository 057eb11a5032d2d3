"""POST /api/v1/auth/login (contract auth.md §3.2, §2.1; seed-data.md §2–§3) and the failed-login limit.

Shared seeded account: seeded users are only logged in successfully; wrong passwords, locks and status changes
use users registered by the test. The failed-login tests run on the manual clock, so their 15-minute windows are
exact.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.core.ids import seed_id
from chalicelib.seed.data import OBSERVER_PERMISSIONS
from chalicelib.users.models import UserItem
from chalicelib.users.repository import find_user
from tests.contract import LOGGED_IN_LEVEL, LOGGED_IN_PERMISSIONS, PRO_PERMISSIONS
from tests.integration.conftest import drain_events, outbox_events, sent_mail

LOGIN = "/api/v1/auth/login"
PASSWORD = "Secret123!"
ENVELOPE = {"success": False, "token": None, "user_id": None, "user": None}
TOKEN_KEYS = {"success", "token", "refresh_token", "expires_in", "user_id", "error", "user"}
REFRESH_TOKEN = re.compile(r"^rt_[A-Za-z0-9_-]{43}$")
INVALID = {**ENVELOPE, "error": "Invalid credentials"}
INACTIVE = {**ENVELOPE, "error": "User account is inactive"}


def unique_email(tag: str = "login") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


def register(api, tag: str = "login") -> tuple[str, dict[str, Any]]:
    email = unique_email(tag)
    answer = api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD})
    assert answer.status == 200, answer.json
    return email, answer.json


def attempt(api, email: str, password: str):
    return api.post(LOGIN, {"email": email, "password": password})


def locked(seconds: int) -> dict[str, Any]:
    return {
        **ENVELOPE,
        "error": "Rate limit exceeded",
        "message": f"Too many failed login attempts. Try again in {seconds} seconds.",
    }


def set_status(user_id: str, status: str) -> None:
    user = find_user(user_id)
    assert user is not None
    user.update(actions=[UserItem.status.set(status)])


def summary(kind: str, slug: str, name: str) -> dict[str, str]:
    return {"id": seed_id(kind, slug), "slug": slug, "name": name}


# --- seeded users ----------------------------------------------------------------------------------------------


def test_login_of_the_seeded_user(api):
    answer = attempt(api, "test@example.com", "TestPass123@")
    assert answer.status == 200
    body = answer.json
    assert set(body) == TOKEN_KEYS
    assert body["success"] is True
    assert body["error"] is None
    assert body["expires_in"] == 900
    assert REFRESH_TOKEN.match(body["refresh_token"])
    assert body["user_id"] == seed_id("user", "test@example.com")
    user = dict(body["user"])
    assert sorted(user.pop("user_permissions")) == sorted(LOGGED_IN_PERMISSIONS)
    assert user == {
        "id": seed_id("user", "test@example.com"),
        "email": "test@example.com",
        "name": "Test User",
        "role": "USER",
        "is_admin": False,
        "access_levels": [],
        "permissions": [],
        "user_access_levels": [LOGGED_IN_LEVEL],
    }


def test_login_of_the_admin_without_roles_has_every_permission(api):
    user = api.login("admin@example.com", "AdminPass123@")["user"]
    assert user == {
        "id": seed_id("user", "admin@example.com"),
        "email": "admin@example.com",
        "name": "Admin User",
        "role": "ADMIN",
        "is_admin": True,
        "access_levels": [],
        "permissions": ["*"],
        "user_access_levels": [],
        "user_permissions": [],
    }


def test_login_of_the_super_admin(api):
    user = api.login("super@example.com", "SuperPass123@")["user"]
    assert (user["role"], user["is_admin"], user["permissions"], user["name"]) == (
        "SUPER_ADMIN",
        True,
        ["*"],
        "Super Admin",
    )


def test_login_of_the_observer_lists_its_role_and_permissions(api):
    user = dict(api.login("observer@example.com", "ObserverPass123@")["user"])
    assert sorted(user.pop("permissions")) == sorted(OBSERVER_PERMISSIONS)
    assert len(OBSERVER_PERMISSIONS) == 10
    assert user == {
        "id": seed_id("user", "observer@example.com"),
        "email": "observer@example.com",
        "name": "Olga Observer",
        "role": "ADMIN",
        "is_admin": True,
        "access_levels": [summary("access_level", "observer", "Observer")],
        "user_access_levels": [],
        "user_permissions": [],
    }


def test_login_of_the_pro_user_lists_its_user_access_level(api):
    user = dict(api.login("user.pro@demo.local", "DemoPass123!")["user"])
    assert sorted(user.pop("user_permissions")) == sorted(PRO_PERMISSIONS)
    assert user == {
        "id": seed_id("user", "user.pro@demo.local"),
        "email": "user.pro@demo.local",
        "name": "Paula Pro",
        "role": "USER",
        "is_admin": False,
        "access_levels": [],
        "permissions": [],
        "user_access_levels": [summary("user_access_level", "subscribed-pro", "Subscribed (Pro)")],
    }


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("test2@example.com", "TestPass123@"),
        ("user.free@demo.local", "DemoPass123!"),
        ("user.de@demo.local", "DemoPass123!"),
        ("user.th@demo.local", "DemoPass123!"),
        ("pet.owner@demo.local", "DemoPass123!"),
    ],
)
def test_every_other_seeded_user_holds_the_level_a_registration_gets(api, email, password):
    user = api.login(email, password)["user"]
    assert user["user_access_levels"] == [LOGGED_IN_LEVEL]
    assert sorted(user["user_permissions"]) == sorted(LOGGED_IN_PERMISSIONS)


def test_a_user_without_details_is_named_after_the_email(api):
    assert api.login("test2@example.com", "TestPass123@")["user"]["name"] == "test2"


def test_login_email_is_compared_case_insensitively(api):
    body = api.login("  TEST@Example.com ", "TestPass123@")
    assert body["user"]["email"] == "test@example.com"
    assert body["user_id"] == seed_id("user", "test@example.com")


def test_every_login_opens_a_new_session(api):
    first = api.login("test@example.com", "TestPass123@")
    second = api.login("test@example.com", "TestPass123@")
    assert first["token"] != second["token"]
    assert first["refresh_token"] != second["refresh_token"]
    assert api.get("/api/v1/auth/me", token=first["token"]).status == 200
    assert api.get("/api/v1/auth/me", token=second["token"]).status == 200


def test_login_records_last_login_at(api):
    email, registered = register(api)
    assert find_user(registered["user_id"]).last_login_at is None
    api.login(email, PASSWORD)
    assert find_user(registered["user_id"]).last_login_at is not None


def test_unknown_body_keys_are_ignored(api):
    answer = api.post(LOGIN, {"email": "test@example.com", "password": "TestPass123@", "remember": True})
    assert answer.status == 200


# --- refused logins --------------------------------------------------------------------------------------------


def test_unknown_email(api):
    answer = attempt(api, unique_email("ghost"), PASSWORD)
    assert answer.status == 401
    assert answer.json == INVALID


def test_the_email_is_not_format_checked(api):
    answer = attempt(api, f"no-at-sign-{uuid.uuid4().hex[:8]}", PASSWORD)
    assert answer.status == 401
    assert answer.json == INVALID


def test_wrong_password(api):
    email, _ = register(api)
    for wrong in ("Secret123?", PASSWORD.lower(), PASSWORD + " ", "x"):
        answer = attempt(api, email, wrong)
        assert answer.status == 401
        assert answer.json == INVALID


@pytest.mark.parametrize("email", ["suspended@example.com", "pending@example.com"])
def test_inactive_seeded_users(api, email):
    answer = attempt(api, email, "TestPass123@")
    assert answer.status == 401
    assert answer.json == INACTIVE


@pytest.mark.parametrize("status", ["SUSPENDED", "DELETED", "PENDING"])
def test_a_user_whose_status_changed_cannot_log_in(api, status):
    email, registered = register(api)
    set_status(registered["user_id"], status)
    answer = attempt(api, email, PASSWORD)
    assert answer.status == 401
    assert answer.json == INACTIVE


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"email": ["Email is required"], "password": ["Password is required"]}),
        (None, {"email": ["Email is required"], "password": ["Password is required"]}),
        ({"email": "", "password": ""}, {"email": ["Email is required"], "password": ["Password is required"]}),
        ({"email": 5, "password": ["x"]}, {"email": ["Email is required"], "password": ["Password is required"]}),
        ({"email": "test@example.com"}, {"password": ["Password is required"]}),
        ({"password": "TestPass123@"}, {"email": ["Email is required"]}),
        ({"email": "   ", "password": "TestPass123@"}, {"email": ["Email is required"]}),
    ],
)
def test_missing_fields(api, body, fields):
    answer = api.post(LOGIN, body)
    assert answer.status == 400
    joined = "; ".join(f"{name}: {message}" for name, messages in fields.items() for message in messages)
    assert answer.json == {**ENVELOPE, "error": joined, "fields": fields}


def test_malformed_json(api):
    answer = api.request("POST", LOGIN, body="{", headers={"Content-Type": "application/json"})
    assert answer.status == 400
    assert answer.json == {**ENVELOPE, "error": "Invalid JSON body"}


def test_json_that_is_not_an_object(api):
    answer = api.post(LOGIN, ["test@example.com", "TestPass123@"])
    assert answer.status == 400
    assert answer.json == {**ENVELOPE, "error": "Request body must be a JSON object"}


def test_a_failed_login_records_auth_login_failed(api):
    email = unique_email("failed")
    attempt(api, email, PASSWORD)
    attempt(api, email.upper(), PASSWORD)
    events = sorted(
        (e["data"] for e in outbox_events("auth.login_failed") if e["data"]["email"] == email),
        key=lambda data: data["failure_count"],
    )
    assert [(d["email"], d["failure_count"]) for d in events] == [(email, 1), (email, 2)]
    assert all(isinstance(d["ip"], str) and d["ip"] for d in events)


# --- failed-login limit (10 per e-mail per 15 minutes) ---------------------------------------------------------


def test_ten_failures_lock_the_email_until_the_window_ends(api, manual_clock):
    email, _ = register(api, "lock")
    for _ in range(10):
        answer = attempt(api, email, "Wrong123!")
        assert answer.status == 401
        assert answer.json == INVALID

    refused = attempt(api, email, PASSWORD)
    assert refused.status == 429
    assert refused.json == locked(900)
    assert refused.headers["retry-after"] == "900"

    manual_clock.advance(timedelta(minutes=5))
    refused = attempt(api, email.upper(), PASSWORD)
    assert refused.status == 429
    assert refused.json == locked(600)
    assert refused.headers["retry-after"] == "600"

    manual_clock.advance(timedelta(minutes=9, seconds=59))
    assert attempt(api, email, PASSWORD).json == locked(1)

    manual_clock.advance(timedelta(seconds=1))
    answer = attempt(api, email, PASSWORD)
    assert answer.status == 200
    assert answer.json["user"]["email"] == email


def test_reaching_the_limit_records_auth_locked_and_warns_the_owner(api, manual_clock):
    email, _ = register(api, "locknotice")
    for _ in range(11):
        attempt(api, email, "Wrong123!")

    events = [e["data"] for e in outbox_events("auth.locked") if e["data"]["email"] == email]
    assert events == [{"email": email, "until": "2026-05-01T09:15:00Z"}]
    drain_events()
    notices = [m for m in sent_mail() if m["to"] == [email] and m["subject"] == "Too many failed sign-in attempts"]
    assert len(notices) == 1
    assert "2026-05-01T09:15:00Z" in notices[0]["body"]


def test_the_lock_also_refuses_wrong_passwords(api, manual_clock):
    email, _ = register(api, "lockwrong")
    for _ in range(10):
        attempt(api, email, "Wrong123!")
    answer = attempt(api, email, "Wrong123!")
    assert answer.status == 429
    assert answer.json == locked(900)


def test_the_lock_is_per_email(api, manual_clock):
    locked_email, _ = register(api, "lockone")
    other_email, _ = register(api, "lockother")
    for _ in range(10):
        attempt(api, locked_email, "Wrong123!")
    assert attempt(api, locked_email, PASSWORD).status == 429
    assert attempt(api, other_email, PASSWORD).status == 200


def test_unknown_emails_are_counted_too(api, manual_clock):
    ghost = unique_email("ghost")
    for _ in range(10):
        assert attempt(api, ghost, "Wrong123!").json == INVALID
    answer = attempt(api, ghost, "Wrong123!")
    assert answer.status == 429
    assert answer.json == locked(900)
    drain_events()
    assert [m for m in sent_mail() if m["to"] == [ghost]] == []


def test_failures_are_counted_per_lower_cased_email(api, manual_clock):
    email, _ = register(api, "lockcase")
    for index in range(10):
        attempt(api, email.upper() if index % 2 else f" {email} ", "Wrong123!")
    assert attempt(api, email, PASSWORD).json == locked(900)


def test_a_successful_login_resets_the_counter(api, manual_clock):
    email, _ = register(api, "lockreset")
    for _ in range(9):
        attempt(api, email, "Wrong123!")
    assert attempt(api, email, PASSWORD).status == 200
    for _ in range(9):
        attempt(api, email, "Wrong123!")
    # Without the reset this would be the 19th failure: locked.
    assert attempt(api, email, PASSWORD).status == 200


def test_the_window_starts_at_the_first_failure(api, manual_clock):
    email, _ = register(api, "lockwindow")
    for _ in range(9):
        attempt(api, email, "Wrong123!")
    manual_clock.advance(timedelta(minutes=15))
    # The nine earlier failures expired with their window; nine new ones stay below the limit.
    for _ in range(9):
        attempt(api, email, "Wrong123!")
    assert attempt(api, email, PASSWORD).status == 200


def test_failures_late_in_a_window_lock_only_until_that_window_ends(api, manual_clock):
    email, _ = register(api, "lockearly")
    attempt(api, email, "Wrong123!")
    manual_clock.advance(timedelta(minutes=10))
    for _ in range(9):
        attempt(api, email, "Wrong123!")
    answer = attempt(api, email, PASSWORD)
    assert answer.json == locked(300)
    assert answer.headers["retry-after"] == "300"
    manual_clock.advance(timedelta(minutes=5))
    assert attempt(api, email, PASSWORD).status == 200


def test_an_unreachable_store_answers_503_in_the_auth_envelope(api, monkeypatch):
    """auth.md §3.2: every error body of login carries the envelope — the 503 of README §1.4 too."""
    from botocore.exceptions import EndpointConnectionError

    from chalicelib.auth import lockout

    def unreachable(email: str, now: object) -> None:
        raise EndpointConnectionError(endpoint_url="http://dynamodb.invalid")

    monkeypatch.setattr(lockout, "current", unreachable)
    answer = api.post(LOGIN, {"email": "test@example.com", "password": PASSWORD}, headers={"X-Request-Id": "down-2"})
    assert answer.status == 503
    assert answer.json == {**ENVELOPE, "error": "Service unavailable", "request_id": "down-2"}
