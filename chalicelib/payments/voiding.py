"""An unpaid invoice let go of with what it bills (admin.md §9.5, §9.10; checkout-and-payments.md §6.3): its PENDING
purchases, subscriptions and add-ons CANCELLED through their owners, in the caller's transaction."""

from __future__ import annotations

from chalicelib.core.money import format_money
from chalicelib.events.catalog import InvoiceReleased
from chalicelib.events.envelope import Actor, Event
from chalicelib.invoices import repository as invoice_store
from chalicelib.invoices.repository import InvoiceRecords
from chalicelib.payments.capture import load_activation
from chalicelib.store.transactions import Transaction


def void_with_what_it_bills(
    tx: Transaction, records: InvoiceRecords, actor: Actor, reason: str, *, released: bool = False
) -> None:
    """The invoice CANCELLED with the PENDING things it bills; `released`: an authorization let go of
    (`invoice.released` instead of `invoice.voided`); `reason` is recorded on what is cancelled."""
    activation = load_activation(records.invoice, records.purchases, actor)
    for line in records.invoice.lines:
        if line.item_type == "SUBSCRIPTION":
            sub = activation.subscriptions.get(str(line.item_id))
            if sub is not None and sub.status == "PENDING":
                activation.cancel_subscription(sub, reason)
        elif line.item_type == "ADD_ON":
            addon = activation.addon_subscriptions.get(str(line.item_id))
            if addon is not None and addon.status == "PENDING":
                activation.cancel_addon(addon, reason)
    for purchase in records.purchases:
        if purchase.status == "PENDING":
            invoice_store.cancel_purchase(tx, purchase)
    if released:
        invoice = records.invoice
        invoice.status = "CANCELLED"
        invoice.updated_at = activation.now
        invoice_store.update_invoice(tx, invoice)
        money = format_money(invoice.total_amount, activation.places)
        event = InvoiceReleased(invoice.id, invoice.invoice_number, invoice.user_id, money, invoice.currency)
        tx.events.append(Event(event, actor, occurred_at=activation.now))
    else:
        invoice_store.void(tx, records.invoice, reason, actor, activation.now)
    activation.write(tx)
