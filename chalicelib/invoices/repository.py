"""Reads and writes of invoices, their bundle purchases and credit notes (the `invoices` table), and the user's
invoice counts (the `counters` table).

Every write of an invoice goes through here, so three things always move together in its transaction: the invoice
(created on `attribute_not_exists`, or put on the condition of the version read), its index keys (derived from its
state by `InvoiceItem.index`), and the user's counts — in all and per status — moved from the status the invoice
was read with to the status it is written with. Lists therefore page in DynamoDB with totals that never need the
list itself.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.core.paging import WHOLE_LIST_CAP, Page, PageRequest
from chalicelib.core.times import sortable
from chalicelib.events.catalog import InvoiceVoided
from chalicelib.events.envelope import Actor, Event
from chalicelib.invoices.models import (
    PENDING_SHARDS,
    CreditNoteItem,
    InvoiceCountsItem,
    InvoiceItem,
    TokenBundlePurchaseItem,
    pending_partition,
    user_invoices,
    user_invoices_in,
)
from chalicelib.store.base import InvoicesTable
from chalicelib.store.paging import query_page
from chalicelib.store.transactions import Transaction

INVOICE = "invoice"  # the label of an invoice in a transaction (a refusal of it means it changed meanwhile)
PURCHASE = "purchase"
CREDIT_NOTE = "credit_note"
COUNTS = "invoice_counts"


@dataclass
class InvoiceRecords:
    """An invoice and the records of its partition, read by one consistent Query."""

    invoice: InvoiceItem
    purchases: list[TokenBundlePurchaseItem] = field(default_factory=list)
    credit_notes: list[CreditNoteItem] = field(default_factory=list)


# --- reads -----------------------------------------------------------------------------------------------------


def _read(invoice: InvoiceItem) -> InvoiceItem:
    invoice.stored_status = invoice.status
    return invoice


def invoice_records(invoice_id: str) -> InvoiceRecords | None:
    """The invoice with its purchases and credit notes; None when missing or deleted."""
    found: InvoiceRecords | None = None
    purchases: list[TokenBundlePurchaseItem] = []
    notes: list[CreditNoteItem] = []
    for item in InvoicesTable.query(InvoiceItem.key(invoice_id)[0], consistent_read=True):
        if isinstance(item, InvoiceItem):
            found = InvoiceRecords(_read(item))
        elif isinstance(item, TokenBundlePurchaseItem):
            purchases.append(item)
        elif isinstance(item, CreditNoteItem):
            notes.append(item)
    if found is None or found.invoice.deleted_at is not None:
        return None
    found.purchases, found.credit_notes = purchases, notes
    return found


def load_invoice(invoice_id: str) -> tuple[InvoiceItem, list[TokenBundlePurchaseItem]] | None:
    records = invoice_records(invoice_id)
    return (records.invoice, records.purchases) if records else None


def counts_of(user_id: str) -> InvoiceCountsItem | None:
    try:
        return InvoiceCountsItem.get(*InvoiceCountsItem.key(user_id), consistent_read=True)
    except DoesNotExist:
        return None


def invoices_page(user_id: str, request: PageRequest, status: str | None = None) -> Page[InvoiceItem]:
    """A page of the user's invoices, newest `invoiced_at` first, all of them or those of one status: one Query of
    `limit + 1` items of the user's index partition (GSI1, or GSI4 for a status), resumed at the continuation
    key of a cursor, and the total from the user's counts (one GetItem). Deleted invoices are in neither index."""
    counts = counts_of(user_id)
    total = counts.count_of(status) if counts is not None else 0
    if status is None:
        query: Any = functools.partial(InvoiceItem.gsi1.query, user_invoices(user_id), scan_index_forward=False)
    else:
        partition = user_invoices_in(user_id, status)
        query = functools.partial(InvoiceItem.gsi4.query, partition, scan_index_forward=False)
    return query_page(query, request, total)


def overdue_invoices(now: datetime) -> Iterator[InvoiceItem]:
    """PENDING invoices whose due date is before `now`, oldest first per shard: one Query of each shard of the
    sparse unpaid-by-due-date index (GSI2), so paid, cancelled and not yet due invoices cost nothing. The index is
    eventually consistent: whoever acts on an invoice found here reads it again."""
    for shard in range(PENDING_SHARDS):
        query = InvoiceItem.gsi2.query(pending_partition(shard), InvoiceItem.gsi2sk < sortable(now))
        yield from (item for item in query if isinstance(item, InvoiceItem))


def invoices_created_between(start: datetime, end: datetime) -> Iterator[InvoiceItem]:
    """Invoices (not deleted) created in `[start, end)`, oldest first: a Query of the admin index (GSI3 `INVOICES`)
    between the two moments, read a page at a time — for exports, never a Scan."""
    between = InvoiceItem.gsi3sk.between(sortable(start), sortable(end))
    for item in InvoiceItem.gsi3.query("INVOICES", between, page_size=WHOLE_LIST_CAP):
        if isinstance(item, InvoiceItem) and item.created_at < end:
            yield item


