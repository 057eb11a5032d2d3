"""The one way an invoice is issued (contract checkout-and-payments.md §2–§4): checkout, renewal, upgrade, a
trial's new first-period invoice, and later admin and booking invoices all come through `issue`.

A draft names who is billed, for what (lines with unit prices in the invoice currency), the tax that applies and
when it is due; `issue` prices every line (net, tax and gross rounded per line, totals the sums of the rounded
lines), takes the next gapless number of the prefix's series for the year of `invoiced_at`
(`store.numbering.take_number`: an atomic counter step outside the transaction, the number's guard inside it), and
adds the invoice with its `invoice.created` event to the caller's transaction — the caller adds what the invoice
bills (a subscription, its add-ons, purchases) to the same transaction, so all of it commits, or none of it. The
number is taken last, once nothing of the draft can be refused any more, so a refused draft takes none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from chalicelib.core.ids import new_id
from chalicelib.core.money import format_money
from chalicelib.core.times import iso
from chalicelib.events.catalog import InvoiceCreated
from chalicelib.events.envelope import Actor, Event
from chalicelib.invoices import repository as invoice_store
from chalicelib.invoices.builder import Line, build_invoice
from chalicelib.store.numbering import take_number

if TYPE_CHECKING:
    from chalicelib.catalog.models import TaxItem
    from chalicelib.invoices.models import InvoiceItem
    from chalicelib.store.transactions import Transaction
    from chalicelib.users.models import UserDetailsItem


@dataclass
class InvoiceDraft:
    user_id: str
    billing_reason: str  # SUBSCRIPTION_CREATE, RENEWAL, UPGRADE, PURCHASE, BOOKING, MANUAL
    currency: str
    places: int
    lines: list[Line]
    tax: TaxItem | None
    details: UserDetailsItem | None
    due_date: datetime
    prefix: str = "INV"
    payment_method: str | None = None
    subscription_id: str | None = None
    tarif_plan_id: str | None = None
    invoice_id: str = field(default_factory=new_id)


def issue(
    tx: Transaction,
    draft: InvoiceDraft,
    now: datetime,
    actor: Actor,
    *,
    status: str = "PENDING",
    add: bool = True,
    choose_method: Callable[[Decimal], str | None] | None = None,
) -> InvoiceItem:
    """Price, number and add the invoice (with `invoice.created`) to `tx`.

    `choose_method` picks the payment method once the total is known (methods have amount bounds; it may refuse).
    `add=False` leaves writing it to the caller — a zero-total checkout captures the new invoice in the same
    transaction, and the capture writes it.
    """
    invoice = build_invoice(
        invoice_id=draft.invoice_id,
        user_id=draft.user_id,
        number="",  # taken below, once nothing can refuse the draft
        billing_reason=draft.billing_reason,
        currency=draft.currency,
        places=draft.places,
        lines=draft.lines,
        tax=draft.tax,
        details=draft.details,
        now=now,
        status=status,
        tarif_plan_id=draft.tarif_plan_id,
        subscription_id=draft.subscription_id,
        due_date=draft.due_date,
        payment_method=draft.payment_method,
    )
    if choose_method is not None:
        invoice.payment_method = choose_method(invoice.total_amount)
    invoice.invoice_number = take_number(tx, draft.prefix, invoice.invoiced_at.year, invoice.id)
    tx.events.append(
        Event(
            InvoiceCreated(
                invoice.id,
                invoice.invoice_number,
                invoice.user_id,
                invoice.billing_reason,
                invoice.subscription_id,
                invoice.currency,
                format_money(invoice.total_amount, draft.places),
                iso(invoice.due_date),
            ),
            actor,
            occurred_at=now,
        )
    )
    if add:
        invoice_store.add_invoice(tx, invoice)
    return invoice
