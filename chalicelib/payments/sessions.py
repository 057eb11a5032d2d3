"""Hosted payment sessions of Stripe, PayPal and YooKassa (contract checkout-and-payments.md §10.1, §5.4).

A session is opened for one PENDING invoice of the caller: the provider gets the invoice's exact total, the return
URLs of the caller's frontend and an idempotency key; the invoice records the provider as its method and the
session as its open one (an earlier open session of it is expired at the provider, where it allows that); the
session is remembered so that only the invoice's owner can ask for its status. Asking for the status reconciles:
when the provider says paid while the invoice is still PENDING, the capture of §6 runs here, before the answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from chalicelib.core import clock
from chalicelib.core.config import get_settings
from chalicelib.core.errors import BadRequest, Forbidden, NotFound, ProviderFailed, ServiceUnavailable
from chalicelib.core.ids import new_id
from chalicelib.events.envelope import Actor
from chalicelib.invoices import repository as invoice_store
from chalicelib.invoices.models import InvoiceItem
from chalicelib.payments import repository
from chalicelib.payments.capture import NotCapturable, capture
from chalicelib.payments.hosted import (
    Buyer,
    HostedProvider,
    HostedSession,
    ProviderError,
    ProviderNotConfigured,
    ReturnUrls,
    SessionState,
    is_configured,
)
from chalicelib.payments.outcomes import PaymentKind, ProviderStart
from chalicelib.store.transactions import Transaction

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal
    from chalicelib.core.idempotency import AnswerRecorder
    from chalicelib.invoices.repository import InvoiceRecords

HOSTED = ("stripe", "paypal", "yookassa")
NOT_CONFIGURED = "Payment provider not configured"
T = TypeVar("T")


def hosted(code: str) -> HostedProvider:
    """The provider's implementation, or 503 when its keys are missing for the active mode."""
    from chalicelib.payments.providers import provider

    if code not in HOSTED or not is_configured(code):
        raise ServiceUnavailable(NOT_CONFIGURED)
    implementation: HostedProvider = provider(code)  # type: ignore[assignment]
    return implementation


def calling(work: Callable[[], T]) -> T:
    """A provider call in domain errors: missing keys 503, the provider's failure 502 with its message."""
    try:
        return work()
    except ProviderNotConfigured as exc:
        raise ServiceUnavailable(NOT_CONFIGURED) from exc
    except ProviderError as exc:
        raise ProviderFailed(f"Payment provider error: {exc}") from exc


def return_urls(code: str, origin: str | None, referer: str | None) -> ReturnUrls:
    """The buyer's way back (§10.1): an allowed `Origin`, else the `Referer` cut before `/pay`, else the
    configured frontend base."""
    settings = get_settings()
    base = settings.frontend_base_url
    allowed = {o.rstrip("/") for o in settings.allowed_origins}
    if origin and urlsplit(origin).scheme in ("http", "https") and ("*" in allowed or origin.rstrip("/") in allowed):
        base = origin
    elif referer and urlsplit(referer).scheme in ("http", "https"):
        base = referer.split("/pay", 1)[0]
    base = base.rstrip("/")
    return ReturnUrls(f"{base}/pay/{code}/success?session_id={{SESSION_ID}}", f"{base}/pay/{code}/cancel")


def _refuse_unpayable(invoice: InvoiceItem) -> None:
    if invoice.status != "PENDING":
        raise BadRequest(f"Invoice is {invoice.status}, expected PENDING")
    if invoice.due_date is not None and invoice.due_date <= clock.now() and invoice.billing_reason != "RENEWAL":
        raise BadRequest("Invoice is past its due date")


def _manual_capture(invoice: InvoiceItem) -> bool:
    """Booking lines that ask for a manual capture make the session an authorization (§6.3, booking.md §4.6)."""
    return any((line.metadata or {}).get("capture_mode") == "manual" for line in invoice.lines)


