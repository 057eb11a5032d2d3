"""Building an invoice from its lines (contract checkout-and-payments.md §2, §3.3).

Each line's net, tax and gross are rounded on their own; the invoice totals are the sums of the rounded lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from chalicelib.catalog.models import TaxItem
from chalicelib.catalog.pricing import split
from chalicelib.core.money import ZERO, round_money
from chalicelib.invoices.models import InvoiceItem, LineItem
from chalicelib.users.models import UserDetailsItem


@dataclass(frozen=True)
class Line:
    line_id: str
    item_type: str
    description: str
    unit_price: Decimal
    item_id: str | None = None
    catalog_item_id: str | None = None
    quantity: int = 1
    metadata: dict[str, Any] = field(default_factory=dict)


def billing_address(details: UserDetailsItem | None) -> dict[str, Any] | None:
    """The snapshot of the buyer's details an invoice keeps (later edits do not change it)."""
    if details is None:
        return None
    return {
        "name": details.full_name(),
        "company": details.company,
        "tax_number": details.tax_number,
        "address_line_1": details.address_line_1,
        "address_line_2": details.address_line_2,
        "city": details.city,
        "postal_code": details.postal_code,
        "country": details.country,
    }


def build_invoice(
    *,
    invoice_id: str,
    user_id: str,
    number: str,
    billing_reason: str,
    currency: str,
    places: int,
    lines: list[Line],
    tax: TaxItem | None,
    details: UserDetailsItem | None,
    now: datetime,
    **fields: Any,
) -> InvoiceItem:
    items = []
    for line in lines:
        total = round_money(line.unit_price * line.quantity, places)
        amounts = split(total, tax, places)
        items.append(
            LineItem(  # type: ignore[no-untyped-call]
                id=line.line_id,
                item_type=line.item_type,
                item_id=line.item_id,
                catalog_item_id=line.catalog_item_id,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                total_price=total,
                net_amount=amounts.net,
                tax_amount=amounts.tax,
                gross_amount=amounts.gross,
                metadata=line.metadata,
            )
        )
    pk, sk = InvoiceItem.key(invoice_id)
    invoice = InvoiceItem(
        pk,
        sk,
        id=invoice_id,
        user_id=user_id,
        invoice_number=number,
        billing_reason=billing_reason,
        currency=currency,
        subtotal=sum((i.net_amount for i in items), ZERO),
        tax_amount=sum((i.tax_amount for i in items), ZERO),
        total_amount=sum((i.gross_amount for i in items), ZERO),
        amount_refunded=round_money(ZERO, places),
        tax_rate=tax.rate if tax else None,
        tax_code=tax.code if tax else None,
        tax_country=tax.country_code if tax else None,
        tax_inclusive=bool(tax and tax.is_inclusive),
        billing_address=billing_address(details),
        invoiced_at=now,
        line_items=items,
        created_at=now,
        updated_at=now,
        **fields,
    )
    return invoice  # its index keys are set when the repository writes it
