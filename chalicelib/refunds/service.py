"""The refund pipeline (contract checkout-and-payments.md §7): money given back on a PAID invoice, the credit
note that records it, and — when nothing is left to refund — the reversal of every line, in one transaction.

`refund_invoice` (admin invoices §9.6, admin subscriptions §8.8) refunds through the provider that captured first,
under the idempotency key `<invoice id>:refund:<n>` (n: the invoice's next credit note), then writes the credit note
with its number guard, `amount_refunded` on the condition of the invoice version read, the reversals and the events.
Two refunds racing for one invoice read the same version: the one that commits second is refused, reads again and
decides again on the remainder left, so no invoice is ever refunded beyond its total. The key makes the provider
call safe to repeat: the racer that lost asked with the same key and amount, so the provider moved no money twice;
with another amount the provider says the key is in use, and the refund is decided again once the first one landed.

`record_provider_refund` (§7.3, a provider's notification) records what the provider says it refunded beyond what
is recorded (the delta), without calling it again; `reverse_refund` (§7.4) undoes a refund the provider cancelled.
Both change nothing when the notification is a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from chalicelib.catalog.repository import Reference
from chalicelib.core.errors import BadRequest, NotFound
from chalicelib.core.money import format_money
from chalicelib.events.catalog import RefundReversed
from chalicelib.events.envelope import Actor
from chalicelib.invoices import repository as invoice_store
from chalicelib.invoices.credit_notes import record_refund
from chalicelib.invoices.models import CreditNoteItem, InvoiceItem
from chalicelib.invoices.repository import InvoiceRecords
from chalicelib.payments.activation import Activation
from chalicelib.payments.capture import load_activation, lost_race
from chalicelib.payments.providers import ProviderRefundFailed, RefundKeyInUse, refund_key, refund_reference_for
from chalicelib.refunds.reversal import Reversals, restore, reverse_lines
from chalicelib.store.retry import retrying
from chalicelib.store.transactions import Transaction, TransactionCancelled
from chalicelib.subscriptions.models import SubscriptionItem
from chalicelib.users.models import UserItem

ATTEMPTS = 10
REFUND_KEY = "refund_key"  # a provider key another refund of the invoice holds: decide again once it landed
TORN_READ = "torn_read"  # the invoice and its credit notes read mid-commit: read again
PROVIDER_REASON = "Provider refund"


@dataclass(frozen=True)
class RefundResult:
    invoice: InvoiceItem
    credit_note: CreditNoteItem
    credit_notes: list[CreditNoteItem]  # every credit note of the invoice, oldest first, this one included
    places: int
    ref: Reference = field(repr=False)
    user: UserItem | None = field(default=None, repr=False)  # the invoice's owner
    subscriptions: list[SubscriptionItem] = field(default_factory=list, repr=False)  # as the refund left them

    @property
    def full(self) -> bool:
        return bool(self.credit_note.full_refund)


Extra = Callable[[Transaction, RefundResult], None]


def _records(invoice_id: str) -> InvoiceRecords:
    """The invoice with its credit notes, as one refund transaction left them.

    A Query is not isolated from a transaction that is committing: it can see the new credit note and the old
    invoice, or the reverse. Deciding on such a read would pick the wrong provider key or remainder, so a read whose
    credit notes do not add up to `amount_refunded` is read again (`TORN_READ`, retried like a lost race)."""
    records = invoice_store.invoice_records(invoice_id)
    if records is None:
        raise NotFound("Invoice not found")
    recorded = sum((n.amount for n in records.credit_notes if n.reversed_at is None), Decimal(0))
    if recorded != records.invoice.amount_refunded:
        raise TransactionCancelled([TORN_READ], [None])
    return records


def _retry(exc: TransactionCancelled) -> bool:
    """A capture's races, a credit note reversed meanwhile, a torn read, or the provider key another refund holds."""
    if exc.failed and all(label in (REFUND_KEY, TORN_READ, invoice_store.CREDIT_NOTE) for label in exc.failed):
        return True
    return lost_race(TransactionCancelled([f for f in exc.failed if f != invoice_store.CREDIT_NOTE], exc.codes))


def _oldest_first(notes: list[CreditNoteItem]) -> list[CreditNoteItem]:
    return sorted(notes, key=lambda note: (note.created_at, note.credit_note_number))


def refundable_amount(invoice: InvoiceItem, amount: Decimal | None, places: int) -> Decimal:
    """The amount to refund (§7.2): the remainder by default; 400 with the contract's messages otherwise."""
    if invoice.status != "PAID":
        raise BadRequest(f"Cannot refund: invoice status is {invoice.status}")
    remainder = invoice.total_amount - invoice.amount_refunded
    if amount is None:
        amount = remainder  # a free invoice has nothing to give back: refused as not positive below
    exponent = amount.as_tuple().exponent
    if not amount.is_finite() or not isinstance(exponent, int) or -exponent > places:
        raise BadRequest("Invalid amount")
    if amount <= 0:
        raise BadRequest("Refund amount must be positive")
    if amount > remainder:
        raise BadRequest(f"Refund amount exceeds refundable amount ({format_money(remainder, places)})")
    return amount


