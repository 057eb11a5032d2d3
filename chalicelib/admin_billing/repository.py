"""The admin's reads of billing records by id alone (admin paths name a subscription, not its user)."""

from __future__ import annotations

from chalicelib.invoices import repository as invoice_store
from chalicelib.invoices.models import InvoiceItem
from chalicelib.subscriptions import repository as subscription_store
from chalicelib.subscriptions.models import SubscriptionItem


def find_subscription(subscription_id: str) -> SubscriptionItem | None:
    """A subscription by id: its owner from GSI1 (`SUB#<id>`, one item), then the item itself read consistently."""
    for hit in SubscriptionItem.gsi1.query(f"SUB#{subscription_id}", limit=1):
        if isinstance(hit, SubscriptionItem):
            return subscription_store.subscription_of(hit.user_id, subscription_id)
    return None


def latest_paid_invoice(subscription: SubscriptionItem) -> InvoiceItem | None:
    """The subscription's most recent PAID invoice by `paid_at`: a Query of the owner's PAID invoices (GSI4)."""
    paid = [
        invoice
        for invoice in invoice_store.invoices_in(subscription.user_id, "PAID")
        if invoice.subscription_id == subscription.id
        or any(ln.item_type == "SUBSCRIPTION" and ln.item_id == subscription.id for ln in invoice.lines)
    ]
    return max(paid, key=lambda invoice: invoice.paid_at or invoice.invoiced_at, default=None)
