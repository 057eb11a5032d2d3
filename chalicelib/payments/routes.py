"""The generic signed payment webhook (contract checkout-and-payments.md §8)."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.core.jsontext import parse_json_object
from chalicelib.core.lazy import lazy_module, model_refs
from chalicelib.core.validation import parse_body
from chalicelib.http.request import Req
from chalicelib.http.routing import route

bp = Blueprint(__name__)
schemas = model_refs("chalicelib.payments.schemas")
webhook = lazy_module("chalicelib.payments.webhook")
SIGNATURE = "x-vbwd-signature"


@route(
    bp,
    "/webhooks/payment",
    "POST",
    raw_body=True,
    body=schemas.PaymentNotification,
    responses={
        200: schemas.WebhookAnswer,
        409: "The invoice is no longer payable (`Invoice is <STATUS>, expected PENDING`)",
        503: "Webhook secret not configured",
    },
)
def payment_webhook(req: Req) -> Any:
    """A signed payment notification: verified on the raw bytes, then parsed, then captured once per event."""
    webhook.verify(req.header(SIGNATURE), req.body_bytes)
    notification = parse_body(schemas.PaymentNotification, parse_json_object(req.body_bytes))
    return webhook.receive(notification)


@route(bp, "/webhooks/payment/test", "POST", raw_body=True, responses={200: schemas.WebhookTestAnswer})
def payment_webhook_test(req: Req) -> Any:
    """Whether the webhook is reachable and, with a signature header, whether the signature verifies."""
    return webhook.test_endpoint(req.header(SIGNATURE), req.body_bytes)
