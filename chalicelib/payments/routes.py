"""The generic signed payment webhook (contract checkout-and-payments.md §8) and the sandbox's off-session outcome
(§10.2, plugin `sandbox`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.core.jsontext import parse_json_object
from chalicelib.core.lazy import lazy_module, model_refs
from chalicelib.core.validation import parse_body
from chalicelib.http.access import USER
from chalicelib.http.request import Req
from chalicelib.http.routing import route

if TYPE_CHECKING:
    from chalicelib.payments.schemas import SandboxOutcomeBody

bp = Blueprint(__name__)
schemas = model_refs("chalicelib.payments.schemas")
webhook = lazy_module("chalicelib.payments.webhook")
service = lazy_module("chalicelib.payments.service")
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


@route(bp, "/plugins/sandbox/outcome", "GET", access=USER, plugin="sandbox", responses={200: schemas.SandboxOutcome})
def sandbox_outcome(req: Req) -> Any:
    """How the sandbox answers the caller's future off-session charges (renewals, retries, upgrades)."""
    return service.sandbox_outcome(req.user)


@route(
    bp,
    "/plugins/sandbox/outcome",
    "PUT",
    access=USER,
    plugin="sandbox",
    body=schemas.SandboxOutcomeBody,
    responses={200: schemas.SandboxOutcome},
)
def set_sandbox_outcome(req: Req, body: SandboxOutcomeBody) -> Any:
    """Make the caller's future off-session sandbox charges succeed or fail (for testing dunning)."""
    return service.set_sandbox_outcome(req.user, body)
