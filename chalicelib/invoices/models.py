"""Invoices in the `invoices` table, keyed by id (a provider's notification names the invoice, not the user).

Lines are stored inside the invoice: an invoice and its lines are written, paid and refunded together. The index
keys follow from the invoice's state (`InvoiceItem.index`): GSI1 `USER#<id>` lists a user's invoices newest first,
GSI4 `USER#<id>#<status>` those of one status; GSI2 (sparse, sharded) holds PENDING invoices by due date for the
housekeeping job; GSI3 `INVOICES#<status>` lists the invoices of one status for the admin, newest `invoiced_at`
first. A deleted invoice is in none of them. How many invoices a user has, in all and per status, is kept on
`InvoiceCountsItem` in the `counters` table — and so are the counts of every invoice, and of every day's.
"""

from __future__ import annotations

import zlib

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

from chalicelib.core.times import sortable
from chalicelib.store.attributes import DecimalAttribute
from chalicelib.store.base import CountersTable, InvoicesTable

PENDING_SHARDS = 4


def user_invoices(user_id: str) -> str:
    """GSI1 partition: every invoice of a user."""
    return f"USER#{user_id}"


def user_invoices_in(user_id: str, status: str) -> str:
    """GSI4 partition: a user's invoices of one status."""
    return f"USER#{user_id}#{status}"


def admin_invoices_in(status: str) -> str:
    """GSI3 partition: every invoice of one status, by `invoiced_at` (the admin list, admin.md §9.1)."""
    return f"INVOICES#{status}"


# Every invoice's counts and each day's, sharded by invoice id so that concurrent checkouts and captures rarely name
# the same counter item in their transactions (DynamoDB refuses one of two that do: TransactionConflict, retried).
COUNT_SHARDS = 16
ALL_COUNTS = "COUNT#INVOICES"  # pk; sk `<shard>`: the invoices of one shard, in all and per status
DAY_COUNTS = "COUNT#INVOICES#DAYS"  # pk; sk `<YYYY-MM-DD>#<shard>` of `invoiced_at`: that day's, per status


def count_shard(invoice_id: str) -> str:
    return f"{zlib.crc32(invoice_id.encode()) % COUNT_SHARDS:02d}"


def pending_partition(shard: int) -> str:
    """GSI2 partition: one shard of the PENDING invoices, by due date (invoice housekeeping)."""
    return f"PENDING#{shard}"


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
    # The plan tokens the capture credited for this line (not on the wire): what a refund takes back (§7.2).
    plan_tokens_credited = NumberAttribute(null=True)


class InvoiceItem(InvoicesTable, discriminator="INVOICE"):
    """pk `INVOICE#<id>`, sk `INVOICE`.

    `stored_status` is the status this object was read with (or last committed with); the repository moves the
    user's per-status counts from it to `status` when it writes the invoice. None for an invoice not stored yet.
    """

    stored_status: str | None = None

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
    capture_count = NumberAttribute(default=0)  # how many captures were applied to it: 1 once paid, never more
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
        """The index keys of the invoice's state: newest first in the user's list and in the user's list of its
        status, in the admin list, and in the unpaid-by-due-date index while PENDING; a deleted invoice in none."""
        if self.deleted_at is not None:
            self.gsi1pk = self.gsi1sk = self.gsi2pk = self.gsi2sk = self.gsi3pk = self.gsi3sk = None
            self.gsi4pk = self.gsi4sk = None
            return
        newest = f"{sortable(self.invoiced_at)}#{self.id}"
        self.gsi1pk, self.gsi1sk = user_invoices(self.user_id), newest
        self.gsi4pk, self.gsi4sk = user_invoices_in(self.user_id, self.status), newest
        self.gsi3pk, self.gsi3sk = admin_invoices_in(self.status), newest
        if self.status == "PENDING" and self.due_date is not None:
            self.gsi2pk = pending_partition(zlib.crc32(self.id.encode()) % PENDING_SHARDS)
            self.gsi2sk = f"{sortable(self.due_date)}#{self.id}"
        else:
            self.gsi2pk = self.gsi2sk = None


class InvoiceCountsItem(CountersTable, discriminator="INVOICE_COUNTS"):
    """pk `COUNT#USER#<id>#INVOICES`, sk `COUNT`: how many (not deleted) invoices a user has, in all and per status.

    Moved by `ADD` in the transactions that create an invoice, change its status or delete it, so the list's totals
    never need the list itself."""

    total = NumberAttribute(default=0)
    PENDING = NumberAttribute(default=0)
    AUTHORIZED = NumberAttribute(default=0)
    PAID = NumberAttribute(default=0)
    FAILED = NumberAttribute(default=0)
    CANCELLED = NumberAttribute(default=0)
    REFUNDED = NumberAttribute(default=0)

    @classmethod
    def key(cls, user_id: str) -> tuple[str, str]:
        return f"COUNT#USER#{user_id}#INVOICES", "COUNT"

    def count_of(self, status: str | None) -> int:
        return int(getattr(self, status) if status is not None else self.total)


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
    """pk `INVOICE#<invoice id>`, sk `CREDIT_NOTE#<id>`; GSI1 `CREDIT_NOTE#<id>` finds it by id (the user's
    credit-note PDF names the note, not its invoice)."""

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
    # What a full refund reversed (purchases, subscription, add-ons, tokens taken), so a refund reversal (§7.4)
    # can undo exactly that; `reversed_at` once the provider cancelled the refund.
    reversals = JSONAttribute(null=True)
    reversed_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @classmethod
    def key(cls, invoice_id: str, credit_note_id: str) -> tuple[str, str]:
        return f"INVOICE#{invoice_id}", f"CREDIT_NOTE#{credit_note_id}"

    def index(self) -> None:
        self.gsi1pk, self.gsi1sk = f"CREDIT_NOTE#{self.id}", "CREDIT_NOTE"
