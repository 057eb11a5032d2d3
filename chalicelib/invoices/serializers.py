"""JSON shapes of invoices, lines, bundle purchases and credit notes (contract checkout-and-payments.md §2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.core.money import format_fixed, format_money
from chalicelib.core.times import iso
from chalicelib.invoices.models import CreditNoteItem, InvoiceItem, LineItem, TokenBundlePurchaseItem


def line_type(line: LineItem) -> str:
    """`type` is the item type, except for CUSTOM lines that name their plugin (`"booking"`)."""
    plugin = (line.metadata or {}).get("plugin")
    if line.item_type == "CUSTOM" and isinstance(plugin, str) and plugin:
        return plugin
    return str(line.item_type)


def line_item(line: LineItem, invoice_id: str, places: int) -> dict[str, Any]:
    metadata = dict(line.metadata or {})
    total = format_money(line.total_price, places)
    return {
        "id": line.id,
        "invoice_id": invoice_id,
        "type": line_type(line),
        "item_type": line.item_type,
        "item_id": line.item_id,
        "catalog_item_id": line.catalog_item_id,
        "description": line.description,
        "quantity": int(line.quantity),
        "unit_price": format_money(line.unit_price, places),
        "total_price": total,
        "amount": total,
        "net_amount": format_money(line.net_amount, places),
        "tax_amount": format_money(line.tax_amount, places),
        "gross_amount": format_money(line.gross_amount, places),
        "metadata": metadata,
        "extra_data": dict(metadata),
    }


def credit_note(note: CreditNoteItem, places: int) -> dict[str, Any]:
    return {
        "id": note.id,
        "credit_note_number": note.credit_note_number,
        "invoice_id": note.invoice_id,
        "invoice_number": note.invoice_number,
        "user_id": note.user_id,
        "currency": note.currency,
        "amount": format_money(note.amount, places),
        "net_amount": format_money(note.net_amount, places),
        "tax_amount": format_money(note.tax_amount, places),
        "full_refund": note.full_refund,
        "reason": note.reason,
        "refund_reference": note.refund_reference,
        "provider": note.provider,
        "created_at": iso(note.created_at),
    }


def is_payable(invoice: InvoiceItem, now: datetime) -> bool:
    return invoice.status == "PENDING" and (invoice.due_date is None or invoice.due_date > now)


def invoice(
    item: InvoiceItem, places: int, now: datetime, credit_notes: list[CreditNoteItem] | None = None
) -> dict[str, Any]:
    total = format_money(item.total_amount, places)
    notes = sorted(credit_notes or [], key=lambda n: n.created_at)
    return {
        "id": item.id,
        "user_id": item.user_id,
        "tarif_plan_id": item.tarif_plan_id,
        "subscription_id": item.subscription_id,
        "invoice_number": item.invoice_number,
        "billing_reason": item.billing_reason,
        "status": item.status,
        "currency": item.currency,
        "subtotal": format_money(item.subtotal, places),
        "tax_amount": format_money(item.tax_amount, places),
        "total_amount": total,
        "amount": total,
        "amount_refunded": format_money(item.amount_refunded, places),
        "tax_rate": format_fixed(item.tax_rate, 2) if item.tax_rate is not None else None,
        "tax_code": item.tax_code,
        "tax_country": item.tax_country,
        "tax_inclusive": item.tax_inclusive,
        "billing_address": item.billing_address,
        "payment_method": item.payment_method,
        "payment_ref": item.payment_ref,
        "payment_intent_id": item.payment_intent_id,
        "is_payable": is_payable(item, now),
        "is_capturable": item.status == "AUTHORIZED",
        "invoiced_at": iso(item.invoiced_at),
        "due_date": iso(item.due_date),
        "expires_at": iso(item.due_date),
        "paid_at": iso(item.paid_at),
        "created_at": iso(item.created_at),
        "line_items": [line_item(line, item.id, places) for line in item.lines],
        "credit_notes": [credit_note(note, places) for note in notes],
    }


def purchase(item: TokenBundlePurchaseItem, places: int) -> dict[str, Any]:
    return {
        "id": item.id,
        "user_id": item.user_id,
        "bundle_id": item.bundle_id,
        "invoice_id": item.invoice_id,
        "status": item.status,
        "tokens_credited": item.tokens_credited,
        "token_amount": int(item.token_amount),
        "price": format_money(item.price, places),
        "currency": item.currency,
        "completed_at": iso(item.completed_at),
        "created_at": iso(item.created_at),
    }
