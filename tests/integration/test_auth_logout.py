"""POST /api/v1/auth/logout (contract auth.md §1.3, §1.4, §3.5). Shared seeded account, own users only."""

from __future__ import annotations

import uuid
from typing import Any

import jwt
import pytest

from chalicelib.auth.sessions import open_impersonation_session
from chalicelib.core import clock
from chalicelib.store.transactions import Transaction
from chalicelib.users.repository import find_user, find_user_by_email
from tests.integration.conftest import outbox_events

LOGOUT = "/api/v1/auth/logout"
PASSWORD = "Secret123!"
LOGGED_OUT = {"message": "Logged out successfully"}
INVALID_TOKEN = {"error": "Invalid or expired token"}
INVALID_REFRESH = {
    "success": False,
    "error": "Invalid refresh token",
    "token": None,
    "user_id": None,
    "user": None,
    "refresh_token": None,
}


def register(api) -> tuple[str, dict[str, Any]]:
    email = f"logout-{uuid.uuid4().hex[:12]}@example.com"
    answer = api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD})
    assert answer.status == 200, answer.json
    return email, answer.json


def me(api, token: str):
    return api.get("/api/v1/auth/me", token=token)


def refresh(api, token: str):
    return api.post("/api/v1/auth/refresh", {"refresh_token": token})


def impersonation_token(user_id: str) -> str:
    admin = find_user_by_email("admin@example.com")
    tx = Transaction()
    issued = open_impersonation_session(tx, find_user(user_id), admin.id, clock.now())
    tx.commit()
    return issued.access.token


def logout_events(user_id: str) -> list[dict[str, Any]]:
    found = [e["data"] for e in outbox_events("auth.logout")]
    return [data for data in found if data["user_id"] == user_id]


def sid(access_token: str) -> str:
    return str(jwt.decode(access_token, options={"verify_signature": False})["sid"])


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (None, None),
        ({}, None),
        ({"refresh_token": "rt_" + "x" * 43}, None),
        ({"refresh_token": "garbage"}, None),
        ({"refresh_token": 5}, None),
        (None, {"Authorization": "Bearer not-a-jwt"}),
        (None, {"Authorization": "Basic abc"}),
        (None, {"Authorization": "Bearer"}),
    ],
)
def test_logout_always_answers_200(api, body, headers):
    answer = api.post(LOGOUT, body, headers=headers)
    assert answer.status == 200
    assert answer.json == LOGGED_OUT


def test_logout_with_the_access_token_ends_its_session(api):
    _, session = register(api)
    answer = api.post(LOGOUT, token=session["token"])
    assert answer.status == 200
    assert answer.json == LOGGED_OUT

    denied = me(api, session["token"])
    assert denied.status == 401
    assert denied.json == INVALID_TOKEN
    refused = refresh(api, session["refresh_token"])
    assert refused.status == 401
    assert refused.json == INVALID_REFRESH


def test_logout_with_only_the_refresh_token_ends_its_session(api):
    _, session = register(api)
    assert api.post(LOGOUT, {"refresh_token": session["refresh_token"]}).json == LOGGED_OUT

    assert me(api, session["token"]).json == INVALID_TOKEN
    assert refresh(api, session["refresh_token"]).json == INVALID_REFRESH


def test_logout_with_a_rotated_refresh_token_ends_the_family(api):
    _, session = register(api)
    rotated = refresh(api, session["refresh_token"]).json
    assert api.post(LOGOUT, {"refresh_token": session["refresh_token"]}).status == 200
    assert me(api, rotated["token"]).status == 401
    assert refresh(api, rotated["refresh_token"]).json == INVALID_REFRESH


def test_logout_ends_only_the_sessions_it_names(api):
    email, first = register(api)
    second = api.login(email, PASSWORD)
    third = api.login(email, PASSWORD)

    # The access token names the first session, the body the second one; the third stays.
    assert api.post(LOGOUT, {"refresh_token": second["refresh_token"]}, token=first["token"]).status == 200

    assert me(api, first["token"]).status == 401
    assert me(api, second["token"]).status == 401
    assert me(api, third["token"]).status == 200
    assert refresh(api, third["refresh_token"]).status == 200


def test_logging_out_twice_is_fine(api):
    _, session = register(api)
    for _ in range(2):
        answer = api.post(LOGOUT, {"refresh_token": session["refresh_token"]}, token=session["token"])
        assert answer.status == 200
        assert answer.json == LOGGED_OUT


def test_logout_records_auth_logout_once_per_ended_session(api):
    email, first = register(api)
    second = api.login(email, PASSWORD)
    api.post(LOGOUT, {"refresh_token": second["refresh_token"]}, token=first["token"])
    api.post(LOGOUT, token=first["token"])  # already revoked: nothing more to record

    events = logout_events(first["user_id"])
    assert sorted(e["sid"] for e in events) == sorted([sid(first["token"]), sid(second["token"])])


def test_a_login_after_logout_works(api):
    email, session = register(api)
    api.post(LOGOUT, token=session["token"])
    assert me(api, api.token(email, PASSWORD)).status == 200


def test_an_impersonation_token_only_revokes_itself(api):
    _, session = register(api)
    borrowed = impersonation_token(session["user_id"])
    assert me(api, borrowed).status == 200

    answer = api.post(LOGOUT, {"refresh_token": session["refresh_token"]}, token=borrowed)
    assert answer.status == 200
    assert answer.json == LOGGED_OUT

    assert me(api, borrowed).json == INVALID_TOKEN
    assert me(api, session["token"]).status == 200
    assert refresh(api, session["refresh_token"]).status == 200
