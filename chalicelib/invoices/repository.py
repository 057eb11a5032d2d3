"""Reads of invoices."""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.invoices.models import CreditNoteItem, InvoiceItem, TokenBundlePurchaseItem
from chalicelib.store.base import InvoicesTable


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
