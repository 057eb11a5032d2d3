"""Rate limits of the auth group and the default limit (contract README §1.9, auth.md §3).

Every test gets a seeded account of its own (the counters are per client IP, and the Chalice test client always
sends the same IP) and the manual clock, so each test starts at 2026-05-01T09:00:00Z in fresh windows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.core.config import reload_settings

PASSWORD = "Secret123!"
START = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
NEXT_MINUTE = str(int((START + timedelta(minutes=1)).timestamp()))
NEXT_HOUR = str(int((START + timedelta(hours=1)).timestamp()))
NEXT_DAY = str(int(datetime(2026, 5, 2, tzinfo=UTC).timestamp()))
AUTH_ENVELOPE = {"success": False, "token": None, "user_id": None, "user": None}


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set rate-limit settings for one test; the environment and the settings are restored afterwards."""

    def apply(**values: int) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, str(value))
        reload_settings()

    yield apply
    monkeypatch.undo()
    reload_settings()


def new_email() -> str:
    return f"limit-{uuid.uuid4().hex[:12]}@example.com"


def limit_headers(answer) -> tuple[str, str, str]:
    return (
        answer.headers["x-ratelimit-limit"],
        answer.headers["x-ratelimit-remaining"],
        answer.headers["x-ratelimit-reset"],
    )


AUTH_CALLS: dict[str, Callable[[Any], Any]] = {
    "register": lambda api: api.post("/api/v1/auth/register", {"email": new_email(), "password": PASSWORD}),
    "login": lambda api: api.post("/api/v1/auth/login", {"email": "test@example.com", "password": "TestPass123@"}),
    "refresh": lambda api: api.post("/api/v1/auth/refresh", {"refresh_token": "rt_" + "x" * 43}),
    "check-email": lambda api: api.get("/api/v1/auth/check-email?email=test@example.com"),
    "forgot-password": lambda api: api.post("/api/v1/auth/forgot-password", {"email": new_email()}),
    "reset-password": lambda api: api.post(
        "/api/v1/auth/reset-password", {"token": "unknown", "new_password": PASSWORD}
    ),
}
ENVELOPE_ROUTES = {"register", "login", "refresh"}


@pytest.mark.parametrize("name", sorted(AUTH_CALLS))
def test_the_fourth_auth_request_in_a_minute_is_limited(fresh_api, manual_clock, limits, name):
    limits(AUTH_RATE_LIMIT_PER_MINUTE=3)
    call = AUTH_CALLS[name]
    for remaining in ("2", "1", "0"):
        answer = call(fresh_api)
        assert answer.status != 429
        assert limit_headers(answer) == ("3", remaining, NEXT_MINUTE)

    limited = call(fresh_api)
    assert limited.status == 429
    expected = {"error": "Rate limit exceeded", "message": "3 per 1 minute"}
    if name in ENVELOPE_ROUTES:
        expected = {**AUTH_ENVELOPE, **expected}
    if name == "refresh":
        expected["refresh_token"] = None
    assert limited.json == expected
    assert limited.headers["retry-after"] == "60"
    assert limit_headers(limited) == ("3", "0", NEXT_MINUTE)


def test_the_auth_window_opens_again_the_next_minute(fresh_api, manual_clock, limits):
    limits(AUTH_RATE_LIMIT_PER_MINUTE=3)
    check = AUTH_CALLS["check-email"]
    for _ in range(3):
        check(fresh_api)
    manual_clock.advance(timedelta(seconds=45))
    answer = check(fresh_api)
    assert answer.status == 429
    assert answer.headers["retry-after"] == "15"

    manual_clock.advance(timedelta(seconds=15))
    answer = check(fresh_api)
    assert answer.status == 200
    assert answer.json == {"exists": True}
    later_minute = str(int((START + timedelta(minutes=2)).timestamp()))
    assert limit_headers(answer) == ("3", "2", later_minute)


