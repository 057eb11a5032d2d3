"""Metered usage (contract subscriptions.md §12.4); core routes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.core.lazy import lazy_module, model_refs
from chalicelib.http.access import USER
from chalicelib.http.request import Req
from chalicelib.http.routing import route

if TYPE_CHECKING:
    from chalicelib.usage.schemas import RecordUsageBody

bp = Blueprint(__name__)
schemas = model_refs("chalicelib.usage.schemas")
service = lazy_module("chalicelib.usage.service")


@route(bp, "/user/usage", "GET", access=USER, responses={200: schemas.UsageAnswer})
def usage(req: Req) -> Any:
    """The caller's usage in the current period: tokens, and every limited or metered feature."""
    return service.usage(req.user)


@route(
    bp,
    "/user/usage",
    "POST",
    access=USER,
    idempotent=True,
    body=schemas.RecordUsageBody,
    responses={200: schemas.RecordedUsage, 402: schemas.UsageLimitReached},
)
def record_usage(req: Req, body: RecordUsageBody) -> Any:
    """Report metered usage of a feature: counted once per `reference`, refused past the plan's limit."""
    return service.record(req.user, body, req.idempotency)
