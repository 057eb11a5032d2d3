"""Invoices in the `invoices` table, keyed by id (a provider's notification names the invoice, not the user).

Lines are stored inside the invoice: an invoice and its lines are written, paid and refunded together. GSI1
`USER#<id>` lists a user's invoices newest first; GSI2 (sparse, sharded) holds PENDING invoices by due date for the
housekeeping job; GSI3 `INVOICES` lists every invoice for the admin.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)

from chalicelib.core.times import iso
from chalicelib.store.attributes import DecimalAttribute
from chalicelib.store.base import InvoicesTable


class LineItem(MapAttribute[str, object]):
    id = UnicodeAttribute()
    item_type = UnicodeAttribute()
    item_id = UnicodeAttribute(null=True)
    catalog_item_id = UnicodeAttribute(null=True)
    description = UnicodeAttribute()
    quantity = NumberAttribute(default=1)
    unit_price = DecimalAttribute()
    total_price = DecimalAttribute()
    net_amount = DecimalAttribute()
    tax_amount = DecimalAttribute()
    gross_amount = DecimalAttribute()
    metadata = JSONAttribute(default=dict)


class InvoiceItem(InvoicesTable, discriminator="INVOICE"):
    """pk `INVOICE#<id>`, sk `INVOICE`."""

    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    invoice_number = UnicodeAttribute()
    billing_reason = UnicodeAttribute()
    status = UnicodeAttribute()
    currency = UnicodeAttribute()
    subtotal = DecimalAttribute()
    tax_amount = DecimalAttribute()
    total_amount = DecimalAttribute()
    amount_refunded = DecimalAttribute()
    tax_rate = DecimalAttribute(null=True)
    tax_code = UnicodeAttribute(null=True)
    tax_country = UnicodeAttribute(null=True)
    tax_inclusive = BooleanAttribute(default=False)
    billing_address = JSONAttribute(null=True)
    tarif_plan_id = UnicodeAttribute(null=True)
    subscription_id = UnicodeAttribute(null=True)
    payment_method = UnicodeAttribute(null=True)
    payment_ref = UnicodeAttribute(null=True)
    payment_intent_id = UnicodeAttribute(null=True)
    invoiced_at = UTCDateTimeAttribute()
    due_date = UTCDateTimeAttribute(null=True)
    paid_at = UTCDateTimeAttribute(null=True)
    line_items = ListAttribute(of=LineItem, default=list)
    payment_attempts = NumberAttribute(default=0)
    last_payment_error = UnicodeAttribute(null=True)
    provider_session_id = UnicodeAttribute(null=True)
    deleted_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @classmethod
    def key(cls, invoice_id: str) -> tuple[str, str]:
        return f"INVOICE#{invoice_id}", "INVOICE"

    @property
    def lines(self) -> list[LineItem]:
        return list(self.line_items or [])

    def index(self) -> None:
        order = f"{iso(self.created_at)}#{self.id}"
        self.gsi1pk, self.gsi1sk = f"USER#{self.user_id}", order
        self.gsi3pk, self.gsi3sk = "INVOICES", order


class TokenBundlePurchaseItem(InvoicesTable, discriminator="BUNDLE_PURCHASE"):
    """pk `INVOICE#<invoice id>`, sk `PURCHASE#<id>`: the purchase record of a TOKEN_BUNDLE line."""

    version = VersionAttribute()

    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    bundle_id = UnicodeAttribute()
    invoice_id = UnicodeAttribute()
    status = UnicodeAttribute()
    tokens_credited = BooleanAttribute(default=False)
    token_amount = NumberAttribute()
    price = DecimalAttribute()
    currency = UnicodeAttribute()
    completed_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, invoice_id: str, purchase_id: str) -> tuple[str, str]:
        return f"INVOICE#{invoice_id}", f"PURCHASE#{purchase_id}"


class CreditNoteItem(InvoicesTable, discriminator="CREDIT_NOTE"):
    """pk `INVOICE#<invoice id>`, sk `CREDIT_NOTE#<id>`; GSI1 `CREDIT_NOTE#<id>` finds it by id."""

    id = UnicodeAttribute()
    credit_note_number = UnicodeAttribute()
    invoice_id = UnicodeAttribute()
    invoice_number = UnicodeAttribute()
    user_id = UnicodeAttribute()
    currency = UnicodeAttribute()
    amount = DecimalAttribute()
    net_amount = DecimalAttribute()
    tax_amount = DecimalAttribute()
    full_refund = BooleanAttribute(default=False)
    reason = UnicodeAttribute(null=True)
    refund_reference = UnicodeAttribute(null=True)
    provider = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, invoice_id: str, credit_note_id: str) -> tuple[str, str]:
        return f"INVOICE#{invoice_id}", f"CREDIT_NOTE#{credit_note_id}"
