"""Contract README §1.2–§1.4 at the edge: every failure is JSON, with the status the contract names."""

from __future__ import annotations

import json

import pytest
from chalice.app import Blueprint
from chalice.test import Client

from chalicelib.core.errors import Conflict
from chalicelib.http.access import USER
from chalicelib.http.platform import create_app
from chalicelib.http.request import Req
from chalicelib.http.routing import route
from tests.integration.conftest import Api

TOO_BIG = 1_048_576 + 1


def test_unknown_paths_answer_404_json(api: Api) -> None:
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        for path in ("/api/v1/nothing-here", "/api/v1/auth/login/extra/levels", "/api/v2/health", "/favicon.ico"):
            answer = api.request(method, path)
            assert answer.status == 404, (method, path)
            assert answer.json == {"error": "Not found"}
            assert answer.headers["content-type"] == "application/json"


def test_plugin_routes_of_products_we_do_not_ship_are_not_found(api: Api) -> None:
    for path in (
        "/api/v1/cms/pages",
        "/api/v1/shop/products",
        "/api/v1/taro/readings",
    ):  # (the e-mail template admin is ours: admin.md §20, test_admin_email_templates.py)
        assert api.get(path).json == {"error": "Not found"}


def test_wrong_method_is_405_with_allow(api: Api) -> None:
    answer = api.request("DELETE", "/api/v1/auth/login")
    assert answer.status == 405
    assert answer.json == {"error": "Method not allowed"}
    assert answer.headers["allow"] == "POST"
    answer = api.request("PATCH", "/api/v1/user/details")
    assert answer.status == 405
    assert answer.headers["allow"] == "GET, PUT"


def test_trailing_slash_is_the_same_route(api: Api) -> None:
    assert api.get("/api/v1/health/").json == api.get("/api/v1/health").json
    assert api.get("/api/v1/token-bundles/").status == 200


def test_malformed_json_is_400(api: Api) -> None:
    for raw in (b"{", b"{'a': 1}", b"\xff\xfe", b"NaN", b'{"a": Infinity}'):
        answer = api.request(
            "POST", "/api/v1/auth/forgot-password", body=raw, headers={"Content-Type": "application/json"}
        )
        assert answer.status == 400, raw
        assert answer.json == {"error": "Invalid JSON body"}


def test_json_that_is_not_an_object_is_400(api: Api) -> None:
    for raw in (b"[]", b'"text"', b"42", b"null", b"true"):
        answer = api.request(
            "POST", "/api/v1/auth/forgot-password", body=raw, headers={"Content-Type": "application/json"}
        )
        assert answer.status == 400, raw
        assert answer.json == {"error": "Request body must be a JSON object"}


def test_empty_body_is_an_empty_object(api: Api) -> None:
    answer = api.request("POST", "/api/v1/auth/forgot-password", body=b"")
    assert answer.status == 400
    assert answer.json == {"error": "Email required"}


def test_body_needs_the_json_media_type(api: Api) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"Content-Type": content_type} if content_type else {}
        answer = api.request("POST", "/api/v1/auth/forgot-password", body=b'{"email":"a@b.cd"}', headers=headers)
        assert answer.status == 415, content_type
        assert answer.json == {"error": "Unsupported media type"}
    with_charset = {"Content-Type": "application/json; charset=utf-8"}
    answer = api.request("POST", "/api/v1/auth/forgot-password", body=b'{"email":"a@b.cd"}', headers=with_charset)
    assert answer.status == 200


def test_oversized_body_is_413(api: Api) -> None:
    body = json.dumps({"email": "x" * TOO_BIG}).encode()
    answer = api.request(
        "POST", "/api/v1/auth/forgot-password", body=body, headers={"Content-Type": "application/json"}
    )
    assert answer.status == 413
    assert answer.json == {"error": "Request body too large", "max_bytes": 1048576}


def test_oversized_body_is_refused_before_its_media_type(api: Api) -> None:
    answer = api.request("POST", "/api/v1/auth/login", body=b"x" * TOO_BIG, headers={"Content-Type": "text/plain"})
    assert answer.status == 413


def test_invalid_uuid_path_parameter_is_400(api: Api) -> None:
    for bad in ("not-a-uuid", "123", "5f0c7a1e-3b7e-4c55-9a43-0c2d7a9e1b1", "5f0c7a1e3b7e4c559a430c2d7a9e1b11"):
        answer = api.get(f"/api/v1/token-bundles/{bad}")
        assert answer.status == 400, bad
        assert answer.json == {"error": "Invalid id"}


