"""Paying an invoice (contract checkout-and-payments.md §5.4) and marking one paid (admin.md §9.4).

A pay holds the invoice's pay lock while it runs, so pays of one invoice never overlap: the first one in decides
on what is stored (read again under the lock), the others are told a payment is in progress. The provider only
reports how the payment started (`ProviderStart`); what that does to the invoice is written here, through the
invoice repository, in one transaction with the stored Idempotency-Key answer — the capture, the authorization,
the declined attempt, or the method the bank-transfer instructions were issued for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.catalog.pricing import Currencies
from chalicelib.catalog.repository import reference
from chalicelib.core import clock
from chalicelib.core.errors import BadRequest, Conflict, NotFound
from chalicelib.core.money import format_money
from chalicelib.events.catalog import InvoiceAuthorized, InvoicePaymentFailed, PaymentAuthorized
from chalicelib.events.envelope import Actor, Event
from chalicelib.invoices import repository as invoice_store
from chalicelib.invoices import serializers
from chalicelib.invoices.models import InvoiceItem
from chalicelib.invoices.repository import InvoiceRecords
from chalicelib.invoices.service import owned_records
from chalicelib.payments import repository, sessions
from chalicelib.payments.capture import CaptureResult, NotCapturable, capture
from chalicelib.payments.methods import default_method, usable
from chalicelib.payments.outcomes import Payment, PaymentKind, PaymentOutcome, ProviderStart
from chalicelib.payments.providers import provider
from chalicelib.store.transactions import Transaction

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal
    from chalicelib.core.idempotency import AnswerRecorder
    from chalicelib.payments.schemas import MarkPaidBody, PayBody, SandboxOutcomeBody

IN_PROGRESS = "Payment already in progress for this invoice"
MESSAGES = {
    PaymentKind.CAPTURED: "Payment successful",
    PaymentKind.AUTHORIZED: "Payment authorized",
    PaymentKind.INSTRUCTIONS: "Payment instructions issued",
    PaymentKind.DECLINED: "Payment failed",
    PaymentKind.REDIRECT: "Redirect to complete payment",
}


def _places(invoice: InvoiceItem) -> int:
    return Currencies.of(reference().currencies).places(invoice.currency)


def _refuse_unpayable(invoice: InvoiceItem) -> None:
    if invoice.status == "PAID":
        raise BadRequest("Invoice already paid")
    if invoice.status != "PENDING":
        raise BadRequest(f"Invoice is {invoice.status}, expected PENDING")
    # A renewal invoice is due when its period starts, and stays payable through the dunning that follows
    # (subscriptions.md §7.2: paying it at any time recovers the subscription) until dunning fails it.
    if invoice.due_date is not None and invoice.due_date <= clock.now() and invoice.billing_reason != "RENEWAL":
        raise BadRequest("Invoice is past its due date")


def pay(
    principal: Principal,
    invoice_id: str,
    body: PayBody,
    recorder: AnswerRecorder | None = None,
    *,
    origin: str | None = None,
    referer: str | None = None,
    request_key: str | None = None,
) -> PaymentOutcome:
    """Start paying the caller's invoice with its method (or the one the body switches it to); a hosted provider
    opens its session, with the way back to the caller's frontend (`origin`, `referer`, §10.1)."""
    records = owned_records(principal, invoice_id)
    _refuse_unpayable(records.invoice)
    _resolve_method(records.invoice, body.payment_method_code)
    lock = repository.take_pay_lock(invoice_id, clock.now())
    if lock is None:
        raise Conflict(IN_PROGRESS)
    try:
        # A pay that held the lock before us may have paid it or switched its method: decide on what is stored.
        records = owned_records(principal, invoice_id)
        _refuse_unpayable(records.invoice)
        code = _resolve_method(records.invoice, body.payment_method_code)
        if code in sessions.HOSTED:
            urls = sessions.return_urls(code, origin, referer)
            started = sessions.start(code, records, urls, request_key)
        else:
            started = provider(code).start(records, body)
        return _apply(code, records, started, recorder)
    finally:
        repository.release_pay_lock(lock)


def _resolve_method(invoice: InvoiceItem, requested: str | None) -> str:
    """Body → the invoice's method → the default method; it must be able to take this invoice's money."""
    ref = reference()
    country = (invoice.billing_address or {}).get("country") if invoice.billing_address else None
    code = requested or invoice.payment_method
    if code is None:
        default = default_method(ref, invoice.currency, country, invoice.total_amount)
        if default is None:
            raise BadRequest("Payment method not available: none")
        return default.code
    if usable(ref, code, invoice.currency, country, invoice.total_amount) is None:
        raise BadRequest(f"Payment method not available: {code}")
    return code


