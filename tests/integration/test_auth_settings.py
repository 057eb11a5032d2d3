"""Configurable auth behaviour (contract auth.md §1.1, §1.2, §3.2, §3.7; README §1.9 "configurable per stage").

Shared seeded account; each test changes settings through the environment and gets them restored afterwards.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
from pydantic import ValidationError

from chalicelib.core.config import DEFAULT_JWT_SECRET, Settings, reload_settings
from tests.integration.conftest import drain_events, sent_mail

PASSWORD = "Secret123!"


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    def apply(**values: Any) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, str(value))
        reload_settings()

    yield apply
    monkeypatch.undo()
    reload_settings()


def register(api) -> tuple[str, dict[str, Any]]:
    email = f"settings-{uuid.uuid4().hex[:12]}@example.com"
    answer = api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD})
    assert answer.status == 200, answer.json
    return email, answer.json


def test_the_access_token_lifetime_is_configurable(api, manual_clock, configure):
    configure(ACCESS_TOKEN_TTL_SECONDS=120)
    email, registered = register(api)
    assert registered["expires_in"] == 120
    claims = jwt.decode(registered["token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 120
    assert api.login(email, PASSWORD)["expires_in"] == 120

    manual_clock.advance(timedelta(seconds=150))
    assert api.get("/api/v1/auth/me", token=registered["token"]).status == 200
    manual_clock.advance(timedelta(seconds=1))
    assert api.get("/api/v1/auth/me", token=registered["token"]).json == {"error": "Invalid or expired token"}


def test_the_failed_login_limit_is_configurable(api, manual_clock, configure):
    configure(LOGIN_FAILURE_LIMIT=3)
    email, _ = register(api)
    for _ in range(3):
        assert api.post("/api/v1/auth/login", {"email": email, "password": "Wrong123!"}).status == 401
    answer = api.post("/api/v1/auth/login", {"email": email, "password": PASSWORD})
    assert answer.status == 429
    assert answer.json["message"] == "Too many failed login attempts. Try again in 900 seconds."


def test_the_refresh_token_lifetime_is_configurable(api, manual_clock, configure):
    configure(REFRESH_TOKEN_TTL_SECONDS=3600)
    _, registered = register(api)
    manual_clock.advance(timedelta(hours=1, seconds=1))
    answer = api.post("/api/v1/auth/refresh", {"refresh_token": registered["refresh_token"]})
    assert answer.status == 401
    assert answer.json["error"] == "Refresh token expired"


def test_the_reset_link_base_is_configurable(api, configure):
    configure(RESET_URL_BASE="https://app.example.org/reset")
    email, _ = register(api)
    assert api.post("/api/v1/auth/forgot-password", {"email": email}).status == 200
    drain_events()
    bodies = [m["body"] for m in sent_mail() if m["to"] == [email] and m["subject"] == "Reset your password"]
    assert len(bodies) == 1
    assert re.search(r"https://app\.example\.org/reset\?token=[A-Za-z0-9_-]{43}\b", bodies[0])


def test_tokens_signed_with_the_previous_secret_stop_working_when_it_changes(api, configure):
    _, registered = register(api)
    configure(JWT_SECRET="a-completely-different-secret-of-48-bytes-length")
    assert api.get("/api/v1/auth/me", token=registered["token"]).json == {"error": "Invalid or expired token"}


@pytest.mark.parametrize(
    "environ",
    [
        {"VBWD_STAGE": "prod"},
        {"VBWD_STAGE": "prod", "JWT_SECRET": DEFAULT_JWT_SECRET},
        {"VBWD_STAGE": "local", "JWT_SECRET": "too-short"},
    ],
)
def test_weak_or_default_secrets_are_refused(environ):
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        Settings.from_environ(environ)


def test_prod_starts_with_its_own_secrets():
    settings = Settings.from_environ(
        {
            "VBWD_STAGE": "prod",
            "JWT_SECRET": "p" * 40,
            "PAYMENT_WEBHOOK_SECRETS": "whsec_" + "q" * 30,
        }
    )
    assert settings.stage == "prod"
