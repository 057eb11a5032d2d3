"""Paying an invoice (contract checkout-and-payments.md §5.4) and marking one paid (admin.md §9.4)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError

from chalicelib.catalog.pricing import Currencies
from chalicelib.catalog.repository import reference
from chalicelib.core import clock
from chalicelib.core.errors import BadRequest, Conflict, Forbidden, NotFound
from chalicelib.events.envelope import Actor
from chalicelib.http.routing import Reply
from chalicelib.invoices import serializers
from chalicelib.invoices.models import InvoiceItem
from chalicelib.invoices.repository import InvoiceRecords, invoice_records
from chalicelib.payments.activation import Payment
from chalicelib.payments.capture import CaptureResult, NotCapturable, capture
from chalicelib.payments.methods import default_method, usable
from chalicelib.payments.providers import PaymentStart, provider
from chalicelib.payments.providers.sandbox import OUTCOMES
from chalicelib.store.base import IdempotencyTable
from chalicelib.store.errors import condition_failed
from chalicelib.store.transactions import Transaction

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal
    from chalicelib.core.idempotency import AnswerRecorder

PAY_LOCK = timedelta(seconds=30)


class PayLockItem(IdempotencyTable, discriminator="PAY_LOCK"):
    """pk `PAYLOCK#<invoice id>`: one payment start per invoice at a time (409 for the others)."""

    owner = UnicodeAttribute()
    until = UTCDateTimeAttribute()


def owned_records(principal: Principal, invoice_id: str) -> InvoiceRecords:
    records = invoice_records(invoice_id)
    if records is None:
        raise NotFound("Invoice not found")
    if records.invoice.user_id != principal.user_id:
        raise Forbidden("Access denied")
    return records


def _places(invoice: InvoiceItem) -> int:
    return Currencies.of(reference().currencies).places(invoice.currency)


def pay(principal: Principal, invoice_id: str, body: dict[str, Any]) -> Reply:
    records = owned_records(principal, invoice_id)
    invoice = records.invoice
    now = clock.now()
    if invoice.status == "PAID":
        raise BadRequest("Invoice already paid")
    if invoice.status != "PENDING":
        raise BadRequest(f"Invoice is {invoice.status}, expected PENDING")
    if invoice.due_date is not None and invoice.due_date <= now:
        raise BadRequest("Invoice is past its due date")
    outcome = body.get("sandbox_outcome")
    if outcome is not None and outcome not in OUTCOMES:
        raise BadRequest(f"Invalid sandbox_outcome: {outcome}")
    code = _resolve_method(invoice, body.get("payment_method_code"))
    lock = _lock(invoice.id, principal)
    try:
        if invoice.payment_method != code:
            invoice.payment_method = code
            invoice.updated_at = now
            Transaction().put(invoice, label="InvoiceItem").commit()
        started = _start(code, records, principal, {"sandbox_outcome": outcome})
    finally:
        lock.delete()
    return _answer(started)


def _resolve_method(invoice: InvoiceItem, requested: Any) -> str:
    """Body → the invoice's method → the default method; it must be able to take this invoice's money."""
    ref = reference()
    details_country = (invoice.billing_address or {}).get("country") if invoice.billing_address else None
    code = requested if isinstance(requested, str) and requested else invoice.payment_method
    if code is None:
        default = default_method(ref, invoice.currency, details_country, invoice.total_amount)
        if default is None:
            raise BadRequest("Payment method not available: none")
        return default.code
    if usable(ref, code, invoice.currency, details_country, invoice.total_amount) is None:
        raise BadRequest(f"Payment method not available: {code}")
    return code


def _lock(invoice_id: str, principal: Principal) -> PayLockItem:
    now = clock.now()
    lock = PayLockItem(
        f"PAYLOCK#{invoice_id}",
        "LOCK",
        owner=principal.claims.jti,
        until=now + PAY_LOCK,
        ttl=now + PAY_LOCK + timedelta(minutes=5),
    )
    try:
        lock.save(condition=PayLockItem.pk.does_not_exist() | (PayLockItem.until < now))
    except PutError as exc:
        if condition_failed(exc):
            raise Conflict("Payment already in progress for this invoice") from exc
        raise
    return lock


def _start(code: str, records: InvoiceRecords, principal: Principal, options: dict[str, Any]) -> PaymentStart:
    try:
        return provider(code).start(records, principal, options)
    except NotCapturable as exc:  # a concurrent payment captured it first
        if exc.invoice.status == "PAID":
            raise BadRequest("Invoice already paid") from exc
        raise BadRequest(f"Invoice is {exc.invoice.status}, expected PENDING") from exc


def _answer(started: PaymentStart) -> Reply:
    invoice_json = serializers.invoice(started.invoice, _places(started.invoice), clock.now(), started.credit_notes)
    body: dict[str, Any] = {"invoice": invoice_json, "message": started.message, "payment": started.payment}
    if started.error:
        body = {"error": started.error, "invoice": invoice_json, "payment": started.payment}
    return Reply(body, started.status)


def mark_paid(admin: Principal, invoice_id: str, body: dict[str, Any], idempotency: AnswerRecorder | None) -> Reply:
    reference_ = body.get("payment_reference", "MANUAL")
    method = body.get("payment_method", "manual")
    if not isinstance(reference_, str) or not reference_ or len(reference_) > 255:
        raise BadRequest("payment_reference must be 1-255 characters")
    if not isinstance(method, str) or not method or len(method) > 50:
        raise BadRequest("payment_method must be 1-50 characters")
    records = invoice_records(invoice_id)
    if records is None:
        raise NotFound("Invoice not found")
    _refuse_unless_pending(records.invoice)

    def answer(tx: Transaction, result: Any) -> None:
        if idempotency is not None:
            idempotency.record(tx, _mark_paid_answer(result))

    try:
        result = capture(
            invoice_id,
            Payment(method, reference_),
            Actor("admin", admin.user_id),
            extra=answer,
            preloaded=(records.invoice, records.purchases),
        )
    except NotCapturable as exc:
        _refuse_unless_pending(exc.invoice)
        raise
    return Reply(_mark_paid_answer(result))


def _refuse_unless_pending(invoice: InvoiceItem) -> None:
    if invoice.status == "PAID":
        raise BadRequest("Invoice already paid")
    if invoice.status != "PENDING":
        raise BadRequest(f"Cannot mark as paid: invoice status is {invoice.status}")


def _mark_paid_answer(result: CaptureResult) -> dict[str, Any]:
    from chalicelib.users.repository import find_user

    invoice = result.invoice
    owner = find_user(invoice.user_id)
    invoice_json = serializers.invoice(invoice, result.places, clock.now(), result.credit_notes)
    invoice_json["user_email"] = owner.email if owner else None
    return {"invoice": invoice_json, "message": "Invoice marked as paid", "items_activated": result.items_activated}
