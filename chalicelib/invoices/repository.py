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
import heapq
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
    ALL_COUNTS,
    DAY_COUNTS,
    PENDING_SHARDS,
    CreditNoteItem,
    InvoiceCountsItem,
    InvoiceItem,
    TokenBundlePurchaseItem,
    admin_invoices_in,
    count_shard,
    pending_partition,
    user_invoices,
    user_invoices_in,
)
from chalicelib.invoices.statuses import INVOICE_STATUSES
from chalicelib.store.base import CountersTable, InvoicesTable
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


def find_credit_note(credit_note_id: str) -> CreditNoteItem | None:
    """A credit note by id (GSI1 `CREDIT_NOTE#<id>`, one item), read again from its invoice's partition."""
    for hit in CreditNoteItem.gsi1.query(f"CREDIT_NOTE#{credit_note_id}", limit=1):
        if isinstance(hit, CreditNoteItem):
            try:
                return CreditNoteItem.get(hit.pk, hit.sk, consistent_read=True)
            except DoesNotExist:
                return None
    return None


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


# The admin's list (admin.md §9.1): GSI3 `INVOICES#<status>` by `invoiced_at`, the date range a key condition.


@dataclass(frozen=True)
class InvoiceFilter:
    statuses: tuple[str, ...]  # one status, or all of them
    user_id: str | None = None
    since: str | None = None  # sortable instants bounding `invoiced_at` (inclusive, exclusive)
    until: str | None = None
    first_day: str | None = None  # the same range as dates (inclusive) for the per-day totals
    last_day: str | None = None


def _range(query_key: Any, flt: InvoiceFilter, before: str | None) -> Any:
    """The sort-key condition: from `since`, up to `until` and below the last item already shown (`before`)."""
    upper = min(u for u in (flt.until, before) if u is not None) if (flt.until or before) else None
    if flt.since and upper:
        return query_key.between(flt.since, upper)  # the upper bound is excluded below
    if flt.since:
        return query_key >= flt.since
    if upper:
        return query_key < upper
    return None


def admin_invoices_page(flt: InvoiceFilter, request: PageRequest) -> Page[InvoiceItem]:
    """A page of invoices newest first: one Query per status partition asked for (GSI3, or the user's GSI1/GSI4),
    each of `offset + limit + 1` items below the cursor's last key, merged; the total from maintained counters."""
    before = str(request.after["before"]) if request.after else None
    skip = 0 if request.after else request.offset
    wanted = skip + request.limit + 2  # one more: a `between` that ends at the cursor returns its last item again
    found: list[InvoiceItem] = []
    for status in flt.statuses:
        if flt.user_id is not None:
            index, partition, key = _user_index(flt.user_id, status if len(flt.statuses) == 1 else None)
        else:
            index, partition, key = InvoiceItem.gsi3, admin_invoices_in(status), InvoiceItem.gsi3sk
        condition = _range(key, flt, before)
        query = index.query(partition, condition, scan_index_forward=False, limit=wanted, page_size=wanted)
        found += [item for item in query if isinstance(item, InvoiceItem) and _below(item, flt, before)]
        if flt.user_id is not None:
            break  # the user's index holds every status already
    found.sort(key=lambda item: str(item.gsi1sk), reverse=True)
    page = found[skip : skip + request.limit]
    more = len(found) > skip + request.limit
    next_key = {"before": str(page[-1].gsi1sk)} if more and page else None
    return Page([_read(item) for item in page], _admin_total(flt), request.offset, request.limit, next_key)


def _user_index(user_id: str, status: str | None) -> tuple[Any, str, Any]:
    if status is None:
        return InvoiceItem.gsi1, user_invoices(user_id), InvoiceItem.gsi1sk
    return InvoiceItem.gsi4, user_invoices_in(user_id, status), InvoiceItem.gsi4sk


def _below(item: InvoiceItem, flt: InvoiceFilter, before: str | None) -> bool:
    newest = str(item.gsi1sk)
    upper = [u for u in (flt.until, before) if u is not None]
    return all(newest < u for u in upper) and (item.status in flt.statuses)


