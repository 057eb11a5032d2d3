"""The generic signed payment webhook (contract checkout-and-payments.md §8)."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.core.lazy import lazy_module
from chalicelib.http.request import Req
from chalicelib.http.routing import route

bp = Blueprint(__name__)
webhook = lazy_module("chalicelib.payments.webhook")
SIGNATURE = "x-vbwd-signature"


@route(bp, "/webhooks/payment", "POST", raw_body=True)
def payment_webhook(req: Req) -> Any:
    return webhook.receive(req.header(SIGNATURE), req.body_bytes)


@route(bp, "/webhooks/payment/test", "POST", raw_body=True)
def payment_webhook_test(req: Req) -> Any:
    return webhook.test_endpoint(req.header(SIGNATURE), req.body_bytes)