def _outcome(started: ProviderStart, invoice: InvoiceItem, credit_notes: list[Any] | None = None) -> PaymentOutcome:
    invoice_json = serializers.invoice(invoice, _places(invoice), clock.now(), credit_notes)
    return PaymentOutcome(started.kind, invoice_json, started.payment, MESSAGES[started.kind])


def _apply(
    code: str, records: InvoiceRecords, started: ProviderStart, recorder: AnswerRecorder | None
) -> PaymentOutcome:
    """Write what the provider reported, with the stored answer, in one transaction."""
    invoice = records.invoice
    if started.kind is PaymentKind.CAPTURED:
        assert started.captured_by is not None
        return _capture(code, records, started, started.captured_by, recorder)
    now = clock.now()
    tx = Transaction()
    actor = Actor("provider", code)
    if started.kind is PaymentKind.AUTHORIZED:
        assert started.intent_id is not None
        invoice_store.authorize(tx, invoice, started.intent_id, code, now)
        amount = format_money(invoice.total_amount, _places(invoice))
        tx.events += [
            Event(
                InvoiceAuthorized(
                    invoice.id,
                    invoice.invoice_number,
                    invoice.user_id,
                    amount,
                    invoice.currency,
                    started.intent_id,
                    code,
                ),
                actor,
                occurred_at=now,
            ),
            Event(
                PaymentAuthorized(invoice.id, started.intent_id, amount, invoice.currency, code), actor, occurred_at=now
            ),
        ]
    elif started.kind is PaymentKind.DECLINED:
        invoice.payment_method = code
        attempt = invoice_store.record_attempt(tx, invoice, started.error_code or "declined", now)
        failed = InvoicePaymentFailed(
            invoice.id,
            invoice.invoice_number,
            invoice.user_id,
            code,
            started.error_code or "declined",
            started.error_message or "The payment was declined",
            attempt,
        )
        tx.events.append(Event(failed, actor, occurred_at=now))
    elif invoice.payment_method != code:  # instructions for another method than the one recorded
        invoice_store.choose_method(tx, invoice, code, now)
    outcome = _outcome(started, invoice)
    if recorder is not None:
        recorder.record(tx, outcome)
    tx.commit()
    return outcome


def _capture(
    code: str, records: InvoiceRecords, started: ProviderStart, payment: Payment, recorder: AnswerRecorder | None
) -> PaymentOutcome:
    def answer(tx: Transaction, result: CaptureResult) -> None:
        if recorder is not None:
            recorder.record(tx, _outcome(started, result.invoice, result.credit_notes))

    try:
        result = capture(
            records.invoice.id,
            payment,
            Actor("provider", code),
            extra=answer,
            preloaded=(records.invoice, records.purchases),
        )
    except NotCapturable as exc:  # captured (or voided) by a webhook or an admin meanwhile
        _refuse_unpayable(exc.invoice)
        raise
    return _outcome(started, result.invoice, result.credit_notes)


# --- admin -----------------------------------------------------------------------------------------------------


def mark_paid(
    admin: Principal, invoice_id: str, body: MarkPaidBody, recorder: AnswerRecorder | None = None
) -> dict[str, Any]:
    """Capture a PENDING invoice paid outside (admin.md §9.4): no amount check."""
    records = invoice_store.invoice_records(invoice_id)
    if records is None:
        raise NotFound("Invoice not found")
    _refuse_unless_pending(records.invoice)

    def answer(tx: Transaction, result: CaptureResult) -> None:
        if recorder is not None:
            recorder.record(tx, _mark_paid_answer(result))

    try:
        result = capture(
            invoice_id,
            Payment(body.payment_method, body.payment_reference),
            Actor("admin", admin.user_id),
            extra=answer,
            preloaded=(records.invoice, records.purchases),
        )
    except NotCapturable as exc:
        _refuse_unless_pending(exc.invoice)
        raise
    return _mark_paid_answer(result)


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


# --- the sandbox's off-session outcome (§10.2) -----------------------------------------------------------------


def sandbox_outcome(principal: Principal) -> dict[str, Any]:
    return {"outcome": repository.sandbox_outcome(principal.user_id)}


def set_sandbox_outcome(principal: Principal, body: SandboxOutcomeBody) -> dict[str, Any]:
    repository.set_sandbox_outcome(principal.user_id, body.outcome, clock.now())
    return {"outcome": body.outcome}