def open_session(code: str, invoice: InvoiceItem, urls: ReturnUrls, request_key: str | None) -> HostedSession:
    """Open the provider's session for the invoice and record it (the invoice's method and open session, the
    owner's provider customer, the session's owner)."""
    from chalicelib.users import repository as users

    implementation = hosted(code)
    owner = users.find_user(invoice.user_id)
    if owner is None:
        raise NotFound("Invoice not found")
    customer = (owner.payment_customers or {}).get(code)
    earlier = invoice.provider_session_id if invoice.payment_method == code else None
    if earlier:
        # Paid or expired already, or a provider that cannot expire it: the new session is opened anyway.
        with suppress(ProviderError):
            implementation.expire_session(earlier)
    # Short enough for every provider (YooKassa takes 64 characters): the invoice and this request.
    key = f"{invoice.id}:s{hashlib.sha256((request_key or new_id()).encode()).hexdigest()[:12]}"
    session = calling(
        lambda: implementation.create_session(
            invoice, Buyer(owner.id, owner.email, customer), urls, key, manual_capture=_manual_capture(invoice)
        )
    )
    now = clock.now()
    tx = Transaction()
    invoice_store.open_session(tx, invoice, code, session.session_id, now)
    if session.customer_id and session.customer_id != customer:
        users.remember_payment_customer(tx, owner, code, session.customer_id)
    tx.commit()
    repository.remember_session(code, session.session_id, invoice, now)
    return session


def session_answer(code: str, session: HostedSession) -> dict[str, Any]:
    answer: dict[str, Any] = {"session_id": session.session_id, "session_url": session.session_url}
    if code == "stripe":
        answer["payment_intent_id"] = session.payment_intent_id
    if session.capture_method == "manual":
        answer.update(client_secret=session.client_secret, capture_method="manual")
    return answer


def create_session(
    principal: Principal,
    code: str,
    invoice_id: str,
    urls: ReturnUrls,
    request_key: str | None = None,
    recorder: AnswerRecorder | None = None,
) -> dict[str, Any]:
    """`POST /plugins/<provider>/create-session` (§10.1)."""
    hosted(code)
    records = invoice_store.invoice_records(invoice_id)
    if records is None:
        raise NotFound("Invoice not found")
    if records.invoice.user_id != principal.user_id:
        raise Forbidden("Invoice does not belong to this user")
    _refuse_unpayable(records.invoice)
    answer = session_answer(code, open_session(code, records.invoice, urls, request_key))
    if recorder is not None:
        tx = Transaction()
        recorder.record(tx, answer)
        tx.commit()
    return answer


def start(code: str, records: InvoiceRecords, urls: ReturnUrls, request_key: str | None) -> ProviderStart:
    """The pay of §5.4 with a hosted provider: the same session as `create-session`, answered as a redirect."""
    session = open_session(code, records.invoice, urls, request_key)
    payment = {
        "provider": code,
        "status": "requires_action",
        "session_id": session.session_id,
        "session_url": session.session_url,
        "redirect_url": session.session_url,
    }
    return ProviderStart(PaymentKind.REDIRECT, payment)


def session_status(principal: Principal, code: str, session_id: str) -> dict[str, Any]:
    """`GET /plugins/<provider>/session-status/<id>` (§10.1): owner-only; a paid session of a PENDING invoice is
    captured here (reconciliation), an authorized one authorizes it."""
    implementation = hosted(code)
    remembered = repository.find_session(code, session_id)
    if remembered is None:
        raise NotFound("Session not found")
    if remembered.user_id != principal.user_id:
        raise Forbidden("Access denied")
    state = calling(lambda: implementation.session_state(session_id))
    invoice = reconcile(code, remembered.invoice_id, state)
    return {
        "status": state.status,
        "amount_total": state.amount_minor,
        "currency": state.currency,
        "invoice_id": remembered.invoice_id,
        "invoice_status": invoice.status if invoice else None,
    }


def reconcile(code: str, invoice_id: str, state: SessionState) -> InvoiceItem | None:
    """Bring the invoice to what the provider says of its session; the invoice as it is afterwards."""
    from chalicelib.payments import provider_events

    records = invoice_store.invoice_records(invoice_id)
    if records is None:
        return None
    invoice = records.invoice
    actor = Actor("provider", code)
    if state.status == "paid" and state.payment is not None and invoice.status in ("PENDING", "AUTHORIZED"):
        try:
            return capture(invoice.id, state.payment, actor, preloaded=(invoice, records.purchases)).invoice
        except NotCapturable as exc:
            return exc.invoice
    if state.authorized_intent and invoice.status == "PENDING":
        return provider_events.authorize(code, invoice.id, state.authorized_intent) or invoice
    return invoice
