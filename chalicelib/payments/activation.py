"""What a capture does to every line of an invoice (contract checkout-and-payments.md §6.2 rule 3).

`Activation` works on objects loaded for one capture (or just created by a zero-total checkout); it changes them
in place and collects the ledger changes, the events, and the lines it could not fulfil. `write` then adds all of
it to one transaction through the repositories of the records it changed. A line whose item is already active is
skipped, so applying a capture twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from pynamodb.models import Model

from chalicelib.catalog.models import AddonItem, PlanItem
from chalicelib.catalog.repository import Reference
from chalicelib.core.money import ZERO, format_money
from chalicelib.core.times import iso
from chalicelib.events.catalog import (
    AddonActivated,
    AddonCancelled,
    InvoicePaid,
    PaymentCaptured,
    SubscriptionActivated,
    SubscriptionCancelled,
)
from chalicelib.events.envelope import Actor, Event
from chalicelib.invoices import repository as invoice_store
from chalicelib.invoices.models import InvoiceItem, LineItem, TokenBundlePurchaseItem
from chalicelib.payments.outcomes import Payment
from chalicelib.store.transactions import Transaction
from chalicelib.subscriptions import repository as subscription_store
from chalicelib.subscriptions.events import addon_data, subscription_data
from chalicelib.subscriptions.models import HOLDING_STATUSES, AddonSubscriptionItem, SubscriptionItem
from chalicelib.subscriptions.periods import add_period
from chalicelib.tokens.ledger import Ledger
from chalicelib.users.models import UserItem

FINISHED = frozenset({"CANCELLED", "EXPIRED"})


@dataclass
class Unfulfilled:
    line: LineItem
    reason: str


@dataclass
class Activation:
    invoice: InvoiceItem
    user: UserItem
    purchases: dict[str, TokenBundlePurchaseItem]
    subscriptions: dict[str, SubscriptionItem]
    addon_subscriptions: dict[str, AddonSubscriptionItem]
    ledger: Ledger
    ref: Reference
    now: datetime
    actor: Actor
    places: int
    created: set[int] = field(default_factory=set)  # ids of objects new in this transaction (zero-total checkout)
    changed: dict[int, Model] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    unfulfilled: list[Unfulfilled] = field(default_factory=list)
    activated: dict[str, Any] = field(
        default_factory=lambda: {
            "subscription": None,
            "token_bundles": [],
            "add_ons": [],
            "tokens_credited": 0,
            "bookings": [],
        }
    )

    # --- the capture -----------------------------------------------------------------------------------------

    def capture(self, payment: Payment) -> None:
        """Mark the invoice paid and activate its lines; events in the order of §6.2 rule 4."""
        invoice = self.invoice
        invoice.status = "PAID"
        invoice.paid_at = self.now
        invoice.payment_ref = payment.reference
        invoice.payment_method = payment.provider
        invoice.updated_at = self.now
        self._touch(invoice)
        amount = format_money(invoice.total_amount, self.places)
        self.events.append(
            self._event(
                PaymentCaptured(
                    invoice.id, payment.reference, amount, invoice.currency, payment.provider, payment.transaction_id
                )
            )
        )
        self.events.append(
            self._event(
                InvoicePaid(
                    invoice_id=invoice.id,
                    invoice_number=invoice.invoice_number,
                    user_id=invoice.user_id,
                    user_email=self.user.email,
                    user_name=self.user.name,
                    amount=amount,
                    currency=invoice.currency,
                    paid_at=iso(self.now) or "",
                    paid_date=self.now.date().isoformat(),
                    payment_reference=payment.reference,
                    provider=payment.provider,
                    invoice_url=f"/invoices/{invoice.id}",
                )
            )
        )
        if invoice.billing_reason != "MANUAL":  # a manual invoice records the payment only (admin.md §9.3)
            # Subscriptions first: add-ons bought with a plan end when their parent's new period ends.
            for line in sorted(invoice.lines, key=lambda ln: ln.item_type != "SUBSCRIPTION"):
                self._activate(line, payment)
        self.activated["tokens_credited"] = sum(int(e.amount) for e in self.ledger.entries if int(e.amount) > 0)

    def _activate(self, line: LineItem, payment: Payment) -> None:
        metadata = line.metadata or {}
        if line.item_type == "SUBSCRIPTION" and line.item_id in self.subscriptions:
            self._subscription(
                line, self.subscriptions[str(line.item_id)], str(metadata.get("billing_reason")), payment
            )
        elif line.item_type == "TOKEN_BUNDLE" and line.item_id in self.purchases:
            self._bundle(self.purchases[str(line.item_id)])
        elif line.item_type == "ADD_ON" and line.item_id in self.addon_subscriptions:
            self._addon(line, self.addon_subscriptions[str(line.item_id)], payment)
        # CUSTOM lines (proration credits) activate nothing.

    # --- subscriptions ---------------------------------------------------------------------------------------

    def _subscription(self, line: LineItem, sub: SubscriptionItem, reason: str, payment: Payment) -> None:
        self.activated["subscription"] = sub.id
        if sub.status in FINISHED:
            self.unfulfilled.append(Unfulfilled(line, "subscription no longer active"))
            return
        if reason == "RENEWAL":
            self._renew(line, sub)
        elif reason == "UPGRADE":
            self._upgrade(line, sub)
        elif sub.status in ("PENDING", "TRIALING"):
            self._first_period(sub)
        else:
            return  # already granted (an admin-created subscription) or a replay: nothing twice
        self._save_method(sub, payment)
        sub.pending_invoice_id = None
        sub.updated_at = self.now
        self._touch(sub)

    def _plan(self, plan_id: str) -> PlanItem:
        plan = self.ref.plan(plan_id)
        if plan is None:
            raise LookupError(f"plan {plan_id} is not in the catalog")
        return plan

    def _first_period(self, sub: SubscriptionItem) -> None:
        plan = self._plan(sub.tarif_plan_id)
        start = sub.trial_end_at if sub.status == "TRIALING" and sub.trial_end_at else self.now
        sub.status = "ACTIVE"
        sub.started_at = sub.started_at or self.now
        sub.current_period_start = start
        sub.anchor_day = start.day
        sub.expires_at = add_period(start, plan.billing_period, start.day)
        self._credit_plan_tokens(sub, plan)
        self._cancel_exclusive_conflicts(sub)
        self.events.append(
            self._event(
                SubscriptionActivated(
                    **subscription_data(sub, plan), started_at=iso(sub.started_at), expires_at=iso(sub.expires_at)
                )
            )
        )

    def _renew(self, line: LineItem, sub: SubscriptionItem) -> None:
        metadata = line.metadata or {}
        if iso(sub.expires_at) != metadata.get("period_start"):
            return  # this period was already applied
        plan = self._plan(str(metadata.get("plan_id") or sub.tarif_plan_id))
        sub.tarif_plan_id = plan.id
        sub.pending_plan_id = None
        sub.current_period_start = sub.expires_at
        anchor = int(sub.anchor_day) if sub.anchor_day else None
        sub.expires_at = add_period(sub.expires_at, plan.billing_period, anchor) if sub.expires_at else None
        sub.status = "ACTIVE"
        sub.payment_failed_at = sub.past_due_since = sub.next_retry_at = None
        sub.dunning_attempts = 0
        self._credit_plan_tokens(sub, plan)

    def _upgrade(self, line: LineItem, sub: SubscriptionItem) -> None:
        plan = self._plan(str((line.metadata or {}).get("plan_id")))
        if sub.tarif_plan_id == plan.id:
            return
        sub.tarif_plan_id = plan.id
        sub.pending_plan_id = None
        sub.current_period_start = self.now
        sub.anchor_day = self.now.day
        sub.expires_at = add_period(self.now, plan.billing_period, self.now.day)
        self._credit_plan_tokens(sub, plan)

    def _credit_plan_tokens(self, sub: SubscriptionItem, plan: PlanItem) -> None:
        tokens = int((plan.features or {}).get("default_tokens", 0)) if isinstance(plan.features, dict) else 0
        if tokens > 0:
            self.ledger.credit(tokens, "SUBSCRIPTION", sub.id, f"Plan tokens: {plan.name}")

    def _save_method(self, sub: SubscriptionItem, payment: Payment) -> None:
        if payment.saved_method:
            sub.saved_payment_method = payment.saved_method
            sub.payment_method_code = payment.provider

    def _cancel_exclusive_conflicts(self, sub: SubscriptionItem) -> None:
        exclusive = set(sub.exclusive_category_ids or [])
        if not exclusive:
            return
        for other in self.subscriptions.values():
            if other.id == sub.id or other.status not in HOLDING_STATUSES:
                continue
            if exclusive.isdisjoint(other.exclusive_category_ids or []):
                continue
            other.status = "CANCELLED"
            other.cancelled_at = self.now
            other.cancel_reason = "is_single_switch"
            other.updated_at = self.now
            self._touch(other)
            plan = self._plan(other.tarif_plan_id)
            self.events.append(
                self._event(SubscriptionCancelled(**subscription_data(other, plan), reason="is_single_switch"))
            )
            for addon_sub in self.addon_subscriptions.values():
                if addon_sub.subscription_id == other.id and addon_sub.status not in FINISHED:
                    self._cancel_addon(addon_sub, "is_single_switch")

    # --- bundles and add-ons ---------------------------------------------------------------------------------

    def _bundle(self, purchase: TokenBundlePurchaseItem) -> None:
        if purchase.status != "PENDING":
            return
        purchase.status = "COMPLETED"
        purchase.completed_at = self.now
        purchase.tokens_credited = True
        self._touch(purchase)
        amount = int(purchase.token_amount)
        self.ledger.credit(amount, "PURCHASE", purchase.id, f"Token bundle purchase: {amount} tokens")
        self.activated["token_bundles"].append(purchase.id)

    def _addon_item(self, addon_sub: AddonSubscriptionItem) -> AddonItem:
        addon = self.ref.addon(addon_sub.addon_id)
        if addon is None:
            raise LookupError(f"add-on {addon_sub.addon_id} is not in the catalog")
        return addon

    def _addon(self, line: LineItem, addon_sub: AddonSubscriptionItem, payment: Payment) -> None:
        metadata = line.metadata or {}
        if addon_sub.status == "CANCELLED":
            self.unfulfilled.append(Unfulfilled(line, "add-on cancelled"))
            return
        if metadata.get("billing_reason") == "RENEWAL":
            if iso(addon_sub.expires_at) == metadata.get("period_start") and metadata.get("period_end"):
                from chalicelib.core.times import parse_instant

                addon_sub.expires_at = parse_instant(str(metadata["period_end"]))
                addon_sub.updated_at = self.now
                self._touch(addon_sub)
            return
        if addon_sub.status not in ("PENDING", "TRIALING"):
            return
        addon = self._addon_item(addon_sub)
        addon_sub.status = "ACTIVE"
        addon_sub.starts_at = addon_sub.starts_at or self.now
        parent = self.subscriptions.get(addon_sub.subscription_id or "")
        if addon.billing_period == "ONE_TIME":
            addon_sub.expires_at = None
        elif parent is not None:
            addon_sub.expires_at = parent.expires_at  # co-terminous with the parent
        else:
            addon_sub.expires_at = add_period(addon_sub.starts_at, addon.billing_period)
        addon_sub.updated_at = self.now
        self._touch(addon_sub)
        self.activated["add_ons"].append(addon_sub.id)
        self.events.append(self._event(AddonActivated(**addon_data(addon_sub, addon))))

    def _cancel_addon(self, addon_sub: AddonSubscriptionItem, reason: str) -> None:
        addon_sub.status = "CANCELLED"
        addon_sub.cancelled_at = self.now
        addon_sub.cancel_reason = reason
        addon_sub.updated_at = self.now
        self._touch(addon_sub)
        self.events.append(
            self._event(AddonCancelled(**addon_data(addon_sub, self._addon_item(addon_sub)), reason=reason))
        )

    # --- bookkeeping -----------------------------------------------------------------------------------------

    def _event(self, data: Any) -> Event:
        return Event(data, self.actor, occurred_at=self.now)

    def _touch(self, item: Model) -> None:
        self.changed[id(item)] = item

    def unfulfilled_amount(self) -> Decimal:
        return sum((u.line.gross_amount for u in self.unfulfilled), ZERO)

    def write(self, tx: Transaction) -> None:
        """Add every changed record (new ones created, read ones on the condition of their version), the ledger
        and the events to the transaction."""
        for item in self.changed.values():
            add, update = _writers(item)
            (add if id(item) in self.created else update)(tx, item)
        tx.events.extend(self.events)
        self.ledger.write(tx)


Writer = Callable[[Transaction, Any], None]


def _writers(item: Model) -> tuple[Writer, Writer]:
    """How a record an activation changed is added (new) or updated (read), through its repository."""
    if isinstance(item, InvoiceItem):
        return invoice_store.add_invoice, invoice_store.update_invoice
    if isinstance(item, TokenBundlePurchaseItem):
        return invoice_store.add_purchase, invoice_store.update_purchase
    if isinstance(item, SubscriptionItem):
        return subscription_store.add_subscription, subscription_store.update_subscription
    if isinstance(item, AddonSubscriptionItem):
        return subscription_store.add_addon_subscription, subscription_store.update_addon_subscription
    raise TypeError(f"an activation does not write {type(item).__name__}")
