"""The generic signed payment webhook (contract checkout-and-payments.md §8).

Verify the signature on the raw bytes, then parse; a repeated event id is acknowledged with the first answer.
The provider-event record that deduplicates it is written in the capture's own transaction, so two deliveries of
one event racing each other capture once: the loser's transaction is refused and it answers as a duplicate.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.core import clock
from chalicelib.core.config import get_settings
from chalicelib.core.errors import BadRequest, Conflict, ServiceUnavailable
from chalicelib.core.ids import is_uuid
from chalicelib.core.money import parse_decimal
from chalicelib.core.times import unix
from chalicelib.events.envelope import Actor
from chalicelib.http.routing import Reply
from chalicelib.invoices.models import InvoiceItem
from chalicelib.invoices.repository import invoice_records
from chalicelib.payments import signatures
from chalicelib.payments.activation import Payment
from chalicelib.payments.capture import CaptureResult, NotCapturable, capture, check_amount
from chalicelib.store.base import ProviderEventsTable
from chalicelib.store.transactions import Transaction, TransactionCancelled

RETENTION = timedelta(days=90)


class ProviderEventItem(ProviderEventsTable, discriminator="PROVIDER_EVENT"):
    """pk `EVENT#<provider>#<event id>`: an inbound payment notification, stored with the answer it got."""

    provider = UnicodeAttribute()
    event_id = UnicodeAttribute()
    invoice_id = UnicodeAttribute(null=True)
    answer = UnicodeAttribute()
    received_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, provider: str, event_id: str) -> tuple[str, str]:
        return f"EVENT#{provider}#{event_id}", "EVENT"


def _secrets() -> list[str]:
    return [s.get_secret_value() for s in get_settings().payment_webhook_secrets if s.get_secret_value()]


def test_endpoint(signature: str | None, body: bytes) -> dict[str, Any]:
    answer: dict[str, Any] = {"status": "ok", "message": "Webhook endpoint is reachable"}
    if signature is not None:
        answer["signature_valid"] = signatures.verify(signature, body, _secrets(), unix(clock.now()))
    return answer


def receive(signature: str | None, body: bytes) -> Reply:
    secrets = _secrets()
    if not secrets:
        raise ServiceUnavailable("Webhook secret not configured")
    if not signatures.verify(signature, body, secrets, unix(clock.now())):
        raise BadRequest("Invalid signature")
    fields = _parse(body)
    invoice_id, reference_ = fields["invoice_id"], fields["payment_reference"]
    dedupe = fields["event_id"] or f"{invoice_id}:{reference_}"
    earlier = _stored(dedupe)
    if earlier is not None:
        return Reply({**earlier, "duplicate": True})
    records = invoice_records(invoice_id)
    if records is None:
        raise BadRequest(f"Invoice {invoice_id} not found")
    invoice = records.invoice
    problem = check_amount(invoice, fields["amount"], fields["currency"])
    if problem:
        raise BadRequest(problem)
    payment = Payment(fields["provider"], reference_, transaction_id=fields["event_id"])
    if (replay := _already_paid(invoice, payment, dedupe)) is not None:
        return replay

    def remember(tx: Transaction, result: CaptureResult) -> None:
        pk, sk = ProviderEventItem.key("webhook", dedupe)
        now = clock.now()
        item = ProviderEventItem(
            pk,
            sk,
            provider="webhook",
            event_id=dedupe,
            invoice_id=invoice_id,
            answer=json.dumps(_answer(result.invoice, result.items_activated)),
            received_at=now,
            ttl=now + RETENTION,
        )
        tx.create(item, label="provider_event")

    try:
        result = capture(
            invoice_id,
            payment,
            Actor("provider", fields["provider"]),
            extra=remember,
            preloaded=(invoice, records.purchases),
        )
    except NotCapturable as exc:
        if (replay := _already_paid(exc.invoice, payment, dedupe)) is not None:
            return replay
        raise Conflict(f"Invoice is {exc.invoice.status}, expected PENDING") from exc
    except TransactionCancelled as exc:
        if "provider_event" in exc.failed and (stored := _stored(dedupe)) is not None:
            return Reply({**stored, "duplicate": True})
        raise
    return Reply(_answer(result.invoice, result.items_activated))


def _already_paid(invoice: InvoiceItem, payment: Payment, dedupe: str) -> Reply | None:
    """The invoice was captured by this payment meanwhile: a racing delivery of the same event answers as its
    duplicate; another event for the same payment is acknowledged without effect."""
    if not _paid_by(invoice, payment):
        return None
    if (stored := _stored(dedupe)) is not None:
        return Reply({**stored, "duplicate": True})
    return Reply(_answer(invoice, _replayed_items(invoice)))


def _paid_by(invoice: InvoiceItem, payment: Payment) -> bool:
    """Already PAID by this very payment — same provider and reference (§6.2 rule 2): a replay, not a conflict."""
    return (
        invoice.status == "PAID"
        and invoice.payment_ref == payment.reference
        and invoice.payment_method == payment.provider
    )


def _stored(dedupe: str) -> dict[str, Any] | None:
    try:
        item = ProviderEventItem.get(*ProviderEventItem.key("webhook", dedupe), consistent_read=True)
    except DoesNotExist:
        return None
    stored: dict[str, Any] = json.loads(item.answer)
    return stored


def _parse(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("Invalid JSON body") from exc
    if not isinstance(data, dict):
        raise BadRequest("Request body must be a JSON object")
    for name in ("invoice_id", "payment_reference", "amount", "currency"):
        if data.get(name) in (None, ""):
            raise BadRequest(f"{name} is required")
    if not is_uuid(data["invoice_id"]):
        raise BadRequest("Invalid invoice_id format")
    reference_, currency = data["payment_reference"], data["currency"]
    if not isinstance(reference_, str) or len(reference_) > 255:
        raise BadRequest("payment_reference must be a string of at most 255 characters")
    if not isinstance(currency, str):
        raise BadRequest("currency must be a string")
    try:
        amount = parse_decimal(data["amount"])
    except ValueError as exc:
        raise BadRequest("Invalid amount") from exc
    event_id = data.get("event_id")
    if event_id is not None and (not isinstance(event_id, str) or not event_id or len(event_id) > 255):
        raise BadRequest("event_id must be a string of 1 to 255 characters")
    provider = data.get("provider") or "webhook"
    if not isinstance(provider, str) or len(provider) > 50:
        raise BadRequest("provider must be a string of at most 50 characters")
    return {
        "invoice_id": str(data["invoice_id"]).lower(),
        "payment_reference": reference_,
        "amount": amount,
        "currency": currency,
        "event_id": event_id,
        "provider": provider,
    }


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