def invoices_of(user_id: str) -> list[InvoiceItem]:
    """The user's newest invoices (up to the whole-list cap), newest first."""
    return invoices_page(user_id, PageRequest(WHOLE_LIST_CAP)).items


# --- writes ----------------------------------------------------------------------------------------------------


def _move_counts(tx: Transaction, user_id: str, before: str | None, after: str | None) -> None:
    """The user's counts follow an invoice from status `before` to `after` (None: not counted — new or deleted)."""
    deltas: Counter[str] = Counter()
    for status, step in ((before, -1), (after, 1)):
        if status is not None:
            deltas["total"] += step
            deltas[status] += step
    tx.count(InvoiceCountsItem, *InvoiceCountsItem.key(user_id), deltas, label=COUNTS)


def _write(tx: Transaction, invoice: InvoiceItem, *, new: bool) -> None:
    if not new and invoice.stored_status is None:
        raise ValueError(f"invoice {invoice.id} is written back without having been read through the repository")
    invoice.index()
    after = invoice.status if invoice.deleted_at is None else None
    _move_counts(tx, invoice.user_id, None if new else invoice.stored_status, after)
    if new:
        tx.create(invoice, label=INVOICE)
    else:
        tx.put(invoice, label=INVOICE)  # conditional on the version read

    def committed() -> None:
        invoice.stored_status = after

    tx.after_commit.append(committed)


def add_invoice(tx: Transaction, invoice: InvoiceItem) -> None:
    """A new invoice, in whatever status it is issued (refused if its key is taken); the user's counts grow."""
    _write(tx, invoice, new=True)


def update_invoice(tx: Transaction, invoice: InvoiceItem) -> None:
    """An invoice read through this repository, as changed (status included), on the condition of the version
    read; its index keys and the user's counts follow its status."""
    _write(tx, invoice, new=False)


def choose_method(tx: Transaction, invoice: InvoiceItem, method_code: str, now: datetime) -> None:
    """The payment method a pay switches the invoice to before it starts the payment."""
    invoice.payment_method = method_code
    invoice.updated_at = now
    update_invoice(tx, invoice)


def authorize(tx: Transaction, invoice: InvoiceItem, intent_id: str, provider: str, now: datetime) -> None:
    """PENDING → AUTHORIZED: the provider holds the money under `intent_id` until a capture or a release."""
    invoice.status = "AUTHORIZED"
    invoice.payment_intent_id = intent_id
    invoice.payment_method = provider
    invoice.updated_at = now
    update_invoice(tx, invoice)


def record_attempt(tx: Transaction, invoice: InvoiceItem, error_code: str, now: datetime) -> int:
    """A declined payment: the invoice stays payable and counts the attempt; returns the attempt number."""
    invoice.payment_attempts = int(invoice.payment_attempts or 0) + 1
    invoice.last_payment_error = error_code
    invoice.updated_at = now
    update_invoice(tx, invoice)
    return int(invoice.payment_attempts)


def void(tx: Transaction, invoice: InvoiceItem, reason: str, actor: Actor, now: datetime) -> None:
    """Cancel an unpaid invoice, with `invoice.voided`, on the condition of the version read — a capture that got
    there first makes the transaction fail. It leaves the unpaid-invoice index and is counted as CANCELLED."""
    invoice.status = "CANCELLED"
    invoice.updated_at = now
    update_invoice(tx, invoice)
    event = InvoiceVoided(invoice.id, invoice.invoice_number, invoice.user_id, reason)
    tx.events.append(Event(event, actor, occurred_at=now))


def soft_delete(tx: Transaction, invoice: InvoiceItem, now: datetime) -> None:
    """The invoice disappears from every list and read (its number stays taken, admin.md §9.7); it is no longer
    counted."""
    invoice.deleted_at = now
    invoice.updated_at = now
    update_invoice(tx, invoice)


def add_purchase(tx: Transaction, purchase: TokenBundlePurchaseItem) -> None:
    tx.create(purchase, label=PURCHASE)


def update_purchase(tx: Transaction, purchase: TokenBundlePurchaseItem) -> None:
    tx.put(purchase, label=PURCHASE)  # conditional on the version read


def cancel_purchase(tx: Transaction, purchase: TokenBundlePurchaseItem) -> None:
    """A PENDING purchase whose invoice will never be paid: CANCELLED, on the condition of the version read."""
    purchase.status = "CANCELLED"
    update_purchase(tx, purchase)


def add_credit_note(tx: Transaction, note: CreditNoteItem) -> None:
    note.index()
    tx.create(note, label=CREDIT_NOTE)
