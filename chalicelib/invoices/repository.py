"""Reads and writes of invoices."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.events.catalog import InvoiceVoided
from chalicelib.events.envelope import Actor, Event
from chalicelib.invoices.models import CreditNoteItem, InvoiceItem, TokenBundlePurchaseItem
from chalicelib.store.base import InvoicesTable
from chalicelib.store.transactions import Transaction


@dataclass
class InvoiceRecords:
    """An invoice and the records of its partition, read by one consistent Query."""

    invoice: InvoiceItem
    purchases: list[TokenBundlePurchaseItem] = field(default_factory=list)
    credit_notes: list[CreditNoteItem] = field(default_factory=list)


def invoice_records(invoice_id: str) -> InvoiceRecords | None:
    """The invoice with its purchases and credit notes; None when missing or deleted."""
    found: InvoiceRecords | None = None
    purchases: list[TokenBundlePurchaseItem] = []
    notes: list[CreditNoteItem] = []
    for item in InvoicesTable.query(InvoiceItem.key(invoice_id)[0], consistent_read=True):
        if isinstance(item, InvoiceItem):
            found = InvoiceRecords(item)
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


def invoices_of(user_id: str) -> list[InvoiceItem]:
    """A user's invoices, newest first (GSI1; deleted ones left out)."""
    query = InvoiceItem.gsi1.query(f"USER#{user_id}", scan_index_forward=False)
    return [i for i in query if isinstance(i, InvoiceItem) and i.deleted_at is None]


def add_invoice(tx: Transaction, invoice: InvoiceItem) -> None:
    """A new invoice (built with its index keys by `invoices.builder`), refused if its key is taken."""
    tx.create(invoice, label="invoice")


def void(tx: Transaction, invoice: InvoiceItem, reason: str, actor: Actor, now: datetime) -> None:
    """Cancel an unpaid invoice (it leaves the unpaid-invoice index) with `invoice.voided`, on the condition of the
    version read — a capture that got there first makes the transaction fail."""
    invoice.status = "CANCELLED"
    invoice.updated_at = now
    invoice.gsi2pk = None
    invoice.gsi2sk = None
    tx.put(invoice, label="invoice")
    event = InvoiceVoided(invoice.id, invoice.invoice_number, invoice.user_id, reason)
    tx.events.append(Event(event, actor, occurred_at=now))
