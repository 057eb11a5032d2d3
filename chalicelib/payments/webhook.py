"""The generic signed payment webhook (contract checkout-and-payments.md §8).

The signature is verified on the raw bytes (`verify`) before anything is parsed; the route then parses the body into
a `PaymentNotification` and hands it to `receive`. A repeated event id is acknowledged with the first answer. The
provider-event record that deduplicates it is written in the capture's own transaction, so two deliveries of one
event racing each other capture once: the loser's transaction is refused and it answers as a duplicate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.core import clock
from chalicelib.core.config import get_settings
from chalicelib.core.errors import BadRequest, Conflict, ServiceUnavailable
from chalicelib.core.times import unix
from chalicelib.events.envelope import Actor
from chalicelib.invoices.models import InvoiceItem
from chalicelib.invoices.repository import invoice_records
from chalicelib.payments import repository, signatures
from chalicelib.payments.capture import CaptureResult, NotCapturable, capture, check_amount
from chalicelib.payments.outcomes import Payment
from chalicelib.store.transactions import Transaction, TransactionCancelled

if TYPE_CHECKING:
    from chalicelib.payments.schemas import PaymentNotification

SOURCE = "webhook"  # the provider name its events are recorded under


def _secrets() -> list[str]:
    return [s.get_secret_value() for s in get_settings().payment_webhook_secrets if s.get_secret_value()]


def test_endpoint(signature: str | None, body: bytes) -> dict[str, Any]:
    answer: dict[str, Any] = {"status": "ok", "message": "Webhook endpoint is reachable"}
    if signature is not None:
        answer["signature_valid"] = signatures.verify(signature, body, _secrets(), unix(clock.now()))
    return answer


def verify(signature: str | None, body: bytes) -> None:
    """The raw body carries a valid signature of a configured secret (§8.1), else the request ends here."""
    secrets = _secrets()
    if not secrets:
        raise ServiceUnavailable("Webhook secret not configured")
    if not signatures.verify(signature, body, secrets, unix(clock.now())):
        raise BadRequest("Invalid signature")


def receive(notification: PaymentNotification) -> dict[str, Any]:
    """Capture the invoice the verified notification pays, once per event id (or invoice and reference)."""
    invoice_id, reference_ = notification.invoice_id, notification.payment_reference
    dedupe = notification.event_id or f"{invoice_id}:{reference_}"
    earlier = repository.provider_event_answer(SOURCE, dedupe)
    if earlier is not None:
        return {**earlier, "duplicate": True}
    records = invoice_records(invoice_id)
    if records is None:
        raise BadRequest(f"Invoice {invoice_id} not found")
    invoice = records.invoice
    problem = check_amount(invoice, notification.amount, notification.currency)
    if problem:
        raise BadRequest(problem)
    payment = Payment(notification.provider, reference_, transaction_id=notification.event_id)
    if (replay := _already_paid(invoice, payment, dedupe)) is not None:
        return replay

    def remember(tx: Transaction, result: CaptureResult) -> None:
        answer = _answer(result.invoice, result.items_activated)
        repository.record_provider_event(tx, SOURCE, dedupe, invoice_id, answer, clock.now())

    try:
        result = capture(
            invoice_id,
            payment,
            Actor("provider", notification.provider),
            extra=remember,
            preloaded=(invoice, records.purchases),
        )
    except NotCapturable as exc:
        if (replay := _already_paid(exc.invoice, payment, dedupe)) is not None:
            return replay
        raise Conflict(f"Invoice is {exc.invoice.status}, expected PENDING") from exc
    except TransactionCancelled as exc:
        stored = repository.provider_event_answer(SOURCE, dedupe)
        if repository.PROVIDER_EVENT in exc.failed and stored is not None:
            return {**stored, "duplicate": True}
        raise
    return _answer(result.invoice, result.items_activated)


def _already_paid(invoice: InvoiceItem, payment: Payment, dedupe: str) -> dict[str, Any] | None:
    """The invoice was captured by this payment meanwhile: a racing delivery of the same event answers as its
    duplicate; another event for the same payment is acknowledged without effect."""
    if not _paid_by(invoice, payment):
        return None
    if (stored := repository.provider_event_answer(SOURCE, dedupe)) is not None:
        return {**stored, "duplicate": True}
    return _answer(invoice, _replayed_items(invoice))


def _paid_by(invoice: InvoiceItem, payment: Payment) -> bool:
    """Already PAID by this very payment — same provider and reference (§6.2 rule 2): a replay, not a conflict."""
    return (
        invoice.status == "PAID"
        and invoice.payment_ref == payment.reference
        and invoice.payment_method == payment.provider
    )


def _replayed_items(invoice: InvoiceItem) -> dict[str, Any]:
    """What an earlier capture activated, read from the lines (a replay credits nothing again)."""
    return {
        "subscription": next((ln.item_id for ln in invoice.lines if ln.item_type == "SUBSCRIPTION"), None),
        "token_bundles": [ln.item_id for ln in invoice.lines if ln.item_type == "TOKEN_BUNDLE"],
        "add_ons": [ln.item_id for ln in invoice.lines if ln.item_type == "ADD_ON"],
        "tokens_credited": 0,
        "bookings": [],
    }


def _answer(invoice: InvoiceItem, items: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": "paid",
        "invoice_id": invoice.id,
        "payment_reference": invoice.payment_ref,
        "items_activated": items,
    }