def refund_invoice(
    invoice_id: str,
    amount: Decimal | None,
    *,
    reason: str,
    refund_reference: str | None,
    actor: Actor,
    extra: Extra | None = None,
) -> RefundResult:
    """Refund a PAID invoice, in full (`amount` None: the remainder) or in part; `refund_reference` is the admin's
    reference for a refund settled outside the system (no provider to ask). `extra` adds the caller's items (a stored
    Idempotency-Key answer) to the same transaction."""

    def attempt() -> RefundResult:
        records = _records(invoice_id)
        invoice = records.invoice
        activation = load_activation(invoice, records.purchases, actor)
        to_refund = refundable_amount(invoice, amount, activation.places)
        code = invoice.payment_method or "none"
        key = refund_key(invoice.id, len(records.credit_notes) + 1)
        try:
            provider_reference = refund_reference_for(code, invoice, to_refund, key)
        except ProviderRefundFailed as exc:
            raise BadRequest(f"Provider refund failed: {exc}") from exc
        except RefundKeyInUse:
            raise TransactionCancelled([REFUND_KEY], [None]) from None
        return _record(records, activation, to_refund, reason, code, provider_reference or refund_reference, extra)

    return retrying(attempt, tries=ATTEMPTS, retry_on=_retry)


def record_provider_refund(
    invoice_id: str, provider_total_refunded: Decimal, provider: str, reference: str | None
) -> RefundResult | None:
    """A refund made at the provider (§7.3): the provider's total refunded less what is recorded, as §7.2 without a
    second provider call. None when there is nothing new (a duplicate notification, or an invoice not PAID)."""

    def attempt() -> RefundResult | None:
        records = _records(invoice_id)
        invoice = records.invoice
        delta = provider_total_refunded - invoice.amount_refunded
        if invoice.status != "PAID" or delta <= 0:
            return None
        delta = min(delta, invoice.total_amount - invoice.amount_refunded)
        activation = load_activation(invoice, records.purchases, Actor("provider", provider))
        return _record(records, activation, delta, PROVIDER_REASON, provider, reference, None)

    return retrying(attempt, tries=ATTEMPTS, retry_on=_retry)


def _record(
    records: InvoiceRecords,
    activation: Activation,
    amount: Decimal,
    reason: str,
    provider: str,
    refund_reference: str | None,
    extra: Extra | None,
) -> RefundResult:
    """One transaction: the credit note and its number, the invoice, and on a full refund every line reversed."""
    invoice = records.invoice
    full = invoice.amount_refunded + amount >= invoice.total_amount
    done = reverse_lines(activation) if full else Reversals()
    reversal_events = activation.events
    tx = Transaction()
    note, refund_events = record_refund(
        tx,
        invoice,
        amount,
        reason=reason,
        provider=provider,
        refund_reference=refund_reference,
        prefix=str(activation.ref.settings["credit_note_prefix"]),
        places=activation.places,
        now=activation.now,
        reversals=done.as_record() if full else None,
    )
    activation.events = [activation.event(data) for data in refund_events] + reversal_events
    activation.touch(invoice)
    activation.write(tx)
    notes = _oldest_first([*records.credit_notes, note])
    held = list(activation.subscriptions.values())
    result = RefundResult(invoice, note, notes, activation.places, activation.ref, activation.user, held)
    if extra is not None:
        extra(tx, result)
    tx.commit()
    return result


def reverse_refund(invoice_id: str, refund_reference: str, provider: str) -> CreditNoteItem | None:
    """The provider cancelled the refund it made under `refund_reference` (§7.4): its credit note is marked reversed,
    `amount_refunded` falls, and a REFUNDED invoice is PAID again with its full refund's reversals undone. None when
    no credit note carries the reference or it is already reversed (a duplicate)."""

    def attempt() -> CreditNoteItem | None:
        records = _records(invoice_id)
        invoice = records.invoice
        note = next((n for n in records.credit_notes if n.refund_reference == refund_reference), None)
        if note is None or note.reversed_at is not None:
            return None
        actor = Actor("provider", provider)
        activation = load_activation(invoice, records.purchases, actor)
        tx = Transaction()
        if invoice.status == "REFUNDED":
            invoice.status = "PAID"
            for full_note in records.credit_notes:
                if full_note.full_refund and full_note.reversals and full_note.reversed_at is None:
                    restore(activation, Reversals.of(full_note.reversals))
                    full_note.reversals = None  # undone: a later full refund records its own
                    if full_note is not note:
                        invoice_store.update_credit_note(tx, full_note)
        invoice.amount_refunded = invoice.amount_refunded - note.amount
        invoice.updated_at = activation.now
        note.reversed_at = activation.now
        invoice_store.update_credit_note(tx, note)
        activation.touch(invoice)
        activation.events.append(activation.event(RefundReversed(invoice.id, note.id, provider)))
        activation.write(tx)
        tx.commit()
        return note

    return retrying(attempt, tries=ATTEMPTS, retry_on=_retry)
