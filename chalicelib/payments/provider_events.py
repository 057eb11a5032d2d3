"""What a verified provider webhook does to billing (checkout-and-payments.md §6, §7.3–§7.4, §10.4–§10.6).

The providers translate their own events into `ProviderEvent`s; this module applies them, each at most once: the
inbox record of the webhook is marked processed in the transaction of its effect where the effect is one
transaction (capture, authorization, release, a failed payment, a dispute), and effects that are idempotent by
their own data (a refund's delta, a refund reversal) are applied first and marked after. Event order is not
trusted: every effect reads the invoice as it is now and does nothing when the invoice is already past it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from chalicelib.catalog.pricing import Currencies
from chalicelib.catalog.repository import reference
from chalicelib.core import clock
from chalicelib.core.logging import logger
from chalicelib.core.money import format_money
from chalicelib.events.catalog import (
    InvoiceAuthorized,
    InvoicePaymentFailed,
    PaymentAmountMismatch,
    PaymentAuthorized,
    PaymentDisputed,
    PaymentFailed,
    PaymentOrphaned,
)
from chalicelib.events.envelope import Actor, Event
from chalicelib.invoices import repository as invoice_store
from chalicelib.invoices.models import InvoiceItem
from chalicelib.payments import repository
from chalicelib.payments.capture import NotCapturable, capture, check_amount
from chalicelib.payments.hosted import EventKind, ProviderEvent
from chalicelib.payments.models import WebhookInboxItem
from chalicelib.payments.outcomes import Payment, ProviderRefundFailed, RefundKeyInUse
from chalicelib.store.retry import retrying
from chalicelib.store.transactions import Transaction, TransactionCancelled

WRITE_ATTEMPTS = 5
Mark = Callable[[Transaction, str], None]


def _places(invoice: InvoiceItem) -> int:
    return Currencies.of(reference().currencies).places(invoice.currency)


def _marker(inbox: WebhookInboxItem | None) -> Mark:
    """Adds 'this webhook is applied' to a transaction (nothing for a reconciliation, which has no webhook)."""

    def mark(tx: Transaction, outcome: str) -> None:
        if inbox is not None:
            repository.mark_webhook_processed(tx, inbox, outcome, clock.now())

    return mark


def _only_mark(mark: Mark, outcome: str, events: list[Event] | None = None) -> str:
    tx = Transaction()
    tx.events += events or []
    mark(tx, outcome)
    tx.commit()
    return outcome


def paid_by(invoice: InvoiceItem, payment: Payment) -> bool:
    """Already PAID by this very payment (same provider, and same reference or money id): a replay (§6.2 rule 2)."""
    if invoice.status != "PAID" or invoice.payment_method != payment.provider:
        return False
    same_money = payment.intent_id is not None and invoice.payment_intent_id == payment.intent_id
    return invoice.payment_ref == payment.reference or same_money


def apply(event: ProviderEvent, inbox: WebhookInboxItem | None = None) -> str:
    """Apply one verified provider event; the outcome recorded on its inbox record."""
    mark = _marker(inbox)
    kind = event.kind
    try:
        if kind is EventKind.CAPTURED and event.invoice_id and event.payment is not None:
            return captured(event.provider, event.invoice_id, event.payment, event.amount, event.currency, mark)
        if kind is EventKind.AUTHORIZED and event.invoice_id and event.intent_id:
            authorize(event.provider, event.invoice_id, event.intent_id, mark)
            return "authorized"
        if kind is EventKind.PAYMENT_FAILED and event.invoice_id:
            return _failed(event, mark)
        if kind is EventKind.RELEASED and event.invoice_id:
            return _released(event, mark)
        if kind is EventKind.REFUNDED and event.invoice_id and event.refunded_total is not None:
            return _refunded(event, mark)
        if kind is EventKind.REFUND_REVERSED and event.invoice_id and event.refund_id:
            return _refund_reversed(event, mark)
        if kind is EventKind.DISPUTED and event.invoice_id:
            return _disputed(event, mark)
        if kind in LEGACY and event.provider_subscription_id:
            return _legacy(event, mark)
    except TransactionCancelled as exc:
        if repository.INBOX in exc.failed:
            return "duplicate"  # another consumer applied this webhook meanwhile
        raise
    return _only_mark(mark, "ignored" if kind is EventKind.IGNORED else f"{kind.value}: nothing to do")


# --- capture ---------------------------------------------------------------------------------------------------


def captured(
    code: str,
    invoice_id: str,
    payment: Payment,
    amount: Decimal | None,
    currency: str | None,
    mark: Mark | None = None,
) -> str:
    """The provider took the invoice's money: capture (§6.2) when the amount is the invoice's and it is payable;
    a replay changes nothing; money for an invoice that can no longer take it is refunded (an orphaned payment)."""
    mark = mark or _marker(None)
    records = invoice_store.invoice_records(invoice_id)
    if records is None:
        return _only_mark(mark, "unknown invoice")
    invoice = records.invoice
    actor = Actor("provider", code)
    now = clock.now()
    if amount is not None and currency is not None and check_amount(invoice, amount, currency):
        places = _places(invoice)
        mismatch = PaymentAmountMismatch(
            invoice.id,
            code,
            payment.reference,
            format_money(invoice.total_amount, places),
            format_money(amount, places),
            currency.upper(),
        )
        return _only_mark(mark, "amount mismatch", [Event(mismatch, actor, occurred_at=now)])
    if paid_by(invoice, payment):
        return _only_mark(mark, "replay")
    try:
        capture(
            invoice.id, payment, actor, extra=lambda tx, _: mark(tx, "captured"), preloaded=(invoice, records.purchases)
        )
    except NotCapturable as exc:
        if paid_by(exc.invoice, payment):
            return _only_mark(mark, "replay")
        return _orphaned(code, exc.invoice, payment, mark)
    return "captured"


def _orphaned(code: str, invoice: InvoiceItem, payment: Payment, mark: Mark) -> str:
    """Money taken for an invoice already paid otherwise, or cancelled: given back in full through the provider."""
    from chalicelib.payments.providers import refund_orphan

    refunded = True
    try:
        refund_orphan(payment, invoice, invoice.total_amount, f"{payment.reference}:orphaned")
    except (ProviderRefundFailed, RefundKeyInUse) as exc:
        refunded = False
        logger.warning("orphaned payment not refunded", invoice_id=invoice.id, reason=str(exc))
    places = _places(invoice)
    orphan = PaymentOrphaned(
        invoice.id,
        code,
        payment.reference,
        format_money(invoice.total_amount, places),
        invoice.currency,
        refunded,
    )
    return _only_mark(mark, "orphaned", [Event(orphan, Actor("provider", code), occurred_at=clock.now())])


# --- authorization and release (§6.3) --------------------------------------------------------------------------


def authorization_events(invoice: InvoiceItem, intent_id: str, code: str, places: int, actor: Actor) -> list[Event]:
    now = clock.now()
    amount = format_money(invoice.total_amount, places)
    authorized = InvoiceAuthorized(
        invoice.id, invoice.invoice_number, invoice.user_id, amount, invoice.currency, intent_id, code
    )
    return [
        Event(authorized, actor, occurred_at=now),
        Event(PaymentAuthorized(invoice.id, intent_id, amount, invoice.currency, code), actor, occurred_at=now),
    ]


def authorize(code: str, invoice_id: str, intent_id: str, mark: Mark | None = None) -> InvoiceItem | None:
    """PENDING → AUTHORIZED under the provider's authorization; anything else is left as it is."""
    mark = mark or _marker(None)

    def write() -> InvoiceItem | None:
        records = invoice_store.invoice_records(invoice_id)
        if records is None or records.invoice.status != "PENDING":
            _only_mark(mark, "not pending")
            return records.invoice if records else None
        invoice = records.invoice
        tx = Transaction()
        invoice_store.authorize(tx, invoice, intent_id, code, clock.now())
        tx.events += authorization_events(invoice, intent_id, code, _places(invoice), Actor("provider", code))
        mark(tx, "authorized")
        tx.commit()
        return invoice

    return retrying(write, tries=WRITE_ATTEMPTS, retry_on=_invoice_moved)


