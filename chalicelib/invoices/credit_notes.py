"""Credit notes (contract checkout-and-payments.md §2.4, §7): the record of money given back on an invoice."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from chalicelib.core.ids import new_id
from chalicelib.core.money import format_money, round_money
from chalicelib.events.catalog import CreditNoteCreated, InvoiceRefunded, PaymentRefunded
from chalicelib.events.envelope import EventData
from chalicelib.invoices import repository
from chalicelib.invoices.models import CreditNoteItem, InvoiceItem
from chalicelib.store.numbering import take_number
from chalicelib.store.transactions import Transaction

HUNDRED = Decimal(100)


def split_gross(amount: Decimal, rate: Decimal | None, places: int) -> tuple[Decimal, Decimal]:
    """Net and tax of a gross amount at the invoice's tax rate (`tax = amount − net`)."""
    if not rate:
        return amount, round_money(Decimal(0), places)
    net = round_money(amount / (1 + rate / HUNDRED), places)
    return net, amount - net


def issue_credit_note(
    tx: Transaction,
    invoice: InvoiceItem,
    amount: Decimal,
    *,
    reason: str,
    provider: str | None,
    refund_reference: str | None,
    full_refund: bool,
    prefix: str,
    places: int,
    now: datetime,
    reversals: dict[str, Any] | None = None,
) -> CreditNoteItem:
    """Add a numbered credit note to the transaction (the caller updates the invoice's `amount_refunded`)."""
    note_id = new_id()
    net, tax = split_gross(amount, invoice.tax_rate, places)
    pk, sk = CreditNoteItem.key(invoice.id, note_id)
    note = CreditNoteItem(
        pk,
        sk,
        id=note_id,
        credit_note_number=take_number(tx, prefix, now.year, note_id, label_prefix="credit_note"),
        invoice_id=invoice.id,
        invoice_number=invoice.invoice_number,
        user_id=invoice.user_id,
        currency=invoice.currency,
        amount=amount,
        net_amount=net,
        tax_amount=tax,
        full_refund=full_refund,
        reason=reason,
        refund_reference=refund_reference,
        provider=provider,
        reversals=reversals,
        created_at=now,
    )
    repository.add_credit_note(tx, note)
    return note


def record_refund(
    tx: Transaction,
    invoice: InvoiceItem,
    amount: Decimal,
    *,
    reason: str,
    provider: str | None,
    refund_reference: str | None,
    prefix: str,
    places: int,
    now: datetime,
    reversals: dict[str, Any] | None = None,
) -> tuple[CreditNoteItem, list[EventData]]:
    """`amount` given back on a PAID invoice (§7.2): its `amount_refunded` grows (the caller writes the invoice, on
    the version read, so concurrent refunds can never pass its total), REFUNDED once nothing is left, and a numbered
    credit note joins `tx`. Returns the note and the refund's events, in the contract's order."""
    invoice.amount_refunded = invoice.amount_refunded + amount
    full = invoice.amount_refunded >= invoice.total_amount
    if full:
        invoice.status = "REFUNDED"
    invoice.updated_at = now
    note = issue_credit_note(
        tx,
        invoice,
        amount,
        reason=reason,
        provider=provider,
        refund_reference=refund_reference,
        full_refund=full,
        prefix=prefix,
        places=places,
        now=now,
        reversals=reversals,
    )
    money = format_money(amount, places)
    number = note.credit_note_number
    return note, [
        PaymentRefunded(invoice.id, money, invoice.currency, provider or "none", refund_reference),
        CreditNoteCreated(note.id, number, invoice.id, invoice.user_id, money, invoice.currency, reason),
        InvoiceRefunded(
            invoice.id,
            invoice.invoice_number,
            invoice.user_id,
            money,
            invoice.currency,
            refund_reference,
            note.id,
            full,
        ),
    ]
