"""POST /api/v1/auth/refresh (contract auth.md §1.2, §3.3): rotation, reuse detection, expiry.

Shared seeded account: every test registers its own users. Expiry tests run on the manual clock.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import jwt
import pytest

from chalicelib.users.models import UserItem
from chalicelib.users.repository import find_user
from tests.integration.conftest import drain_events, outbox_events, sent_mail

REFRESH = "/api/v1/auth/refresh"
PASSWORD = "Secret123!"
ENVELOPE = {"success": False, "token": None, "user_id": None, "user": None, "refresh_token": None}
TOKEN_KEYS = {"success", "token", "refresh_token", "expires_in", "user_id", "error", "user"}
REFRESH_TOKEN = re.compile(r"^rt_[A-Za-z0-9_-]{43}$")


def register(api, tag: str = "refresh") -> tuple[str, dict[str, Any]]:
    email = f"{tag}-{uuid.uuid4().hex[:12]}@example.com"
    answer = api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD})
    assert answer.status == 200, answer.json
    return email, answer.json


def refresh(api, token: Any):
    return api.post(REFRESH, {"refresh_token": token})


def error(message: str) -> dict[str, Any]:
    return {**ENVELOPE, "error": message}


def sid(access_token: str) -> str:
    return str(jwt.decode(access_token, options={"verify_signature": False})["sid"])


def me_status(api, token: str) -> int:
    return api.get("/api/v1/auth/me", token=token).status


# --- rotation --------------------------------------------------------------------------------------------------


def test_refresh_rotates_the_token_within_the_family(api):
    email, first = register(api)
    answer = refresh(api, first["refresh_token"])

    assert answer.status == 200
    body = answer.json
    assert set(body) == TOKEN_KEYS
    assert body["success"] is True
    assert body["error"] is None
    assert body["expires_in"] == 900
    assert body["user_id"] == first["user_id"]
    assert body["user"] == first["user"]
    assert REFRESH_TOKEN.match(body["refresh_token"])
    assert body["refresh_token"] != first["refresh_token"]
    assert body["token"] != first["token"]
    assert sid(body["token"]) == sid(first["token"])
    assert api.get("/api/v1/auth/me", token=body["token"]).json["email"] == email


def test_the_new_refresh_token_rotates_again(api):
    _, first = register(api)
    second = refresh(api, first["refresh_token"]).json
    third = refresh(api, second["refresh_token"])
    assert third.status == 200
    assert third.json["refresh_token"] not in (first["refresh_token"], second["refresh_token"])
    assert sid(third.json["token"]) == sid(first["token"])


def test_the_user_object_follows_the_current_details(api):
    _, first = register(api)
    named = api.put("/api/v1/user/details", {"first_name": "Ada", "last_name": "Byron"}, token=first["token"])
    assert named.status == 200
    assert refresh(api, first["refresh_token"]).json["user"]["name"] == "Ada Byron"


# --- reuse detection -------------------------------------------------------------------------------------------


def test_reusing_a_rotated_token_revokes_the_whole_family(api):
    email, first = register(api)
    second = refresh(api, first["refresh_token"]).json
    third = refresh(api, second["refresh_token"]).json

    reused = refresh(api, first["refresh_token"])
    assert reused.status == 401
    assert reused.json == error("Refresh token reuse detected")

    newest = refresh(api, third["refresh_token"])
    assert newest.status == 401
    assert newest.json == error("Invalid refresh token")
    for access in (first["token"], second["token"], third["token"]):
        answer = api.get("/api/v1/auth/me", token=access)
        assert answer.status == 401
        assert answer.json == {"error": "Invalid or expired token"}
    # Presenting the rotated token again: its family is gone now.
    assert refresh(api, first["refresh_token"]).json == error("Invalid refresh token")
    # A new login is a new family and works.
    assert me_status(api, api.token(email, PASSWORD)) == 200


def test_reuse_ends_only_the_family_it_happened_in(api):
    email, first = register(api)
    other = api.login(email, PASSWORD)
    refresh(api, first["refresh_token"])
    assert refresh(api, first["refresh_token"]).json == error("Refresh token reuse detected")

    assert me_status(api, other["token"]) == 200
    assert refresh(api, other["refresh_token"]).status == 200


def test_reuse_records_the_event_and_sends_a_security_notice(api):
    email, first = register(api, "reuse")
    refresh(api, first["refresh_token"])
    refresh(api, first["refresh_token"])

    found = outbox_events("auth.refresh_reuse_detected")
    events = [e["data"] for e in found if e["data"]["user_id"] == first["user_id"]]
    assert len(events) == 1
    assert events[0]["family_id"] == sid(first["token"])
    drain_events()
    subjects = [m["subject"] for m in sent_mail() if m["to"] == [email]]
    assert subjects.count("A session of yours was ended for safety") == 1


# --- refused requests ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [{}, None, {"refresh_token": ""}, {"refresh_token": 123}, {"refresh_token": None}])
def test_missing_refresh_token(api, body):
    answer = api.post(REFRESH, body)
    assert answer.status == 400
    assert answer.json == error("refresh_token is required")


@pytest.mark.parametrize("token", ["nonsense", "rt_", "rt_" + "A" * 43, "Bearer rt_abc", " rt_" + "b" * 43])
def test_unknown_refresh_tokens(api, token):
    answer = refresh(api, token)
    assert answer.status == 401
    assert answer.json == error("Invalid refresh token")


def test_an_access_token_is_not_a_refresh_token(api):
    _, first = register(api)
    assert refresh(api, first["token"]).json == error("Invalid refresh token")


def test_malformed_json(api):
    answer = api.request("POST", REFRESH, body="{refresh_token}", headers={"Content-Type": "application/json"})
    assert answer.status == 400
    assert answer.json == error("Invalid JSON body")


def test_a_suspended_user_cannot_refresh_and_loses_the_family(api):
    _, first = register(api)
    user = find_user(first["user_id"])
    user.update(actions=[UserItem.status.set("SUSPENDED")])
    answer = refresh(api, first["refresh_token"])
    assert answer.status == 401
    assert answer.json == error("User account is not active")

    user = find_user(first["user_id"])
    user.update(actions=[UserItem.status.set("ACTIVE")])
    assert refresh(api, first["refresh_token"]).json == error("Invalid refresh token")


def test_a_logged_out_refresh_token_is_invalid(api):
    _, first = register(api)
    assert api.post("/api/v1/auth/logout", {"refresh_token": first["refresh_token"]}).status == 200
    assert refresh(api, first["refresh_token"]).json == error("Invalid refresh token")


# --- expiry ----------------------------------------------------------------------------------------------------


def test_a_refresh_token_lives_30_days(api, manual_clock):
    _, keeps = register(api)
    _, lapses = register(api)

    manual_clock.advance(timedelta(days=30, seconds=-1))
    assert refresh(api, keeps["refresh_token"]).status == 200

    manual_clock.advance(timedelta(seconds=2))
    answer = refresh(api, lapses["refresh_token"])
    assert answer.status == 401
    assert answer.json == error("Refresh token expired")


def test_each_rotated_token_gets_30_days_from_its_own_issue(api, manual_clock):
    _, first = register(api)
    manual_clock.advance(timedelta(days=20))
    second = refresh(api, first["refresh_token"]).json
    manual_clock.advance(timedelta(days=20))
    third = refresh(api, second["refresh_token"])
    assert third.status == 200
    manual_clock.advance(timedelta(days=30, seconds=1))
    assert refresh(api, third.json["refresh_token"]).json == error("Refresh token expired")


def test_a_family_ends_90_days_after_its_login(api, manual_clock):
    _, first = register(api)
    token = first["refresh_token"]
    for _ in range(3):
        manual_clock.advance(timedelta(days=29))
        answer = refresh(api, token)
        assert answer.status == 200, answer.json
        token = answer.json["refresh_token"]
    # Day 87: the newest token is 0 days old, but the family is 90 days old at day 90.
    manual_clock.advance(timedelta(days=3, seconds=1))
    answer = refresh(api, token)
    assert answer.status == 401
    assert answer.json == error("Refresh token expired")


def test_an_expired_access_token_can_be_replaced_through_refresh(api, manual_clock):
    _, first = register(api)
    manual_clock.advance(timedelta(hours=1))
    assert me_status(api, first["token"]) == 401
    renewed = refresh(api, first["refresh_token"]).json
    assert me_status(api, renewed["token"]) == 200
