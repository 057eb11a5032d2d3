"""Credit notes (contract checkout-and-payments.md §2.4, §7): the record of money given back on an invoice."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from chalicelib.core.ids import new_id
from chalicelib.core.money import round_money
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
        created_at=now,
    )
    repository.add_credit_note(tx, note)
    return note
