"""Standard errors and headers on the public catalog routes (contract README §1.1, §1.3, §1.4, §1.14)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.ids import seed_id

BASIC = seed_id("plan", "basic")
BUNDLE = seed_id("bundle", "100 Tokens")
ADDON = seed_id("addon", "extra-storage-50gb")
# every public catalog route of catalog.md §1, with concrete parameters
ROUTES = [
    "/",
    "/api/v1/health",
    "/api/v1/health/ready",
    "/api/v1/tarif-plans",
    "/api/v1/tarif-plans/basic",
    f"/api/v1/tarif-plans/{BASIC}",
    "/api/v1/tarif-plan-categories",
    "/api/v1/settings/currencies",
    "/api/v1/settings/taxes",
    "/api/v1/token-bundles/",
    f"/api/v1/token-bundles/{BUNDLE}",
    "/api/v1/addons/",
    f"/api/v1/addons/{ADDON}",
    "/api/v1/settings/countries",
    "/api/v1/settings/terms",
    "/api/v1/settings/payment-methods",
    "/api/v1/settings/payment-methods/invoice",
    "/api/v1/config/languages",
]
# one request per documented error of catalog.md §4 (status, body)
ERRORS: list[tuple[str, int, dict[str, Any]]] = [
    ("/api/v1/tarif-plans?currency=XXX", 400, {"error": "Unknown currency: XXX"}),
    ("/api/v1/tarif-plans?country=XX", 400, {"error": "Unknown country: XX"}),
    ("/api/v1/tarif-plans?category=nope", 404, {"error": "Category 'nope' not found"}),
    ("/api/v1/tarif-plans/nope", 404, {"error": "Plan not found"}),
    (
        "/api/v1/tarif-plans/basic?currency=XXX",
        400,
        {"error": "Unknown currency: XXX", "plan": {"id": BASIC, "name": "Basic", "slug": "basic", "price": "9.99"}},
    ),
    ("/api/v1/tarif-plans/basic?country=XX", 400, {"error": "Unknown country: XX"}),
    ("/api/v1/tarif-plan-categories?format=bogus", 400, {"error": "Invalid format: bogus"}),
    ("/api/v1/token-bundles/00000000-0000-4000-8000-000000000000", 404, {"error": "Token bundle not found"}),
    ("/api/v1/token-bundles/abc", 400, {"error": "Invalid id"}),
    ("/api/v1/addons?plan_id=garbage", 400, {"error": "Invalid plan_id format"}),
    ("/api/v1/addons/00000000-0000-4000-8000-000000000000", 404, {"error": "Add-on not found"}),
    ("/api/v1/addons/abc", 400, {"error": "Invalid id"}),
    ("/api/v1/settings/payment-methods?amount=abc", 400, {"error": "Invalid amount"}),
    ("/api/v1/settings/payment-methods/nope", 404, {"error": "Payment method not found"}),
    ("/api/v1/settings/currencies?limit=abc", 400, {"error": "Invalid pagination parameters"}),
    ("/api/v1/nope", 404, {"error": "Not found"}),
]


@pytest.mark.parametrize(("path", "status", "body"), ERRORS, ids=[e[0] for e in ERRORS])
def test_documented_errors_are_json_with_a_request_id(api, path, status, body):
    answer = api.get(path)
    assert answer.status == status
    assert answer.json == body
    assert isinstance(answer.json["error"], str)
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["x-request-id"]


# --- 405 --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/settings/currencies"),
        ("PUT", "/api/v1/tarif-plans"),
        ("DELETE", "/api/v1/tarif-plans/basic"),
        ("PATCH", "/api/v1/tarif-plan-categories"),
        ("POST", "/api/v1/settings/taxes"),
        ("POST", "/api/v1/token-bundles/"),
        ("DELETE", f"/api/v1/token-bundles/{BUNDLE}"),
        ("POST", "/api/v1/addons/"),
        ("PUT", f"/api/v1/addons/{ADDON}"),
        ("POST", "/api/v1/settings/countries"),
        ("PUT", "/api/v1/settings/terms"),
        ("POST", "/api/v1/settings/payment-methods"),
        ("DELETE", "/api/v1/settings/payment-methods/invoice"),
        ("POST", "/api/v1/config/languages"),
        ("POST", "/api/v1/health"),
        ("DELETE", "/"),
    ],
)
def test_wrong_method_is_405_with_allow(api, method, path):
    answer = api.request(method, path)
    assert answer.status == 405
    assert answer.json == {"error": "Method not allowed"}
    assert {m.strip() for m in answer.headers["allow"].split(",")} - {"OPTIONS", "HEAD"} == {"GET"}
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["x-request-id"]


def test_wrong_method_with_a_json_body_is_still_405(api):
    answer = api.post("/api/v1/settings/currencies", {"code": "XYZ"})
    assert answer.status == 405
    assert answer.json == {"error": "Method not allowed"}


# --- 404 for unknown paths --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nope",
        "/api/v1/tarif-plan",
        "/api/v1/settings",
        "/api/v1/settings/nope",
        "/api/v1/settings/payment-methods/invoice/extra",
        "/api/v1/tarif-plans/basic/extra",
        "/api/v1/cms/pages",
        "/api/v1/shop/products",
        "/api/v2/tarif-plans",
        "/api/v1/Tarif-Plans",
    ],
)
def test_unknown_path_is_404_not_found(api, path):
    answer = api.get(path)
    assert answer.status == 404
    assert answer.json == {"error": "Not found"}
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["x-request-id"]


# --- headers ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ROUTES)
def test_every_route_answers_200_with_a_request_id(api, path):
    answer = api.get(path)
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["x-request-id"]


def test_client_request_id_is_echoed(api):
    answer = api.get("/api/v1/settings/currencies", headers={"X-Request-Id": "catalog-test-42"})
    assert answer.headers["x-request-id"] == "catalog-test-42"


def test_client_request_id_is_echoed_on_errors(api):
    answer = api.get("/api/v1/tarif-plans/nope", headers={"X-Request-Id": "catalog-error-7"})
    assert answer.status == 404
    assert answer.headers["x-request-id"] == "catalog-error-7"


@pytest.mark.parametrize("sent", ["x" * 129, "has space", "tab\there"])
def test_unacceptable_client_request_id_is_replaced(api, sent):
    answer = api.get("/api/v1/health", headers={"X-Request-Id": sent})
    assert answer.headers["x-request-id"]
    assert answer.headers["x-request-id"] != sent


def test_request_ids_differ_between_requests(api):
    first = api.get("/api/v1/health").headers["x-request-id"]
    second = api.get("/api/v1/health").headers["x-request-id"]
    assert first != second


@pytest.mark.parametrize(
    "path",
    ["/api/v1/settings/currencies", "/api/v1/tarif-plans/basic", "/api/v1/token-bundles/", f"/api/v1/addons/{ADDON}"],
)
def test_public_route_ignores_a_credential(api, path):
    anonymous = api.get(path)
    answer = api.get(path, headers={"Authorization": "Bearer not-a-valid-token"})
    assert answer.status == 200
    assert answer.json == anonymous.json


def test_response_to_a_request_with_a_credential_is_not_cached(api):
    answer = api.get("/api/v1/settings/currencies", headers={"Authorization": "Bearer not-a-valid-token"})
    assert answer.headers["cache-control"] == "no-store"


def test_cors_headers_in_the_local_stage(api):
    answer = api.get("/api/v1/tarif-plans", headers={"Origin": "http://localhost:5173"})
    assert answer.status == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    exposed = {h.strip() for h in answer.headers["access-control-expose-headers"].split(",")}
    assert {"X-Request-Id", "Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= exposed
    assert {"Content-Disposition", "Idempotent-Replayed"} <= exposed


@pytest.mark.parametrize("path", ["/api/v1/tarif-plans", "/api/v1/settings/payment-methods/invoice", "/api/v1/addons/"])
def test_options_preflight_is_204(api, path):
    answer = api.request("OPTIONS", path, headers={"Origin": "http://localhost:5173"})
    assert answer.status == 204
    assert "GET" in {m.strip() for m in answer.headers["access-control-allow-methods"].split(",")}
    assert answer.headers["x-request-id"]


# --- 500 and 503 ------------------------------------------------------------------------------------------------------


def test_unexpected_failure_is_500_with_the_request_id(api, monkeypatch):
    from chalicelib.catalog import service

    def broken() -> dict[str, Any]:
        raise RuntimeError("SELECT secret FROM internals")

    monkeypatch.setattr(service, "list_currencies", broken)
    answer = api.get("/api/v1/settings/currencies", headers={"X-Request-Id": "boom-1"})
    assert answer.status == 500
    assert answer.json == {"error": "Internal server error", "request_id": "boom-1"}
    assert answer.headers["x-request-id"] == "boom-1"
    assert b"internals" not in answer.body
    assert b"RuntimeError" not in answer.body


def test_unreachable_store_is_503_with_the_request_id(api, monkeypatch):
    from botocore.exceptions import EndpointConnectionError

    from chalicelib.catalog import repository

    def unreachable() -> list[Any]:
        raise EndpointConnectionError(endpoint_url="http://dynamodb.invalid")

    monkeypatch.setattr(repository, "countries", unreachable)
    answer = api.get("/api/v1/settings/countries", headers={"X-Request-Id": "down-1"})
    assert answer.status == 503
    assert answer.json == {"error": "Service unavailable", "request_id": "down-1"}
    assert answer.headers["x-request-id"] == "down-1"
    assert b"dynamodb.invalid" not in answer.body
