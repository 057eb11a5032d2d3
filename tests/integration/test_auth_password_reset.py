"""POST /api/v1/auth/forgot-password and /auth/reset-password (contract auth.md §1.3, §3.7, §3.8; README §1.9).

Shared seeded account: every test resets the password of users it registered. The reset link is read from the
mail moto's SES accepted after the worker ran once.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.users.models import UserItem
from chalicelib.users.repository import find_user
from tests.contract import WEAK_PASSWORDS
from tests.integration.conftest import drain_events, outbox_events, password_change_notice, sent_mail

FORGOT = "/api/v1/auth/forgot-password"
RESET = "/api/v1/auth/reset-password"
PASSWORD = "Secret123!"
NEW_PASSWORD = "Renewed456?"
SENT = {"message": "If email exists, reset link sent"}
DONE = {"message": "Password reset successful"}
LINK = re.compile(r"(http://localhost:5173/reset-password\?token=)([A-Za-z0-9_-]+)")


def register(api, tag: str = "reset") -> tuple[str, dict[str, Any]]:
    email = f"{tag}-{uuid.uuid4().hex[:12]}@example.com"
    answer = api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD})
    assert answer.status == 200, answer.json
    return email, answer.json


def reset_mails(email: str) -> list[dict[str, Any]]:
    drain_events()
    return [m for m in sent_mail() if m["to"] == [email] and m["subject"] == "Reset your password"]


def reset_tokens(email: str) -> list[str]:
    tokens = []
    for mail in reset_mails(email):
        found = LINK.search(mail["body"])
        assert found, mail["body"]
        tokens.append(found.group(2))
    return tokens


def request_token(api, email: str) -> str:
    before = len(reset_tokens(email))
    assert api.post(FORGOT, {"email": email}).json == SENT
    tokens = reset_tokens(email)
    assert len(tokens) == before + 1
    return tokens[-1]


def reset(api, token: Any, new_password: Any = NEW_PASSWORD):
    return api.post(RESET, {"token": token, "new_password": new_password})


def login_status(api, email: str, password: str) -> int:
    return api.post("/api/v1/auth/login", {"email": email, "password": password}).status


def set_status(user_id: str, status: str) -> None:
    find_user(user_id).update(actions=[UserItem.status.set(status)])


# --- forgot-password -------------------------------------------------------------------------------------------


def test_a_known_email_gets_a_reset_mail(api):
    email, registered = register(api)
    answer = api.post(FORGOT, {"email": email})
    assert answer.status == 200
    assert answer.json == SENT

    mails = reset_mails(email)
    assert len(mails) == 1
    found = LINK.search(mails[0]["body"])
    assert found is not None
    assert len(found.group(2)) == 43
    assert "within one hour" in mails[0]["body"]

    events = [e["data"] for e in outbox_events("user.password_reset_requested")]
    mine = [data for data in events if data["user_id"] == registered["user_id"]]
    assert len(mine) == 1
    assert mine[0]["email"] == email
    assert mine[0]["reset_url"] == found.group(0)


def test_an_unknown_email_gets_the_same_answer_and_no_mail(api):
    email = f"ghost-{uuid.uuid4().hex[:12]}@example.com"
    answer = api.post(FORGOT, {"email": email})
    assert answer.status == 200
    assert answer.json == SENT
    assert reset_mails(email) == []


def test_an_inactive_user_gets_the_same_answer_and_no_mail(api):
    email, registered = register(api)
    set_status(registered["user_id"], "SUSPENDED")
    assert api.post(FORGOT, {"email": email}).json == SENT
    assert reset_mails(email) == []


def test_the_email_is_trimmed_and_lower_cased(api):
    email, _ = register(api)
    assert api.post(FORGOT, {"email": f"  {email.upper()} "}).json == SENT
    assert len(reset_mails(email)) == 1


@pytest.mark.parametrize("body", [{}, None, {"email": ""}, {"email": "   "}, {"email": 5}, {"email": None}])
def test_forgot_password_needs_an_email(api, body):
    answer = api.post(FORGOT, body)
    assert answer.status == 400
    assert answer.json == {"error": "Email required"}


def test_at_most_five_reset_mails_per_email_per_hour(api, manual_clock):
    email, _ = register(api, "resetlimit")
    for _ in range(6):
        answer = api.post(FORGOT, {"email": email})
        assert answer.status == 200
        assert answer.json == SENT
    assert len(reset_mails(email)) == 5

    manual_clock.advance(timedelta(hours=1))
    assert api.post(FORGOT, {"email": email}).json == SENT
    assert len(reset_mails(email)) == 6


def test_the_hourly_limit_counts_unknown_and_known_spellings_together(api, manual_clock):
    email, _ = register(api, "resetcase")
    for index in range(5):
        api.post(FORGOT, {"email": email.upper() if index % 2 else email})
    api.post(FORGOT, {"email": f" {email.title()} "})
    assert len(reset_mails(email)) == 5


# --- reset-password --------------------------------------------------------------------------------------------


def test_the_mailed_token_resets_the_password_once(api):
    email, _ = register(api)
    token = request_token(api, email)

    answer = reset(api, token)
    assert answer.status == 200
    assert answer.json == DONE

    assert login_status(api, email, NEW_PASSWORD) == 200
    assert login_status(api, email, PASSWORD) == 401
    again = reset(api, token, "Another789#")
    assert again.status == 400
    assert again.json == {"error": "Token already used"}
    assert login_status(api, email, NEW_PASSWORD) == 200


def test_a_reset_ends_every_session_opened_before_it(api):
    email, registered = register(api)
    other_session = api.login(email, PASSWORD)
    assert reset(api, request_token(api, email)).json == DONE

    for session in (registered, other_session):
        denied = api.get("/api/v1/auth/me", token=session["token"])
        assert denied.status == 401
        assert denied.json == {"error": "Invalid or expired token"}
        refused = api.post("/api/v1/auth/refresh", {"refresh_token": session["refresh_token"]})
        assert refused.status == 401
        assert refused.json["error"] == "Invalid refresh token"
    fresh = api.login(email, NEW_PASSWORD)
    assert api.get("/api/v1/auth/me", token=fresh["token"]).status == 200
    assert api.post("/api/v1/auth/refresh", {"refresh_token": fresh["refresh_token"]}).status == 200


def test_a_reset_sends_the_password_changed_notice(api):
    email, registered = register(api)
    assert reset(api, request_token(api, email)).json == DONE

    assert "reset with an e-mailed link" in password_change_notice(registered["user_id"], email, "reset")


def test_a_newer_request_voids_the_older_token(api):
    email, _ = register(api)
    older = request_token(api, email)
    newer = request_token(api, email)
    assert older != newer

    answer = reset(api, older)
    assert answer.status == 400
    assert answer.json == {"error": "Token already used"}
    assert login_status(api, email, PASSWORD) == 200
    assert reset(api, newer).json == DONE


@pytest.mark.parametrize("token", ["unknown", "A" * 43, "rt_" + "a" * 43])
def test_an_unknown_token(api, token):
    answer = reset(api, token)
    assert answer.status == 400
    assert answer.json == {"error": "Invalid token"}


def test_a_token_is_valid_for_one_hour(api, manual_clock):
    keeps_email, _ = register(api, "resetkeeps")
    lapses_email, _ = register(api, "resetlapses")
    keeps, lapses = request_token(api, keeps_email), request_token(api, lapses_email)

    manual_clock.advance(timedelta(minutes=59, seconds=59))
    assert reset(api, keeps).json == DONE

    manual_clock.advance(timedelta(seconds=2))
    answer = reset(api, lapses)
    assert answer.status == 400
    assert answer.json == {"error": "Token expired"}
    assert login_status(api, lapses_email, PASSWORD) == 200


@pytest.mark.parametrize(
    ("password", "message"),
    WEAK_PASSWORDS,
)
def test_a_weak_password_answers_the_first_failing_rule(api, password, message):
    email, _ = register(api)
    token = request_token(api, email)
    answer = reset(api, token, password)
    assert answer.status == 400
    assert answer.json == {"error": message}
    # The token was not spent by the refused attempt.
    assert reset(api, token).json == DONE


@pytest.mark.parametrize(
    "body",
    [
        {},
        None,
        {"token": "abc"},
        {"new_password": NEW_PASSWORD},
        {"token": "", "new_password": NEW_PASSWORD},
        {"token": "abc", "new_password": ""},
        {"token": 5, "new_password": NEW_PASSWORD},
    ],
)
def test_token_and_new_password_are_required(api, body):
    answer = api.post(RESET, body)
    assert answer.status == 400
    assert answer.json == {"error": "Token and new password required"}


def test_a_user_who_is_no_longer_active_cannot_reset(api):
    email, registered = register(api)
    token = request_token(api, email)
    set_status(registered["user_id"], "SUSPENDED")
    answer = reset(api, token)
    assert answer.status == 400
    assert answer.json == {"error": "Password reset failed"}


def test_a_user_who_no_longer_exists_cannot_reset(api):
    email, registered = register(api)
    token = request_token(api, email)
    find_user(registered["user_id"]).delete()
    answer = reset(api, token)
    assert answer.status == 400
    assert answer.json == {"error": "Password reset failed"}


def test_malformed_json(api):
    answer = api.request("POST", RESET, body="{", headers={"Content-Type": "application/json"})
    assert answer.status == 400
    assert answer.json == {"error": "Invalid JSON body"}
