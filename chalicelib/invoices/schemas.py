"""Query and answer models of the user's invoice routes (contract checkout-and-payments.md §2, §5.3).

`Invoice`, `LineItem`, `CreditNote` and `Purchase` are the objects of §2.1–§2.4; checkout and the payment routes
answer with them too.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from chalicelib.core.validation import Answer, Instant, Money, PagingQuery, Uuid, WholeList, one_of
from chalicelib.invoices.statuses import INVOICE_STATUSES, InvoiceStatus

BillingReason = Literal["SUBSCRIPTION_CREATE", "RENEWAL", "UPGRADE", "PURCHASE", "BOOKING", "MANUAL"]


class InvoicesQuery(PagingQuery):
    """`GET /user/invoices`: the whole list (up to 1000), or a page when a paging parameter is sent."""

    status: Annotated[str | None, Field(description="Only invoices of this status (case-insensitive)")] = None

    @field_validator("status")
    @classmethod
    def _status(cls, value: str | None) -> str | None:
        return one_of(value, INVOICE_STATUSES, "status")


# --- answers ---------------------------------------------------------------------------------------------------


class LineItem(Answer):
    """A line of an invoice (§2.2)"""

    id: Uuid
    invoice_id: Uuid
    type: str = Field(description="`item_type`, or the plugin a CUSTOM line names (`booking`)")
    item_type: Literal["SUBSCRIPTION", "TOKEN_BUNDLE", "ADD_ON", "CUSTOM"]
    item_id: str | None = Field(description="The purchase record: subscription, bundle purchase, add-on subscription…")
    catalog_item_id: str | None
    description: str
    quantity: int
    unit_price: Money
    total_price: Money
    amount: Money
    net_amount: Money
    tax_amount: Money
    gross_amount: Money
    metadata: dict[str, Any]
    extra_data: dict[str, Any]


class CreditNote(Answer):
    """Money given back on an invoice (§2.4)"""

    id: Uuid
    credit_note_number: str
    invoice_id: Uuid
    invoice_number: str
    user_id: Uuid
    currency: str
    amount: Money
    net_amount: Money
    tax_amount: Money
    full_refund: bool
    reason: str | None
    refund_reference: str | None
    provider: str | None
    created_at: Instant


class BillingAddress(Answer):
    """The buyer's details when the invoice was issued"""

    name: str | None
    company: str | None
    tax_number: str | None
    address_line_1: str | None
    address_line_2: str | None
    city: str | None
    postal_code: str | None
    country: str | None


class Invoice(Answer):
    """An invoice with its lines and credit notes (§2.1)"""

    id: Uuid
    user_id: Uuid
    tarif_plan_id: Uuid | None
    subscription_id: Uuid | None
    invoice_number: str
    billing_reason: BillingReason
    status: InvoiceStatus
    currency: str
    subtotal: Money
    tax_amount: Money
    total_amount: Money
    amount: Money
    amount_refunded: Money
    tax_rate: Money | None
    tax_code: str | None
    tax_country: str | None
    tax_inclusive: bool
    billing_address: BillingAddress | None
    payment_method: str | None
    payment_ref: str | None
    payment_intent_id: str | None
    is_payable: bool
    is_capturable: bool
    invoiced_at: Instant
    due_date: Instant | None
    expires_at: Instant | None
    paid_at: Instant | None
    created_at: Instant
    line_items: list[LineItem]
    credit_notes: list[CreditNote] = Field(description="Oldest first; the list answer leaves them out ([])")


class Purchase(Answer):
    """A token-bundle purchase record (§2.3)"""

    id: Uuid
    user_id: Uuid
    bundle_id: Uuid
    invoice_id: Uuid
    status: Literal["PENDING", "COMPLETED", "REFUNDED", "CANCELLED"]
    tokens_credited: bool
    token_amount: int
    price: Money
    currency: str
    completed_at: Instant | None
    created_at: Instant


class InvoicesAnswer(WholeList):
    """The caller's invoices, newest `invoiced_at` first. Without paging parameters the whole list (up to 1000,
    `next_cursor` when there are more); with one, a page and its paging keys (README §1.11)"""

    invoices: list[Invoice]


class InvoiceAnswer(Answer):
    """One invoice of the caller"""

    invoice: Invoice


class ItemsActivated(Answer):
    """What a capture activated (§6.2)"""

    subscription: Uuid | None
    token_bundles: list[Uuid]
    add_ons: list[Uuid]
    tokens_credited: int
    bookings: list[Uuid]
