"""The local stage's one clock over the running stack (admin.md §19): moved through the API, followed by the worker
— another process — and by token expiry."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests

from infra.local_env import clock_file
from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e
ADMIN = {"email": "admin@example.com", "password": "AdminPass123@"}
TEN_DAYS = 10 * 86_400


def _admin(local_stack: LocalStack, http: requests.Session) -> dict[str, str]:
    login = http.post(local_stack.url("/api/v1/auth/login"), json=ADMIN)
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['token']}"}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def moved_back(local_stack: LocalStack, http: requests.Session) -> Iterator[None]:
    """The stack's clock is put back on the real time after the test (the other tests of the tier run on it)."""
    yield
    http.post(local_stack.url("/api/v1/admin/dev/clock"), json={"reset": True}, headers=_admin(local_stack, http))


def test_moving_the_clock_moves_the_worker_s_now_and_token_expiry(
    local_stack: LocalStack, http: requests.Session, moved_back: None
) -> None:
    admin = _admin(local_stack, http)
    clock_url = local_stack.url("/api/v1/admin/dev/clock")
    assert http.get(clock_url, headers=admin).json()["offset_seconds"] == 0
    moved = http.post(clock_url, json={"advance_seconds": TEN_DAYS}, headers=admin)
    assert moved.status_code == 200, moved.text
    assert moved.json()["offset_seconds"] == TEN_DAYS
    assert clock_file(local_stack.aws_port).exists()  # the offset every process of the stack reads

    expired = http.get(clock_url, headers=admin)
    assert expired.status_code == 401  # the token was issued ten days "ago"
    admin = _admin(local_stack, http)

    email = "e2e.clock@example.com"
    registered = http.post(local_stack.url("/api/v1/auth/register"), json={"email": email, "password": "E2e-Passw0rd!"})
    assert registered.status_code == 200, registered.text
    deadline, sent = time.monotonic() + 30, []
    while time.monotonic() < deadline and not sent:
        listed = http.get(local_stack.url(f"/api/v1/admin/dev/notifications?to={email}"), headers=admin)
        assert listed.status_code == 200, listed.text
        sent = listed.json()["notifications"]
        time.sleep(0.3)
    assert [n["template"] for n in sent] == ["welcome"]
    # The mail consumer runs in the worker process: it stamped the log with the moved now.
    assert _instant(sent[0]["created_at"]) - datetime.now(UTC) > timedelta(days=9)

    ran = http.post(local_stack.url("/api/v1/admin/dev/jobs/outbox-relay/run"), headers=admin)
    assert ran.status_code == 200, ran.text
    assert ran.json()["job"] == "outbox-relay" and "unsettled" not in ran.json()["result"]["delivered"]

    back = http.post(clock_url, json={"reset": True}, headers=admin)
    assert back.status_code == 200 and back.json()["offset_seconds"] == 0
    assert abs(_instant(back.json()["now"]) - datetime.now(UTC)) < timedelta(minutes=1)


def test_an_unknown_job_is_404(local_stack: LocalStack, http: requests.Session) -> None:
    answer = http.post(local_stack.url("/api/v1/admin/dev/jobs/nope/run"), headers=_admin(local_stack, http))
    assert (answer.status_code, answer.json()) == (404, {"error": "Unknown job: nope"})
