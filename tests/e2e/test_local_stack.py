"""End to end over HTTP against the running `make run` stack."""

from __future__ import annotations

import os
import select
import socket
import time

import boto3
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
    # `make run` configures the Stripe, PayPal and YooKassa emulators, so their methods are listed too.
    assert [m["code"] for m in methods] == ["invoice", "sandbox", "stripe", "paypal", "yookassa"]
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


def test_dynamodb_runs_on_the_engine_the_banner_and_health_name(
    local_stack: LocalStack, http: requests.Session
) -> None:
    from infra import dynamodb_local

    installed = dynamodb_local.find_java() is not None and any(dynamodb_local.PACKAGE_DIR.glob("*/DynamoDBLocal.jar"))
    expected = "moto" if os.environ.get("E2E_DYNAMODB_ENGINE") == "moto" or not installed else "dynamodb-local"
    assert http.get(local_stack.url("/api/v1/health")).json()["dynamodb"] == expected == local_stack.engine
    banner = local_stack.log.read_text()
    tables = local_stack.dynamodb().list_tables()["TableNames"]
    assert "vbwd-local-users" in tables
    if expected == "dynamodb-local":
        assert f"DynamoDB   http://127.0.0.1:{local_stack.dynamodb_port} " in banner
        assert "DynamoDB Local (AWS's engine, in memory)" in banner
        moto = boto3.client(
            "dynamodb",
            endpoint_url=local_stack.aws_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        assert moto.list_tables()["TableNames"] == []  # nothing of the stage lives on moto's DynamoDB
    else:
        assert f"DynamoDB   http://127.0.0.1:{local_stack.aws_port} " in banner
        assert "moto server, one DynamoDB call at a time" in banner


def test_the_api_answers_a_burst_of_100_new_connections_without_a_server_banner(local_stack: LocalStack) -> None:
    request = f"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:{local_stack.api_port}\r\nConnection: close\r\n\r\n"
    sockets = [socket.socket() for _ in range(100)]
    try:
        for client in sockets:  # all 100 handshakes started before any completes
            client.setblocking(False)
            client.connect_ex(("127.0.0.1", local_stack.api_port))
        pending, deadline = set(sockets), time.monotonic() + 10
        while pending and time.monotonic() < deadline:
            pending -= set(select.select([], list(pending), [], 0.1)[1])
        assert not pending, f"{len(pending)} of 100 connections were not accepted within 10 s"
        assert [client.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) for client in sockets] == [0] * 100
        answers = []
        for client in sockets:
            client.setblocking(True)
            client.settimeout(20)
            client.sendall(request.encode())
        for client in sockets:
            chunks = []
            while chunk := client.recv(65536):
                chunks.append(chunk)
            answers.append(b"".join(chunks))
    finally:
        for client in sockets:
            client.close()
    heads = [answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower() for answer in answers]
    assert all(head.startswith("http/1.1 200 ") for head in heads), heads[:2]
    assert not any("\r\nserver:" in head for head in heads), heads[0]