def test_uuid_path_parameters_accept_any_case(api: Api) -> None:
    from chalicelib.core.ids import seed_id

    bundle_id = seed_id("bundle", "100 Tokens")
    assert api.get(f"/api/v1/token-bundles/{bundle_id.upper()}").json["bundle"]["id"] == bundle_id


def test_every_response_carries_a_request_id(api: Api) -> None:
    generated = api.get("/api/v1/health").headers["x-request-id"]
    assert len(generated) == 36
    echoed = api.get("/api/v1/health", headers={"X-Request-Id": "trace-abc-123"})
    assert echoed.headers["x-request-id"] == "trace-abc-123"
    replaced = api.get("/api/v1/health", headers={"X-Request-Id": "has space"})
    assert replaced.headers["x-request-id"] != "has space"
    too_long = api.get("/api/v1/health", headers={"X-Request-Id": "a" * 129})
    assert too_long.headers["x-request-id"] != "a" * 129
    assert api.get("/api/v1/nothing").headers["x-request-id"]


def test_preflight_is_204_with_cors_headers(api: Api) -> None:
    answer = api.request("OPTIONS", "/api/v1/auth/login", headers={"Origin": "http://localhost:5173"})
    assert answer.status == 204
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["access-control-allow-methods"] == "POST, OPTIONS"
    assert "Authorization" in answer.headers["access-control-allow-headers"]
    assert "Idempotent-Replayed" in answer.headers["access-control-expose-headers"]


def test_cors_follows_the_configured_origins(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.core.config import reload_settings

    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://app.example.com")
    reload_settings()
    try:
        allowed = api.get("/api/v1/health", headers={"Origin": "https://app.example.com"})
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
        assert allowed.headers["vary"] == "Origin"
        refused = api.get("/api/v1/health", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in refused.headers
    finally:
        monkeypatch.delenv("CORS_ALLOWED_ORIGINS")
        reload_settings()


def test_prod_allows_no_origin_by_default() -> None:
    from chalicelib.core.config import Settings

    settings = Settings.from_environ(
        {"VBWD_STAGE": "prod", "JWT_SECRET": "p" * 40, "PAYMENT_WEBHOOK_SECRETS": "w" * 40}
    )
    assert settings.allowed_origins == []


def test_authenticated_answers_are_not_cached(api: Api) -> None:
    token = api.token("test@example.com", "TestPass123@")
    assert api.get("/api/v1/user/profile", token=token).headers["cache-control"] == "no-store"
    assert "cache-control" not in api.get("/api/v1/health").headers


# A small app of our own for failures the product's routes cannot be made to produce.
probe = Blueprint(__name__)


@route(probe, "/boom", "GET")
def boom(req: Req) -> None:
    raise RuntimeError("secret table name vbwd-prod-users and a stack trace")


@route(probe, "/unreachable", "GET")
def unreachable(req: Req) -> None:
    from botocore.exceptions import EndpointConnectionError

    raise EndpointConnectionError(endpoint_url="https://dynamodb.example")


@route(probe, "/conflict", "POST", access=USER)
def conflict(req: Req) -> None:
    raise Conflict("Concurrent modification, please retry")


@pytest.fixture(scope="module")
def probe_client(api: Api):
    app = create_app("probe", [probe], root=lambda _: None)
    with Client(app) as client:
        yield client


def test_unexpected_failure_is_a_bare_500(probe_client) -> None:
    response = probe_client.http.get("/api/v1/boom", headers={"X-Request-Id": "req-500"})
    assert response.status_code == 500
    body = json.loads(response.body)
    assert body == {"error": "Internal server error", "request_id": "req-500"}
    assert b"vbwd-prod-users" not in response.body and b"Traceback" not in response.body


def test_unreachable_dependency_is_503(probe_client) -> None:
    response = probe_client.http.get("/api/v1/unreachable", headers={"X-Request-Id": "req-503"})
    assert response.status_code == 503
    assert json.loads(response.body) == {"error": "Service unavailable", "request_id": "req-503"}


def test_auth_is_checked_before_the_route_runs(probe_client) -> None:
    response = probe_client.http.post("/api/v1/conflict")
    assert response.status_code == 401
    assert json.loads(response.body) == {"error": "Authorization header is required"}
