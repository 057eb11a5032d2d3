"""POST /api/v1/user/checkout and POST /api/v1/subscriptions (contract checkout-and-payments.md §5.1–§5.2)."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.core.lazy import lazy_module
from chalicelib.http.access import USER
from chalicelib.http.request import Req
from chalicelib.http.routing import route

bp = Blueprint(__name__)
service = lazy_module("chalicelib.checkout.service")
SUBSCRIPTION = "subscription"


@route(bp, "/user/checkout", "POST", access=USER, plugin=SUBSCRIPTION, idempotent=True, status=201)
def checkout(req: Req) -> Any:
    return service.checkout(req.user, req.json, req.idempotency)


@route(bp, "/subscriptions", "POST", access=USER, plugin=SUBSCRIPTION, idempotent=True, status=201)
def subscribe(req: Req) -> Any:
    basket = {key: req.json.get(key) for key in ("plan_id", "add_on_ids", "currency", "payment_method_code")}
    return service.checkout(req.user, basket, req.idempotency, plan_required=True)
