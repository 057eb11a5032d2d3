"""Invoice documents as PDF (contract checkout-and-payments.md §5.3), drawn with fpdf2's core fonts.

The core fonts cover Windows-1252 (Western European letters, €, £, ¥); other characters print as "?". Amounts
carry the ISO currency code, so no symbol is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from chalicelib.core.money import format_fixed, format_money
from chalicelib.invoices.models import CreditNoteItem, InvoiceItem

ENCODING = "windows-1252"
COLUMNS = (("Description", 70), ("Qty", 12), ("Unit price", 26), ("Net", 26), ("Tax", 22), ("Gross", 26))


def _text(value: Any) -> str:
    return str(value if value is not None else "").encode(ENCODING, "replace").decode(ENCODING)


def _money(amount: Decimal, currency: str, places: int) -> str:
    return f"{format_money(amount, places)} {currency}"


Line = Callable[..., None]


def _document(title: str, settings: dict[str, Any]) -> tuple[Any, Line]:
    """A new A4 page headed with the seller, and the function that writes one line of text on it."""
    from fpdf import FPDF  # loaded with the first document, not with the function's cold start

    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = ENCODING
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_title(_text(title))

    def line(text: Any = "", size: int = 9, style: str = "", height: float = 5) -> None:
        pdf.set_font("helvetica", style=style, size=size)
        pdf.cell(0, height, _text(text), new_x="LMARGIN", new_y="NEXT")

    line(settings.get("provider_name"), size=14, style="B", height=8)
    seller_place = " ".join(p for p in (settings.get("address_postal_code"), settings.get("address_city")) if p)
    for part in (
        settings.get("address_street"),
        seller_place,
        settings.get("address_country"),
        settings.get("contact_email"),
        settings.get("website_url"),
    ):
        if part:
            line(part)
    pdf.ln(4)
    return pdf, line


def render_credit_note(note: CreditNoteItem, settings: dict[str, Any], places: int) -> bytes:
    """A credit note (admin.md §9.12, checkout-and-payments.md §2.4): what was given back on which invoice."""
    pdf, line = _document(f"Credit note {note.credit_note_number}", settings)
    line(f"Credit note {note.credit_note_number}", size=16, style="B", height=9)
    line(f"Date: {note.created_at:%Y-%m-%d}")
    line(f"For invoice {note.invoice_number}")
    if note.reason:
        line(f"Reason: {note.reason}")
    if note.refund_reference:
        line(f"Refund reference: {note.refund_reference}")
    pdf.ln(3)
    for label, amount, style in (
        ("Net", note.net_amount, ""),
        ("Tax", note.tax_amount, ""),
        ("Credited", note.amount, "B"),
    ):
        pdf.set_font("helvetica", style=style, size=10)
        pdf.cell(130, 6, label, align="R")
        pdf.cell(52, 6, _money(amount, note.currency, places), align="R", new_x="LMARGIN", new_y="NEXT")
    if note.full_refund:
        line("The invoice is refunded in full.")
    if note.reversed_at is not None:
        line(f"Reversed on {note.reversed_at:%Y-%m-%d}: the provider cancelled this refund.")
    return bytes(pdf.output())


def render_invoice(
    invoice: InvoiceItem, credit_notes: Iterable[CreditNoteItem], settings: dict[str, Any], places: int
) -> bytes:
    pdf, line = _document(f"Invoice {invoice.invoice_number}", settings)
    line(f"Invoice {invoice.invoice_number}", size=16, style="B", height=9)
    line(f"Invoice date: {invoice.invoiced_at:%Y-%m-%d}")
    if invoice.due_date:
        line(f"Due date: {invoice.due_date:%Y-%m-%d}")
    line(f"Status: {invoice.status}")
    pdf.ln(3)
    address = invoice.billing_address or {}
    line("Bill to", style="B")
    place = " ".join(p for p in (address.get("postal_code"), address.get("city")) if p)
    for part in (
        address.get("name"),
        address.get("company"),
        address.get("address_line_1"),
        address.get("address_line_2"),
        place,
        address.get("country"),
    ):
        if part:
            line(part)
    if address.get("tax_number"):
        line(f"Tax number: {address['tax_number']}")
    if not address:
        line("(no billing address on file)")
    pdf.ln(4)

    pdf.set_font("helvetica", style="B", size=9)
    for title, width in COLUMNS:
        pdf.cell(width, 7, title, border="B", align="L" if title == "Description" else "R")
    pdf.ln()
    pdf.set_font("helvetica", size=9)
    for item in invoice.lines:
        cells = (
            item.description,
            str(int(item.quantity)),
            format_money(item.unit_price, places),
            format_money(item.net_amount, places),
            format_money(item.tax_amount, places),
            format_money(item.gross_amount, places),
        )
        for (title, width), value in zip(COLUMNS, cells, strict=True):
            pdf.cell(width, 6, _text(value)[:48], align="L" if title == "Description" else "R")
        pdf.ln()
    pdf.ln(3)
    tax_label = (
        f"Tax {format_fixed(invoice.tax_rate, 2)} % ({invoice.tax_code}{', included' if invoice.tax_inclusive else ''})"
        if invoice.tax_rate is not None
        else "Tax"
    )
    for label, amount, style in (
        ("Subtotal", invoice.subtotal, ""),
        (tax_label, invoice.tax_amount, ""),
        ("Total", invoice.total_amount, "B"),
    ):
        pdf.set_font("helvetica", style=style, size=10)
        pdf.cell(130, 6, _text(label), align="R")
        pdf.cell(52, 6, _money(amount, invoice.currency, places), align="R", new_x="LMARGIN", new_y="NEXT")
    if invoice.amount_refunded:
        pdf.set_font("helvetica", size=10)
        pdf.cell(130, 6, "Refunded", align="R")
        pdf.cell(
            52, 6, _money(invoice.amount_refunded, invoice.currency, places), align="R", new_x="LMARGIN", new_y="NEXT"
        )
    pdf.ln(4)
    if invoice.status == "PAID" and invoice.paid_at:
        line(f"Paid on {invoice.paid_at:%Y-%m-%d} via {invoice.payment_method} (reference {invoice.payment_ref})")
    notes = sorted(credit_notes, key=lambda n: n.created_at)
    if notes:
        line("Credit notes", style="B")
        for note in notes:
            line(
                f"{note.credit_note_number} of {note.created_at:%Y-%m-%d}: "
                f"{_money(note.amount, note.currency, places)} ({note.reason or 'refund'})"
            )
    if settings.get("bank_iban"):
        pdf.ln(4)
        line("Bank details", style="B")
        line(f"{settings.get('bank_name')}  IBAN {settings.get('bank_iban')}  BIC {settings.get('bank_bic')}")
        line(f"Please quote {invoice.invoice_number} with your payment.")
    return bytes(pdf.output())
