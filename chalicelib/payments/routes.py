"""The generic signed payment webhook (contract checkout-and-payments.md §8), the sandbox's off-session outcome
(§10.2, plugin `sandbox`), and the routes of the hosted providers — Stripe, PayPal, YooKassa (§9–§10):
`create-session`, `session-status/<id>` and the provider's signed `webhook` under `/plugins/<provider>/`, each
answering 404 `Plugin not enabled` while its plugin is disabled."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.core.jsontext import parse_json_object
from chalicelib.core.lazy import lazy_module, model_refs
from chalicelib.core.validation import parse_body
from chalicelib.http.access import USER
from chalicelib.http.request import Req
from chalicelib.http.routing import route

if TYPE_CHECKING:
    from chalicelib.payments.schemas import SandboxOutcomeBody, SessionBody

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


# --- the hosted providers (§9–§10) ---------------------------------------------------------------------------

sessions = lazy_module("chalicelib.payments.sessions")
inbox = lazy_module("chalicelib.payments.inbox")
PROVIDERS = {"stripe": "Stripe", "paypal": "PayPal", "yookassa": "YooKassa"}
ERRORS = {
    502: "Payment provider error: <provider message>",
    503: "Payment provider not configured",
}


def _named(view: Callable[..., Any], name: str, doc: str) -> Callable[..., Any]:
    view.__name__ = view.__qualname__ = name
    view.__doc__ = doc
    return view


def _routes(code: str, title: str) -> None:
    base = f"/plugins/{code}"

    def create_session(req: Req, body: SessionBody) -> Any:
        urls = sessions.return_urls(code, req.header("origin"), req.header("referer"))
        key = req.header("idempotency-key")
        return sessions.create_session(req.user, code, body.invoice_id, urls, key, req.idempotency)

    def session_status(req: Req, session_id: str) -> Any:
        return sessions.session_status(req.user, code, session_id)

    def webhook(req: Req) -> Any:
        headers = {str(k): str(v) for k, v in req.raw.headers.items()}
        return inbox.receive(code, headers, req.body_bytes, req.client_ip)

    route(
        bp,
        f"{base}/create-session",
        "POST",
        access=USER,
        plugin=code,
        idempotent=True,
        body=schemas.SessionBody,
        responses={200: schemas.HostedSessionAnswer, **ERRORS},
    )(_named(create_session, f"{code}_create_session", f"Open a {title} payment session for the caller's invoice."))
    route(
        bp,
        f"{base}/session-status/{{session_id}}",
        "GET",
        access=USER,
        plugin=code,
        responses={200: schemas.SessionStatusAnswer, **ERRORS},
    )(_named(session_status, f"{code}_session_status", f"The {title} session's status; a paid one is captured."))
    route(
        bp,
        f"{base}/webhook",
        "POST",
        plugin=code,
        raw_body=True,
        responses={200: schemas.WebhookReceived, 503: "Payment provider not configured"},
    )(_named(webhook, f"{code}_webhook", f"{title}'s signed webhook: verified on the raw body, stored, then applied."))


for _code, _title in PROVIDERS.items():
    _routes(_code, _title)
