"""Concurrent duplicates on the auth routes (contract auth.md §1.2, §2.4; README §1.12).

Requests go through one Chalice test client from many threads at once; the shared seeded account only gains the
users the tests register.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest

from chalicelib.users.models import EmailGuardItem, UserItem, email_key
from chalicelib.users.repository import find_user_id_by_email
from tests.integration.conftest import at_once, drain_events, outbox_events, sent_mail

THREADS = 20
PASSWORD = "Secret123!"
TAKEN = {
    "success": False,
    "error": "User with this email already exists",
    "token": None,
    "user_id": None,
    "user": None,
}


pytestmark = pytest.mark.usefixtures("atomic_dynamodb")


def users_with_email(email: str) -> list[UserItem]:
    return [user for user in UserItem.gsi1.query("USERS") if isinstance(user, UserItem) and user.email == email]


def guards_of(email: str) -> list[EmailGuardItem]:
    pk, _ = email_key(email)
    return list(EmailGuardItem.query(pk))


def test_twenty_simultaneous_registrations_of_one_email_make_one_user(api):
    email = f"race-{uuid.uuid4().hex[:12]}@example.com"

    answers = at_once(THREADS, lambda _: api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD}))

    assert Counter(a.status for a in answers) == {200: 1, 400: THREADS - 1}
    winner = next(a for a in answers if a.status == 200)
    assert all(a.json == TAKEN for a in answers if a.status == 400)
    user_id = winner.json["user_id"]
    assert find_user_id_by_email(email) == user_id
    assert [user.id for user in users_with_email(email)] == [user_id]
    assert [guard.user_id for guard in guards_of(email)] == [user_id]
    assert api.login(email, PASSWORD)["user_id"] == user_id

    drain_events()
    assert [m["subject"] for m in sent_mail() if m["to"] == [email]] == ["Welcome to VBWD"]


def test_the_email_guard_decides_when_every_request_passes_the_early_check(api, monkeypatch):
    """All twenty requests read "no such e-mail" first (as when they arrive in the same instant); the conditional
    write of the e-mail guard inside the registration transaction must still let exactly one through."""
    import chalicelib.auth.service as service

    monkeypatch.setattr(service, "find_user_id_by_email", lambda email: None)
    email = f"race-{uuid.uuid4().hex[:12]}@example.com"

    answers = at_once(THREADS, lambda _: api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD}))

    assert Counter(a.status for a in answers) == {200: 1, 400: THREADS - 1}
    assert all(a.json == TAKEN for a in answers if a.status == 400)
    user_id = next(a for a in answers if a.status == 200).json["user_id"]
    assert find_user_id_by_email(email) == user_id
    assert [user.id for user in users_with_email(email)] == [user_id]
    assert [guard.user_id for guard in guards_of(email)] == [user_id]


def test_simultaneous_registrations_in_different_spellings_make_one_user(api):
    local = f"race-{uuid.uuid4().hex[:12]}"
    spellings = [f"{local}@example.com", f"{local.upper()}@EXAMPLE.COM", f" {local}@Example.com "]

    def register(index: int) -> Any:
        return api.post("/api/v1/auth/register", {"email": spellings[index % 3], "password": PASSWORD})

    answers = at_once(THREADS, register)

    assert Counter(a.status for a in answers) == {200: 1, 400: THREADS - 1}
    assert all(a.json == TAKEN for a in answers if a.status == 400)
    email = f"{local}@example.com"
    assert len(users_with_email(email)) == 1
    assert len(guards_of(email)) == 1


def test_simultaneous_refreshes_of_one_token_rotate_it_once_and_end_the_family(api):
    email = f"race-{uuid.uuid4().hex[:12]}@example.com"
    registered = api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD}).json

    answers = at_once(10, lambda _: api.post("/api/v1/auth/refresh", {"refresh_token": registered["refresh_token"]}))

    winners = [a for a in answers if a.status == 200]
    assert len(winners) == 1
    losers = [a for a in answers if a.status != 200]
    assert {a.status for a in losers} == {401}
    assert {a.json["error"] for a in losers} <= {"Refresh token reuse detected", "Invalid refresh token"}
    assert "Refresh token reuse detected" in {a.json["error"] for a in losers}
    # The token was used more than once, so its family is revoked: even the winner's new tokens are dead.
    new = winners[0].json
    assert api.post("/api/v1/auth/refresh", {"refresh_token": new["refresh_token"]}).json["error"] == (
        "Invalid refresh token"
    )
    assert api.get("/api/v1/auth/me", token=new["token"]).status == 401


def test_simultaneous_failed_logins_are_all_counted_and_the_lock_is_announced_once(api):
    """Each failure is a conditional write on the e-mail's counter, retried on top of the one that won."""
    from chalicelib.auth import repository

    email = f"race-{uuid.uuid4().hex[:12]}@example.com"
    api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD})

    answers = at_once(10, lambda _: api.post("/api/v1/auth/login", {"email": email, "password": "Wrong123!"}))

    assert Counter(a.status for a in answers) == {401: 10}
    counter = repository.login_failures(email)
    assert counter is not None and int(counter.failures) == 10
    locked = api.post("/api/v1/auth/login", {"email": email, "password": PASSWORD})
    assert locked.status == 429
    assert [e["data"]["email"] for e in outbox_events("auth.locked")].count(email) == 1
    failures = [e["data"]["failure_count"] for e in outbox_events("auth.login_failed") if e["data"]["email"] == email]
    assert sorted(failures) == list(range(1, 11))


def test_simultaneous_resets_with_one_token_reset_once(api):
    email = f"race-{uuid.uuid4().hex[:12]}@example.com"
    api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD})
    assert api.post("/api/v1/auth/forgot-password", {"email": email}).status == 200
    [event] = [e["data"] for e in outbox_events("user.password_reset_requested") if e["data"]["email"] == email]
    token = event["reset_url"].split("token=", 1)[1]

    def reset(number: int) -> Any:
        return api.post("/api/v1/auth/reset-password", {"token": token, "new_password": f"Renewed{number}45?"})

    answers = at_once(8, reset)

    assert Counter(a.status for a in answers) == {200: 1, 400: 7}
    assert {a.json["error"] for a in answers if a.status == 400} == {"Token already used"}
    winner = next(number for number, a in enumerate(answers) if a.status == 200)
    login = api.post("/api/v1/auth/login", {"email": email, "password": f"Renewed{winner}45?"})
    assert login.status == 200


def test_simultaneous_logins_of_one_user_each_open_a_session(api):
    email = f"race-{uuid.uuid4().hex[:12]}@example.com"
    api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD})

    answers = at_once(8, lambda _: api.post("/api/v1/auth/login", {"email": email, "password": PASSWORD}))

    assert Counter(a.status for a in answers) == {200: 8}
    assert len({a.json["refresh_token"] for a in answers}) == 8
    assert all(api.get("/api/v1/auth/me", token=a.json["token"]).status == 200 for a in answers)
