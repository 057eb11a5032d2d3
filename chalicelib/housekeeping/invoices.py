"""Invoice housekeeping (contract checkout-and-payments.md §4.3, §4.1): the `invoice-housekeeping` job.

Each run does two things, both found through keys and indexes, never a Scan:

- **Numbering gaps.** `store.numbering.fill_gaps` voids every number a writer took and never used (it crashed
  between taking the number and committing), once the grace period has passed, above the series' watermark.
- **Abandoned checkouts.** The PENDING invoices past their due date are found in the sparse unpaid-by-due-date
  index (one Query per shard) and each is sent as its own task to the `invoice-expiry` task queue. The consumer
  (`handle`) reads the invoice and what it bills again and decides from what it finds: an invoice that bills only
  PENDING things — nothing it bills grants service yet — is CANCELLED with `invoice.voided {reason: "expired"}`,
  and its PENDING subscription, add-on subscriptions (through the state machine's `cancel` move) and token-bundle
  purchases with it, in one conditional transaction. So they leave the sparse `live` index, and a user's abandoned
  checkouts stop costing their later checkouts anything. An invoice of a subscription that already grants service
  (a renewal: PAST_DUE and dunning) or a trial's first invoice (handled at the trial's end) is the lifecycle's
  (subscriptions.md §6, §7) and is left as it is.
"""

from __future__ import annotations

from typing import Any

from chalicelib.catalog.models import CatalogVersionItem
from chalicelib.catalog.repository import reference
from chalicelib.core import clock
from chalicelib.core.logging import logger
from chalicelib.core.times import iso
from chalicelib.events.envelope import Actor
from chalicelib.events.tasks import Task, enqueue
from chalicelib.invoices import repository as invoice_store
from chalicelib.invoices.models import InvoiceItem
from chalicelib.store import numbering
from chalicelib.store.reads import batch_get
from chalicelib.store.retry import retrying
from chalicelib.store.transactions import Transaction, TransactionCancelled
from chalicelib.subscriptions import repository as subscription_store
from chalicelib.subscriptions.machine import PENDING, Move, move
from chalicelib.subscriptions.policy import LifecyclePolicy

JOB = "invoice-housekeeping"
CONSUMER = "invoice-expiry"
TASK = "invoice.expiry_due"
EXPIRED = "expired"
ATTEMPTS = 5
# Invoices the lifecycle owns once unpaid: a renewal's subscription falls PAST_DUE and dunning runs (§4.3).
LIFECYCLE_REASONS = frozenset({"RENEWAL"})
RACES = frozenset(
    {
        invoice_store.INVOICE,
        invoice_store.PURCHASE,
        subscription_store.SUBSCRIPTION,
        subscription_store.ADDON_SUBSCRIPTION,
    }
)


def sweep() -> dict[str, Any]:
    """The job: fill numbering gaps, and send each overdue invoice to the expiry queue."""
    now = clock.now()
    voided = numbering.fill_gaps(now)
    tasks = [
        Task(TASK, f"invoice:{invoice.id}:{iso(invoice.due_date)}", invoice.id, {"invoice_id": invoice.id})
        for invoice in invoice_store.overdue_invoices(now)
        if not _lifecycle_owns(invoice) and invoice.due_date is not None
    ]
    sent = enqueue(CONSUMER, tasks) if tasks else 0
    logger.info("invoice housekeeping", numbers_voided=voided, invoices_due=len(tasks), enqueued=sent)
    return {"numbers_voided": voided, "invoices_due": len(tasks), "enqueued": sent}


def _lifecycle_owns(invoice: InvoiceItem) -> bool:
    """A renewal (dunning) or a trial's first invoice (due at the trial's end): the lifecycle decides what an unpaid
    one means, not housekeeping."""
    if invoice.billing_reason in LIFECYCLE_REASONS:
        return True
    return any(line.item_type == "SUBSCRIPTION" and (line.metadata or {}).get("trial_end_at") for line in invoice.lines)


def handle(envelope: dict[str, Any]) -> None:
    """The `invoice-expiry` consumer: expire the invoice the task names, if it is still an abandoned checkout."""
    invoice_id = str(envelope["data"]["invoice_id"])
    retrying(lambda: expire(invoice_id), tries=ATTEMPTS, retry_on=_changed_meanwhile)


def _changed_meanwhile(exc: TransactionCancelled) -> bool:
    """A payment, a capture or the user changed the invoice or what it bills since it was read: decide again."""
    return exc.conflict or any(label in RACES for label in exc.failed)


def expire(invoice_id: str) -> bool:
    """Cancel the invoice and the PENDING things it bills, if it is PENDING, past due and bills nothing that grants
    service; returns whether it did. Everything is read again here: the index that found it lags."""
    now = clock.now()
    records = invoice_store.invoice_records(invoice_id)
    if records is None:
        return False
    invoice = records.invoice
    if invoice.status != "PENDING" or invoice.due_date is None or invoice.due_date > now:
        return False
    if _lifecycle_owns(invoice):
        return False
    subscriptions, addons = subscription_store.holdings_by_id(
        invoice.user_id,
        [str(line.item_id) for line in invoice.lines if line.item_type == "SUBSCRIPTION" and line.item_id],
        [str(line.item_id) for line in invoice.lines if line.item_type == "ADD_ON" and line.item_id],
    )
    if any(s.status != PENDING for s in subscriptions) or any(a.status != PENDING for a in addons):
        logger.info("overdue invoice left to the lifecycle", invoice_id=invoice.id)
        return False
    [version] = batch_get([(CatalogVersionItem, *CatalogVersionItem.key())])
    policy = LifecyclePolicy.of(reference(version.token if isinstance(version, CatalogVersionItem) else ""))
    tx = Transaction()
    invoice_store.void(tx, invoice, EXPIRED, Actor.system(JOB), now)
    for subscription in subscriptions:
        move(subscription, Move.CANCEL, now)
        subscription.cancel_reason = EXPIRED
        subscription_store.update_subscription(tx, subscription, policy)
    for addon in addons:
        move(addon, Move.CANCEL, now)
        addon.cancel_reason = EXPIRED
        subscription_store.update_addon_subscription(tx, addon, policy)
    for purchase in records.purchases:
        if purchase.status == "PENDING":
            invoice_store.cancel_purchase(tx, purchase)
    tx.commit()
    logger.info("abandoned checkout expired", invoice_id=invoice.id, user_id=invoice.user_id)
    return True
