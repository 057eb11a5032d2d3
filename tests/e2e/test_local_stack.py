"""End to end over HTTP against the running `make run` stack."""

from __future__ import annotations

import time

import pytest
import requests

from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e
EMAIL = "e2e.customer@example.com"
PASSWORD = "E2e-Passw0rd!"


def test_register_login_refresh_me(local_stack: LocalStack, http: requests.Session) -> None:
    registered = http.post(local_stack.url("/api/v1/auth/register"), json={"email": EMAIL, "password": PASSWORD})
    assert registered.status_code == 200, registered.text
    assert registered.json()["user"]["email"] == EMAIL

    login = http.post(local_stack.url("/api/v1/auth/login"), json={"email": EMAIL.upper(), "password": PASSWORD})
    assert login.status_code == 200
    tokens = login.json()
    assert tokens["refresh_token"].startswith("rt_")

    refreshed = http.post(local_stack.url("/api/v1/auth/refresh"), json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    new_token = refreshed.json()["token"]

    me = http.get(local_stack.url("/api/v1/auth/me"), headers={"Authorization": f"Bearer {new_token}"})
    assert me.status_code == 200
    assert me.json()["email"] == EMAIL
    assert me.json()["status"] == "ACTIVE"
    assert me.headers["Cache-Control"] == "no-store"

    reused = http.post(local_stack.url("/api/v1/auth/refresh"), json={"refresh_token": tokens["refresh_token"]})
    assert reused.status_code == 401
    assert reused.json()["error"] == "Refresh token reuse detected"


def test_catalog_is_read_from_the_seeded_tables(local_stack: LocalStack, http: requests.Session) -> None:
    plans = http.get(local_stack.url("/api/v1/tarif-plans"), params={"country": "DE"}).json()
    basic = next(plan for plan in plans["plans"] if plan["slug"] == "basic")
    assert (basic["price"]["price_decimal"], basic["tax_amount"], basic["gross_price"]) == ("9.99", "1.90", "11.89")
    currencies = http.get(local_stack.url("/api/v1/settings/currencies")).json()
    assert currencies["default"] == "EUR"
    countries = http.get(local_stack.url("/api/v1/settings/countries")).json()["countries"]
    assert [c["code"] for c in countries[:3]] == ["DE", "AT", "CH"]
    methods = http.get(local_stack.url("/api/v1/settings/payment-methods")).json()["methods"]
    assert [m["code"] for m in methods] == ["invoice", "sandbox"]
    bundles = http.get(local_stack.url("/api/v1/token-bundles/")).json()["bundles"]
    assert bundles[0] == {**bundles[0], "name": "100 Tokens", "price": "3.00", "token_amount": 100}
    assert http.get(local_stack.url("/api/v1/health/ready")).json()["checks"] == {"dynamodb": "ok", "eventbus": "ok"}


def test_errors_are_json(local_stack: LocalStack, http: requests.Session) -> None:
    missing = http.get(local_stack.url("/api/v1/no-such-route"))
    assert (missing.status_code, missing.json()) == (404, {"error": "Not found"})
    wrong = http.delete(local_stack.url("/api/v1/health"))
    assert (wrong.status_code, wrong.json(), wrong.headers["Allow"]) == (405, {"error": "Method not allowed"}, "GET")
    broken = http.post(
        local_stack.url("/api/v1/auth/login"), data=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["error"] == "Invalid JSON body"


def test_the_worker_delivers_the_reset_mail_through_ses(local_stack: LocalStack, http: requests.Session) -> None:
    email = "e2e.reset@example.com"
    assert http.post(local_stack.url("/api/v1/auth/register"), json={"email": email, "password": PASSWORD}).ok
    assert http.post(local_stack.url("/api/v1/auth/forgot-password"), json={"email": email}).status_code == 200
    deadline = time.monotonic() + 20
    subjects: set[str] = set()
    while time.monotonic() < deadline:
        items = local_stack.notification_items()
        subjects = {item["subject"]["S"] for item in items if item["to"]["S"] == email}
        if "Reset your password" in subjects:
            break
        time.sleep(0.3)
    assert subjects == {"Welcome to VBWD", "Reset your password"}
    assert "password reset link (local stage only)" in local_stack.log.read_text()
