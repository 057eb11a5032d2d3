"""The signed-in user's invoices (contract checkout-and-payments.md §5.3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.catalog.pricing import Currencies
from chalicelib.catalog.repository import reference
from chalicelib.core import clock
from chalicelib.core.errors import Forbidden, NotFound
from chalicelib.invoices import repository, serializers

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal
    from chalicelib.core.paging import Page, PageRequest
    from chalicelib.invoices.repository import InvoiceRecords


@dataclass(frozen=True)
class Document:
    """A rendered document: its bytes, media type and file name."""

    content: bytes
    media_type: str
    filename: str


def owned_records(principal: Principal, invoice_id: str) -> InvoiceRecords:
    """The caller's invoice with its records: 404 when missing or deleted, 403 when another user's."""
    records = repository.invoice_records(invoice_id)
    if records is None:
        raise NotFound("Invoice not found")
    if records.invoice.user_id != principal.user_id:
        raise Forbidden("Access denied")
    return records


def list_invoices(principal: Principal, page: PageRequest, status: str | None) -> Page[dict[str, Any]]:
    """A page of the caller's invoices (of one status, when given), newest first, with its total."""
    found = repository.invoices_page(principal.user_id, page, status)
    currencies = Currencies.of(reference().currencies)
    now = clock.now()
    return found.map(lambda invoice: serializers.invoice(invoice, currencies.places(invoice.currency), now))


def get_invoice(principal: Principal, invoice_id: str) -> dict[str, Any]:
    records = owned_records(principal, invoice_id)
    places = Currencies.of(reference().currencies).places(records.invoice.currency)
    return {"invoice": serializers.invoice(records.invoice, places, clock.now(), records.credit_notes)}


def invoice_pdf(principal: Principal, invoice_id: str) -> Document:
    from chalicelib.invoices.pdf import render_invoice

    records = owned_records(principal, invoice_id)
    ref = reference()
    places = Currencies.of(ref.currencies).places(records.invoice.currency)
    content = render_invoice(records.invoice, records.credit_notes, ref.settings, places)
    return Document(content, "application/pdf", f"invoice-{records.invoice.invoice_number}.pdf")