def _invoice_moved(exc: TransactionCancelled) -> bool:
    return invoice_store.INVOICE in exc.failed


def _released(event: ProviderEvent, mark: Mark) -> str:
    """The provider voided the authorization: the AUTHORIZED invoice is CANCELLED with what it bills."""
    from chalicelib.payments.voiding import void_with_what_it_bills

    def write() -> str:
        records = invoice_store.invoice_records(str(event.invoice_id))
        if records is None or records.invoice.status != "AUTHORIZED":
            return _only_mark(mark, "not authorized")
        if event.intent_id and records.invoice.payment_intent_id not in (None, event.intent_id):
            return _only_mark(mark, "another authorization")
        tx = Transaction()
        void_with_what_it_bills(tx, records, Actor("provider", event.provider), "provider", released=True)
        mark(tx, "released")
        tx.commit()
        return "released"

    return retrying(write, tries=WRITE_ATTEMPTS, retry_on=_invoice_moved)


# --- failures, refunds, disputes --------------------------------------------------------------------------------


def _failed(event: ProviderEvent, mark: Mark) -> str:
    """A payment the provider declined. An off-session charge's decline was recorded by the charge itself
    (`chalicelib.payments.charges`, which runs dunning); any other is an attempt on the PENDING invoice."""
    code = event.error_code or "declined"
    message = event.error_message or "The payment was declined"
    actor = Actor("provider", event.provider)
    failed = PaymentFailed(str(event.invoice_id), event.provider, code, message, event.off_session)
    if event.off_session:
        return _only_mark(mark, "off-session decline", [Event(failed, actor, occurred_at=clock.now())])

    def write() -> str:
        records = invoice_store.invoice_records(str(event.invoice_id))
        if records is None or records.invoice.status != "PENDING":
            return _only_mark(mark, "not pending")
        invoice = records.invoice
        now = clock.now()
        tx = Transaction()
        invoice.payment_method = event.provider
        attempt = invoice_store.record_attempt(tx, invoice, code, now)
        invoice_failed = InvoicePaymentFailed(
            invoice.id, invoice.invoice_number, invoice.user_id, event.provider, code, message, attempt
        )
        tx.events += [Event(invoice_failed, actor, occurred_at=now), Event(failed, actor, occurred_at=now)]
        mark(tx, "payment failed")
        tx.commit()
        return "payment failed"

    return retrying(write, tries=WRITE_ATTEMPTS, retry_on=_invoice_moved)