def _admin_total(flt: InvoiceFilter) -> int:
    """From counters, never from the items: the user's counts, every invoice's, or the sum of the range's days
    (one Query of the day counters, a handful of items per month asked)."""

    def of(counts: InvoiceCountsItem | None) -> int:
        if counts is None:
            return 0
        return sum(counts.count_of(s) for s in flt.statuses) if len(flt.statuses) == 1 else counts.count_of(None)

    if flt.user_id is not None and flt.first_day is None:
        return of(counts_of(flt.user_id))
    if flt.first_day is None and flt.last_day is None:
        shards = InvoiceCountsItem.query(ALL_COUNTS, consistent_read=True)  # one Query of the 16 shards
        return sum(of(shard) for shard in shards if isinstance(shard, InvoiceCountsItem))
    if flt.user_id is not None:
        # A user's invoices in a date range: counted from the user's own index partition (bounded by one user).
        query = InvoiceItem.gsi1.query(user_invoices(flt.user_id), _range(InvoiceItem.gsi1sk, flt, None))
        return sum(1 for item in query if isinstance(item, InvoiceItem) and _below(item, flt, None))
    days = CountersTable.sk.between(flt.first_day or "0000-00-00", f"{flt.last_day or '9999-99-99'}#~")
    return sum(of(day) for day in InvoiceCountsItem.query(DAY_COUNTS, days) if isinstance(day, InvoiceCountsItem))


def overdue_invoices(now: datetime) -> Iterator[InvoiceItem]:
    """PENDING invoices whose due date is before `now`, oldest first per shard: one Query of each shard of the
    sparse unpaid-by-due-date index (GSI2), so paid, cancelled and not yet due invoices cost nothing. The index is
    eventually consistent: whoever acts on an invoice found here reads it again."""
    for shard in range(PENDING_SHARDS):
        query = InvoiceItem.gsi2.query(pending_partition(shard), InvoiceItem.gsi2sk < sortable(now))
        yield from (item for item in query if isinstance(item, InvoiceItem))


def invoices_in(user_id: str, status: str) -> list[InvoiceItem]:
    """The user's newest invoices of one status (up to the whole-list cap), newest first."""
    return invoices_page(user_id, PageRequest(WHOLE_LIST_CAP), status).items


def invoices_invoiced_between(start: datetime, end: datetime) -> Iterator[InvoiceItem]:
    """Invoices (not deleted) invoiced in `[start, end)`, oldest first — for exports, never a Scan: one Query of the
    admin index's partition of each status (GSI3 `INVOICES#<status>`, sorted by `invoiced_at`) between the two
    moments, read a page at a time and merged in date order."""
    between = (sortable(start), sortable(end))

    def dated(status: str) -> Iterator[InvoiceItem]:
        query = InvoiceItem.gsi3.query(
            admin_invoices_in(status), InvoiceItem.gsi3sk.between(*between), page_size=WHOLE_LIST_CAP
        )
        yield from (item for item in query if isinstance(item, InvoiceItem) and item.invoiced_at < end)

    yield from heapq.merge(*(dated(status) for status in INVOICE_STATUSES), key=lambda i: (i.invoiced_at, i.id))


def invoices_of(user_id: str) -> list[InvoiceItem]:
    """The user's newest invoices (up to the whole-list cap), newest first."""
    return invoices_page(user_id, PageRequest(WHOLE_LIST_CAP)).items


# --- writes ----------------------------------------------------------------------------------------------------


def _move_counts(tx: Transaction, invoice: InvoiceItem, before: str | None, after: str | None) -> None:
    """The counts follow an invoice from status `before` to `after` (None: not counted — new or deleted): the
    user's, every invoice's and those of the invoice's day (the admin list's totals, admin.md §9.1)."""
    deltas: Counter[str] = Counter()
    for status, step in ((before, -1), (after, 1)):
        if status is not None:
            deltas["total"] += step
            deltas[status] += step
    tx.count(InvoiceCountsItem, *InvoiceCountsItem.key(invoice.user_id), deltas, label=COUNTS)
    shard = count_shard(invoice.id)
    tx.count(InvoiceCountsItem, ALL_COUNTS, shard, deltas, label=COUNTS)
    tx.count(InvoiceCountsItem, DAY_COUNTS, f"{invoice.invoiced_at.date().isoformat()}#{shard}", deltas, label=COUNTS)


def _write(tx: Transaction, invoice: InvoiceItem, *, new: bool) -> None:
    if not new and invoice.stored_status is None:
        raise ValueError(f"invoice {invoice.id} is written back without having been read through the repository")
    invoice.index()
    after = invoice.status if invoice.deleted_at is None else None
    _move_counts(tx, invoice, None if new else invoice.stored_status, after)
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


def open_session(tx: Transaction, invoice: InvoiceItem, provider: str, session_id: str, now: datetime) -> None:
    """A hosted payment session opened for the invoice: its method becomes the provider's (§10.1)."""
    invoice.payment_method = provider
    invoice.provider_session_id = session_id
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


def update_credit_note(tx: Transaction, note: CreditNoteItem) -> None:
    """A credit note read through this repository, as changed (reversed), on the condition of the version read."""
    tx.put(note, label=CREDIT_NOTE)
