"""`GET /`, liveness and readiness (contract catalog.md §4.1–§4.2)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Chalice

from chalicelib.core.config import get_settings
from chalicelib.core.lazy import lazy_module, model_refs
from chalicelib.http.ratelimit import LimitScope
from chalicelib.http.request import Req
from chalicelib.http.routing import Reply, route

if TYPE_CHECKING:
    from chalicelib.health.checks import Readiness

bp = Blueprint(__name__)
schemas = model_refs("chalicelib.health.schemas")
checks = lazy_module("chalicelib.health.checks")


def register_root(app: Chalice) -> None:
    @route(app, "/", "GET", limit=LimitScope.NONE, responses={200: schemas.IndexAnswer})
    def index(req: Req) -> Any:
        """The API's name and version, and where its health is."""
        return {"message": "VBWD API", "version": get_settings().service_version, "health": "/api/v1/health"}


@route(bp, "/health", "GET", limit=LimitScope.NONE, responses={200: schemas.HealthAnswer})
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


def _readiness(result: Readiness) -> Reply:
    if result.ready:
        return Reply({"status": "ok", "checks": result.checks})
    return Reply({"error": "Service unavailable", "status": "degraded", "checks": result.checks}, 503)


@route(
    bp,
    "/health/ready",
    "GET",
    limit=LimitScope.NONE,
    render=_readiness,
    responses={200: schemas.ReadyAnswer, 503: schemas.Degraded},
)
def ready(req: Req) -> Any:
    """Readiness: the data store and the event bus answer (503 when either does not)."""
    return checks.run_checks()
