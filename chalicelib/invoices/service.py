"""The signed-in user's invoices (contract checkout-and-payments.md §5.3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Response

from chalicelib.catalog.pricing import Currencies
from chalicelib.catalog.repository import reference
from chalicelib.core import clock
from chalicelib.core.errors import BadRequest
from chalicelib.invoices import serializers
from chalicelib.invoices.repository import invoices_of
from chalicelib.payments.service import owned_records

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal

INVOICE_STATUSES = ("PENDING", "AUTHORIZED", "PAID", "FAILED", "CANCELLED", "REFUNDED")


def list_invoices(principal: Principal, status: str | None) -> dict[str, Any]:
    invoices = invoices_of(principal.user_id)
    if status:
        wanted = status.strip().upper()
        if wanted not in INVOICE_STATUSES:
            raise BadRequest(f"Invalid status: {status}")
        invoices = [i for i in invoices if i.status == wanted]
    invoices.sort(key=lambda i: (i.invoiced_at, i.id), reverse=True)
    currencies = Currencies.of(reference().currencies)
    now = clock.now()
    return {"invoices": [serializers.invoice(i, currencies.places(i.currency), now) for i in invoices]}


def get_invoice(principal: Principal, invoice_id: str) -> dict[str, Any]:
    records = owned_records(principal, invoice_id)
    places = Currencies.of(reference().currencies).places(records.invoice.currency)
    return {"invoice": serializers.invoice(records.invoice, places, clock.now(), records.credit_notes)}


def invoice_pdf(principal: Principal, invoice_id: str) -> Response:
    from chalicelib.invoices.pdf import render_invoice

    records = owned_records(principal, invoice_id)
    ref = reference()
    places = Currencies.of(ref.currencies).places(records.invoice.currency)
    document = render_invoice(records.invoice, records.credit_notes, ref.settings, places)
    return Response(
        body=document,
        status_code=200,
        headers={
            "Content-Type": "application/pdf",
            "Content-Disposition": f'attachment; filename="invoice-{records.invoice.invoice_number}.pdf"',
            "Cache-Control": "no-store",
        },
    )