def _refunded(event: ProviderEvent, mark: Mark) -> str:
    """A refund made at the provider (§7.3): the delta beyond what is recorded; our own refunds are recorded
    already (their credit note carries the provider's refund id), so their notification changes nothing."""
    from chalicelib.refunds.service import record_provider_refund

    assert event.refunded_total is not None
    result = record_provider_refund(str(event.invoice_id), event.refunded_total, event.provider, event.refund_id)
    return _only_mark(mark, "refund recorded" if result is not None else "refund already recorded")


def _refund_reversed(event: ProviderEvent, mark: Mark) -> str:
    from chalicelib.refunds.service import reverse_refund

    note = reverse_refund(str(event.invoice_id), str(event.refund_id), event.provider)
    return _only_mark(mark, "refund reversed" if note is not None else "no such refund to reverse")


def _disputed(event: ProviderEvent, mark: Mark) -> str:
    records = invoice_store.invoice_records(str(event.invoice_id))
    places = _places(records.invoice) if records is not None else 2
    amount = format_money(event.amount, places) if event.amount is not None else None
    disputed = PaymentDisputed(
        str(event.invoice_id),
        event.provider,
        event.details.get("dispute_id"),
        amount,
        event.currency,
        event.details.get("reason"),
    )
    return _only_mark(mark, "disputed", [Event(disputed, Actor("provider", event.provider), occurred_at=clock.now())])


