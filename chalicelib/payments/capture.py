"""Capture: an invoice becomes PAID and every line activates, in one transaction (checkout-and-payments.md §6).

Reads: the invoice's partition (invoice and purchases, one Query), the buyer's subscriptions and add-ons (one
Query), and the buyer, the token balance and the catalog version (one BatchGetItem); then one TransactWriteItems.
Every record is written on the condition of the version read, so of concurrent captures of one invoice exactly
one commits; the others re-read, find the invoice paid, and change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from chalicelib.catalog.models import CatalogVersionItem
from chalicelib.catalog.pricing import Currencies
from chalicelib.catalog.repository import reference
from chalicelib.core import clock
from chalicelib.events.envelope import Actor
from chalicelib.invoices import repository as invoice_store
from chalicelib.invoices.credit_notes import record_refund
from chalicelib.invoices.models import CreditNoteItem, InvoiceItem, TokenBundlePurchaseItem
from chalicelib.payments.activation import Activation
from chalicelib.payments.outcomes import Payment
from chalicelib.payments.providers import refund_key, refund_reference_for
from chalicelib.store.numbering import guard_refused
from chalicelib.store.reads import batch_get
from chalicelib.store.retry import retrying
from chalicelib.store.transactions import Transaction, TransactionCancelled
from chalicelib.subscriptions import repository as subscription_store
from chalicelib.tokens.ledger import Ledger
from chalicelib.tokens.models import TokenBalanceItem
from chalicelib.users.models import UserItem, user_key

ATTEMPTS = 8
CAPTURABLE = frozenset({"PENDING", "AUTHORIZED"})
# The parts of a capture that hold state it read: refused, they mean someone changed it meanwhile (retry).
RACE_LABELS = frozenset(
    {
        invoice_store.INVOICE,
        invoice_store.PURCHASE,
        subscription_store.SUBSCRIPTION,
        subscription_store.ADDON_SUBSCRIPTION,
        "balance",
        "ledger_entry",
    }
)


class NotCapturable(Exception):
    """The invoice is not PENDING or AUTHORIZED; the caller answers with its own wording."""

    def __init__(self, invoice: InvoiceItem) -> None:
        super().__init__(invoice.status)
        self.invoice = invoice


@dataclass(frozen=True)
class CaptureResult:
    invoice: InvoiceItem
    items_activated: dict[str, Any]
    places: int
    credit_notes: list[CreditNoteItem] = field(default_factory=list)  # issued by this capture (§6.2 refunds)


Extra = Callable[[Transaction, CaptureResult], None]
Loaded = tuple[InvoiceItem, list[TokenBundlePurchaseItem]]


def capture(
    invoice_id: str,
    payment: Payment,
    actor: Actor,
    *,
    extra: Extra | None = None,
    preloaded: Loaded | None = None,
) -> CaptureResult:
    """Capture the invoice. `extra` adds the caller's own items (a provider-event record, an idempotency
    answer) to the same transaction; `preloaded` is the invoice the caller just read (used by the first attempt)."""
    first = [preloaded] if preloaded is not None else []

    def attempt() -> CaptureResult:
        loaded = first.pop() if first else invoice_store.load_invoice(invoice_id)
        if loaded is None:
            raise LookupError(f"invoice {invoice_id} not found")
        invoice, purchases = loaded
        if invoice.status not in CAPTURABLE:
            raise NotCapturable(invoice)
        tx = Transaction()
        result = prepare(tx, invoice, purchases, payment, actor)
        if extra is not None:
            extra(tx, result)
        tx.commit()
        return result

    return retrying(attempt, tries=ATTEMPTS, retry_on=lost_race)


def lost_race(exc: TransactionCancelled) -> bool:
    """Someone changed what the capture read (the invoice, a subscription, the balance) or took the credit note's
    number: read again and decide again. A refused part of the caller's own (its provider event, its stored
    answer) is not a race and propagates."""
    if exc.failed:
        return all(label in RACE_LABELS or guard_refused([label]) for label in exc.failed)
    return exc.conflict


def prepare(
    tx: Transaction,
    invoice: InvoiceItem,
    purchases: list[TokenBundlePurchaseItem],
    payment: Payment,
    actor: Actor,
) -> CaptureResult:
    """Add the capture of a loaded invoice to `tx` (reads the buyer's subscriptions, balance and catalog)."""
    activation = load_activation(invoice, purchases, actor)
    activation.capture(payment)
    note = refund_unfulfilled(tx, activation, payment)
    activation.write(tx)
    return CaptureResult(invoice, activation.activated, activation.places, [note] if note else [])


def load_activation(invoice: InvoiceItem, purchases: list[TokenBundlePurchaseItem], actor: Actor) -> Activation:
    """What a change of a loaded invoice's lines works on: the buyer's live holdings and whatever the lines name
    (one Query), the buyer, the token balance and the catalog version (one BatchGetItem). The capture and the
    refund pipeline (`chalicelib.refunds`) both start here."""
    now = clock.now()
    # The user's live holdings (is_single conflicts) and whatever the invoice's own lines name, in any status.
    subscriptions, addon_subscriptions = subscription_store.live_holdings(invoice.user_id)
    named_subscriptions, named_addons = subscription_store.holdings_by_id(
        invoice.user_id,
        [str(ln.item_id) for ln in invoice.lines if ln.item_type == "SUBSCRIPTION" and ln.item_id],
        [str(ln.item_id) for ln in invoice.lines if ln.item_type == "ADD_ON" and ln.item_id],
    )
    live_ids = {s.id for s in subscriptions} | {a.id for a in addon_subscriptions}
    subscriptions += [s for s in named_subscriptions if s.id not in live_ids]
    addon_subscriptions += [a for a in named_addons if a.id not in live_ids]
    user, balance, version = batch_get(
        [
            (UserItem, *user_key(invoice.user_id)),
            (TokenBalanceItem, *TokenBalanceItem.key(invoice.user_id)),
            (CatalogVersionItem, *CatalogVersionItem.key()),
        ]
    )
    if not isinstance(user, UserItem):
        raise LookupError(f"the buyer of invoice {invoice.id} no longer exists")
    ref = reference(version.token if isinstance(version, CatalogVersionItem) else "")
    places = Currencies.of(ref.currencies).places(invoice.currency)
    return Activation(
        invoice=invoice,
        user=user,
        purchases={p.id: p for p in purchases},
        subscriptions={s.id: s for s in subscriptions},
        addon_subscriptions={a.id: a for a in addon_subscriptions},
        ledger=Ledger(invoice.user_id, balance if isinstance(balance, TokenBalanceItem) else None, now, actor),
        ref=ref,
        now=now,
        actor=actor,
        places=places,
    )


def refund_unfulfilled(tx: Transaction, activation: Activation, payment: Payment) -> CreditNoteItem | None:
    """Lines that can no longer be delivered are refunded at once, with one credit note (§6.2)."""
    amount = activation.unfulfilled_amount()
    if not activation.unfulfilled or amount <= 0:
        return None
    invoice = activation.invoice
    # The invoice was not PAID before this capture, so this is its first refund (a retried capture reuses the key).
    reference_ = refund_reference_for(payment.provider, invoice, amount, refund_key(invoice.id, 1))
    note, events = record_refund(
        tx,
        invoice,
        amount,
        reason="; ".join(dict.fromkeys(u.reason for u in activation.unfulfilled)),
        provider=payment.provider,
        refund_reference=reference_,
        prefix=str(activation.ref.settings["credit_note_prefix"]),
        places=activation.places,
        now=activation.now,
    )
    activation.events += [activation.event(data) for data in events]
    return note


def check_amount(invoice: InvoiceItem, amount: Decimal, currency: str) -> str | None:
    """The provider-reported payment must equal the invoice exactly (§6.2 rule 1); the problem, if any."""
    if amount != invoice.total_amount:
        return "Amount does not match invoice"
    if currency.upper() != invoice.currency:
        return "Currency does not match invoice"
    return None
