"""`GET /`, liveness and readiness (contract catalog.md §4.1–§4.2)."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Chalice

from chalicelib.core.config import get_settings
from chalicelib.core.lazy import lazy_module
from chalicelib.http.ratelimit import LimitScope
from chalicelib.http.request import Req
from chalicelib.http.routing import Reply, route

bp = Blueprint(__name__)
checks = lazy_module("chalicelib.health.checks")


def register_root(app: Chalice) -> None:
    @route(app, "/", "GET", limit=LimitScope.NONE)
    def index(req: Req) -> Any:
        return {"message": "VBWD API", "version": get_settings().service_version, "health": "/api/v1/health"}


@route(bp, "/health", "GET", limit=LimitScope.NONE)
def health(req: Req) -> Any:
    """Liveness only: answers without touching storage. `dynamodb` names the engine behind the tables (`aws` when
    deployed; `make run` says which local engine it started)."""
    settings = get_settings()
    return {
        "status": "ok",
        "service": "vbwd-api",
        "version": settings.service_version,
        "dynamodb": settings.dynamodb_engine,
    }


@route(bp, "/health/ready", "GET", limit=LimitScope.NONE)
def ready(req: Req) -> Any:
    results = checks.run_checks()
    if all(value == "ok" for value in results.values()):
        return {"status": "ok", "checks": results}
    return Reply({"error": "Service unavailable", "status": "degraded", "checks": results}, 503)
