"""Security headers on every answer (issue 6 §5; README §1.14 for `Cache-Control`).

Every status a client can meet — the routes' own answers, the platform's 404/405/OPTIONS answers, 413/415 from the
body checks, 500 and 503 — carries the same headers; `Strict-Transport-Security` only outside the `local` stage.
Shared seeded account; the stage is changed through the environment and restored afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from chalice.app import Blueprint, Response
from chalice.test import Client

from chalicelib.core.config import reload_settings
from chalicelib.core.ids import seed_id
from chalicelib.http.platform import create_app
from chalicelib.http.request import Req
from chalicelib.http.routing import route
from tests.integration.conftest import Answer, Api

NOSNIFF = "nosniff"
CSP = "default-src 'none'; frame-ancestors 'none'"
NO_REFERRER = "no-referrer"
HSTS = "max-age=63072000; includeSubDomains"
DEPLOYED = {
    "VBWD_RESOURCE_PREFIX": "vbwd-local",  # the same tables, so the seeded data answers
    "JWT_SECRET": "a-deployed-jwt-secret-of-at-least-32-bytes",
    "PAYMENT_WEBHOOK_SECRETS": "whsec_deployed_webhook_secret",
}
TEST_USER_INVOICE = seed_id("invoice", "test@example.com")


def requests(api: Api, token: str) -> dict[str, Callable[[], Answer]]:
    """A sample of routes and statuses, named by what they show; each a call that sends it again."""
    return {
        "200 public": lambda: api.get("/api/v1/health"),
        "200 root": lambda: api.get("/"),
        "200 list": lambda: api.get("/api/v1/tarif-plans"),
        "200 authenticated": lambda: api.get("/api/v1/auth/me", token=token),
        "200 pdf": lambda: api.get(f"/api/v1/user/invoices/{TEST_USER_INVOICE}/pdf", token=token),
        "400 malformed json": lambda: api.request(
            "POST", "/api/v1/auth/login", body=b"{", headers={"Content-Type": "application/json"}
        ),
        "400 validation": lambda: api.post("/api/v1/auth/register", {"email": "nope"}),
        "401 no credential": lambda: api.get("/api/v1/user/profile"),
        "401 bad token": lambda: api.get("/api/v1/user/profile", token="not.a.jwt"),
        "404 route": lambda: api.get(f"/api/v1/user/invoices/{seed_id('invoice', 'nobody')}", token=token),
        "404 unknown path": lambda: api.get("/api/v1/nothing-here"),
        "405 method": lambda: api.request("DELETE", "/api/v1/auth/login"),
        "204 preflight": lambda: api.request("OPTIONS", "/api/v1/auth/login", headers={"Origin": "http://x.test"}),
        "413 body": lambda: api.request(
            "POST", "/api/v1/auth/login", body=b"x" * 1_048_577, headers={"Content-Type": "application/json"}
        ),
        "415 media type": lambda: api.request(
            "POST", "/api/v1/auth/login", body=b"email=a", headers={"Content-Type": "text/plain"}
        ),
    }


SAMPLE = list(requests(None, ""))  # type: ignore[arg-type]  # the names; the calls need a client


def status_of(name: str) -> int:
    return int(name.split()[0])


def secured(answer: Answer) -> dict[str, Any]:
    """The security headers of an answer (None where absent)."""
    names = ("x-content-type-options", "content-security-policy", "referrer-policy", "strict-transport-security")
    return {name: answer.headers.get(name) for name in names}


def expected(*, hsts: bool, csp: str = CSP) -> dict[str, Any]:
    return {
        "x-content-type-options": NOSNIFF,
        "content-security-policy": csp,
        "referrer-policy": NO_REFERRER,
        "strict-transport-security": HSTS if hsts else None,
    }


@pytest.fixture(scope="module")
def token(api: Api) -> str:
    return api.token("test@example.com", "TestPass123@")


@pytest.fixture
def stage(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    def use(name: str) -> None:
        monkeypatch.setenv("VBWD_STAGE", name)
        for key, value in DEPLOYED.items():
            monkeypatch.setenv(key, value)
        reload_settings()

    yield use
    monkeypatch.undo()
    reload_settings()


@pytest.mark.parametrize("name", SAMPLE)
def test_every_answer_of_the_local_stage_carries_the_headers_but_hsts(api: Api, token: str, name: str) -> None:
    answer = requests(api, token)[name]()
    assert answer.status == status_of(name), answer.body[:200]
    assert secured(answer) == expected(hsts=False)
    assert answer.headers["x-request-id"]


@pytest.mark.parametrize("deployed", ["dev", "prod"])
def test_every_answer_outside_local_carries_hsts(api: Api, stage, deployed: str) -> None:
    stage(deployed)
    token = api.token("test@example.com", "TestPass123@")  # signed with the deployed stage's secret
    for name, call in requests(api, token).items():
        answer = call()
        assert answer.status == status_of(name), (name, answer.body[:200])
        assert secured(answer) == expected(hsts=True), name


def test_answers_to_requests_with_a_credential_are_not_stored(api: Api, token: str) -> None:
    sample = requests(api, token)
    for name in ("200 authenticated", "200 pdf", "401 bad token", "404 route"):
        assert sample[name]().headers.get("cache-control") == "no-store", name
    for name in ("200 public", "200 list", "401 no credential", "404 unknown path", "204 preflight"):
        assert "cache-control" not in sample[name]().headers, name


# A small app of our own for answers the product's routes cannot be made to give.
probe = Blueprint(__name__)
OWN_POLICY = "default-src 'self'; script-src 'self'; frame-ancestors 'none'"


@route(probe, "/boom", "GET")
def boom(req: Req) -> None:
    raise RuntimeError("an unexpected failure")


@route(probe, "/unreachable", "GET")
def unreachable(req: Req) -> None:
    from botocore.exceptions import EndpointConnectionError

    raise EndpointConnectionError(endpoint_url="https://dynamodb.example")


@route(probe, "/page", "GET")
def page(req: Req) -> Response:
    headers = {"Content-Type": "text/html", "Content-Security-Policy": OWN_POLICY}
    return Response(body="<!doctype html><title>docs</title>", headers=headers)


@route(probe, "/page-lower-case", "GET")
def page_lower_case(req: Req) -> Response:
    headers = {"content-type": "text/html", "content-security-policy": OWN_POLICY}
    return Response(body="<p>docs</p>", headers=headers)


@pytest.fixture(scope="module")
def probe_client(api: Api) -> Iterator[Client]:
    app = create_app("security-probe", [probe], root=lambda _: None)
    with Client(app) as client:
        yield client


def probe_get(client: Client, path: str) -> tuple[Answer, list[str]]:
    """The answer, and the header names exactly as the response carries them."""
    response = client.http.get(path)
    answer = Answer(response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.body)
    return answer, list(response.headers)


@pytest.mark.parametrize(("path", "status"), [("/api/v1/boom", 500), ("/api/v1/unreachable", 503)])
def test_failures_carry_the_headers(probe_client: Client, path: str, status: int) -> None:
    answer, _ = probe_get(probe_client, path)
    assert answer.status == status
    assert secured(answer) == expected(hsts=False)


def test_failures_outside_local_carry_hsts(probe_client: Client, stage) -> None:
    stage("prod")
    answer, _ = probe_get(probe_client, "/api/v1/boom")
    assert (answer.status, secured(answer)) == (500, expected(hsts=True))


@pytest.mark.parametrize("path", ["/api/v1/page", "/api/v1/page-lower-case"])
def test_a_page_keeps_its_own_content_security_policy(probe_client: Client, path: str) -> None:
    answer, names = probe_get(probe_client, path)
    assert answer.status == 200
    assert secured(answer) == expected(hsts=False, csp=OWN_POLICY)
    assert [name.lower() for name in names].count("content-security-policy") == 1