def test_the_auth_routes_share_one_window(fresh_api, manual_clock, limits):
    limits(AUTH_RATE_LIMIT_PER_MINUTE=3)
    assert AUTH_CALLS["register"](fresh_api).status == 200
    assert AUTH_CALLS["login"](fresh_api).status == 200
    assert AUTH_CALLS["check-email"](fresh_api).status == 200
    limited = AUTH_CALLS["forgot-password"](fresh_api)
    assert limited.status == 429
    assert limited.json == {"error": "Rate limit exceeded", "message": "3 per 1 minute"}


def test_a_successful_auth_response_carries_the_default_auth_limit(fresh_api, manual_clock):
    answer = AUTH_CALLS["login"](fresh_api)
    assert answer.status == 200
    assert limit_headers(answer) == ("5000", "4999", NEXT_MINUTE)


def test_auth_routes_do_not_count_toward_the_default_limit(fresh_api, manual_clock, limits):
    limits(RATE_LIMIT_PER_HOUR=3)
    for _ in range(5):
        answer = AUTH_CALLS["check-email"](fresh_api)
        assert answer.status == 200
        assert answer.headers["x-ratelimit-limit"] == "5000"
    token = fresh_api.token("test@example.com", "TestPass123@")
    assert fresh_api.get("/api/v1/user/profile", token=token).status == 200


def test_the_fourth_request_in_an_hour_on_a_default_route_is_limited(fresh_api, manual_clock, limits):
    limits(RATE_LIMIT_PER_HOUR=3)
    token = fresh_api.token("test@example.com", "TestPass123@")
    for remaining in ("2", "1", "0"):
        answer = fresh_api.get("/api/v1/user/profile", token=token)
        assert answer.status == 200
        assert limit_headers(answer) == ("3", remaining, NEXT_HOUR)

    limited = fresh_api.get("/api/v1/user/profile", token=token)
    assert limited.status == 429
    assert limited.json == {"error": "Rate limit exceeded", "message": "3 per 1 hour"}
    assert limited.headers["retry-after"] == "3600"
    assert limit_headers(limited) == ("3", "0", NEXT_HOUR)

    manual_clock.advance(timedelta(minutes=30))
    token = fresh_api.token("test@example.com", "TestPass123@")  # the first one expired; logins are not counted
    limited = fresh_api.get("/api/v1/auth/me", token=token)
    assert limited.status == 429
    assert limited.headers["retry-after"] == "1800"

    manual_clock.advance(timedelta(minutes=30))
    token = fresh_api.token("test@example.com", "TestPass123@")
    answer = fresh_api.get("/api/v1/user/profile", token=token)
    assert answer.status == 200
    later_hour = str(int((START + timedelta(hours=2)).timestamp()))
    assert limit_headers(answer) == ("3", "2", later_hour)


def test_the_default_limit_applies_before_authentication(fresh_api, manual_clock, limits):
    limits(RATE_LIMIT_PER_HOUR=3)
    for _ in range(3):
        assert fresh_api.get("/api/v1/user/profile").status == 401
    limited = fresh_api.get("/api/v1/user/profile")
    assert limited.status == 429
    assert limited.json == {"error": "Rate limit exceeded", "message": "3 per 1 hour"}


def test_the_daily_default_limit(fresh_api, manual_clock, limits):
    limits(RATE_LIMIT_PER_HOUR=100, RATE_LIMIT_PER_DAY=4)
    token = fresh_api.token("test@example.com", "TestPass123@")
    for _ in range(2):
        assert fresh_api.get("/api/v1/user/details", token=token).status == 200
    manual_clock.advance(timedelta(hours=2))
    token = fresh_api.token("test@example.com", "TestPass123@")
    for _ in range(2):
        assert fresh_api.get("/api/v1/user/details", token=token).status == 200
    limited = fresh_api.get("/api/v1/user/details", token=token)
    assert limited.status == 429
    assert limited.json == {"error": "Rate limit exceeded", "message": "4 per 1 day"}
    assert limited.headers["x-ratelimit-reset"] == NEXT_DAY
    assert limited.headers["retry-after"] == str(int((datetime(2026, 5, 2, tzinfo=UTC) - START).total_seconds()) - 7200)