# --- legacy provider-billed subscriptions (Stripe, §10.4) ---------------------------------------------------------

LEGACY = frozenset({EventKind.LEGACY_RENEWED, EventKind.LEGACY_PAST_DUE, EventKind.LEGACY_CANCELLED})


def _legacy(event: ProviderEvent, mark: Mark) -> str:
    """A subscription still billed by the provider's own recurring billing: renewed (a RENEWAL invoice for the
    period, captured with the provider's invoice as its payment), past due, or ended — as the provider says."""
    from chalicelib.subscriptions import repository as subscriptions
    from chalicelib.subscriptions import service as subscription_service

    sub = subscriptions.by_provider_subscription(event.provider, str(event.provider_subscription_id))
    if sub is None:
        return _only_mark(mark, "unknown provider subscription")
    if event.kind is EventKind.LEGACY_CANCELLED:
        ended = subscription_service.end_by_provider(sub.user_id, sub.id, event.provider)
        return _only_mark(mark, "cancelled" if ended else "already ended")
    if event.kind is EventKind.LEGACY_PAST_DUE:
        fell = subscription_service.past_due_by_provider(sub.user_id, sub.id, event.provider)
        return _only_mark(mark, "past due" if fell else "not active")
    return _legacy_renewed(event, sub.user_id, sub.id, mark)


def _legacy_renewed(event: ProviderEvent, user_id: str, subscription_id: str, mark: Mark) -> str:
    """The provider charged a renewal: the next period's RENEWAL invoice (`subscriptions.renewal`, with the period's
    guard and, deduplicating by the provider's invoice id, an event record in the same transaction), captured."""
    from chalicelib.subscriptions import renewal as renewals
    from chalicelib.subscriptions import repository as subscriptions
    from chalicelib.subscriptions.policy import LifecyclePolicy

    provider_invoice = f"invoice:{event.provider_invoice_id}"
    actor = Actor("provider", event.provider)
    payment = Payment(event.provider, str(event.provider_invoice_id), intent_id=event.intent_id)
    recorded = repository.provider_event_answer(event.provider, provider_invoice)
    if recorded is not None:  # issued by an earlier delivery: captured unless that one stopped half-way
        return _capture_legacy(str(recorded["invoice_id"]), payment, actor, mark)
    ref = reference()
    sub = subscriptions.subscription_of(user_id, subscription_id)
    if sub is None or sub.status not in ("ACTIVE", "PAST_DUE"):
        return _only_mark(mark, "not renewable")
    now = clock.now()
    tx = Transaction()
    renewal = renewals.issue_renewal(tx, sub, ref, [], now, actor)
    if renewal is None:
        return _only_mark(mark, "nothing to bill")
    invoice = renewal.invoice
    subscriptions.guard_period(tx, sub, renewal.period_start, renewal.period_end, invoice.id, now)
    sub.renewal_invoice_id = sub.pending_invoice_id = invoice.id
    sub.updated_at = now
    subscriptions.update_subscription(tx, sub, LifecyclePolicy.of(ref))
    repository.record_provider_event(tx, event.provider, provider_invoice, invoice.id, {"invoice_id": invoice.id}, now)
    try:
        tx.commit()
    except TransactionCancelled as exc:
        if repository.PROVIDER_EVENT in exc.failed:  # a racing delivery issued it
            recorded = repository.provider_event_answer(event.provider, provider_invoice) or {}
            return _capture_legacy(str(recorded.get("invoice_id")), payment, actor, mark)
        raise
    return _capture_legacy(invoice.id, payment, actor, mark)


def _capture_legacy(invoice_id: str, payment: Payment, actor: Actor, mark: Mark) -> str:
    try:
        capture(invoice_id, payment, actor, extra=lambda tx, _: mark(tx, "renewed"))
    except NotCapturable:
        return _only_mark(mark, "renewal already captured")
    return "renewed"
