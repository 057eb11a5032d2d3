"""What a capture does to every line of an invoice (contract checkout-and-payments.md §6.2 rule 3).

`Activation` works on objects loaded for one capture (or just created by a zero-total checkout); it changes them in
place and collects the ledger changes, the events, and the lines it could not fulfil. Each line is activated by the
handler registered for its kind (`LINE_HANDLERS`: subscription, add-on, token bundle; other packages register their
own, as booking lines will); a line of a kind nobody handles (a proration credit) activates nothing. Status changes
go through the state machine (`chalicelib.subscriptions.machine`). `write` then adds everything to one transaction
through the repositories of the records it changed. A line whose item is already active is skipped, so applying a
capture twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from pynamodb.models import Model

from chalicelib.catalog.models import AddonItem, PlanItem
from chalicelib.catalog.repository import Reference
from chalicelib.core.money import ZERO, format_money
from chalicelib.core.times import iso, parse_instant
from chalicelib.events.catalog import (
    AddonActivated,
    AddonCancellationScheduled,
    AddonCancelled,
    AddonRenewed,
    InvoicePaid,
    PaymentCaptured,
    SubscriptionActivated,
    SubscriptionCancelled,
    SubscriptionDowngraded,
    SubscriptionRenewed,
    SubscriptionUpgraded,
)
from chalicelib.events.envelope import Actor, Event
from chalicelib.invoices import repository as invoice_store
from chalicelib.invoices.models import InvoiceItem, LineItem, TokenBundlePurchaseItem
from chalicelib.payments.outcomes import Payment
from chalicelib.store.transactions import Transaction
from chalicelib.subscriptions import machine
from chalicelib.subscriptions import repository as subscription_store
from chalicelib.subscriptions.events import addon_data, subscription_data
from chalicelib.subscriptions.machine import HOLDING_STATUSES, Move
from chalicelib.subscriptions.models import AddonSubscriptionItem, SubscriptionItem
from chalicelib.subscriptions.periods import add_period
from chalicelib.subscriptions.policy import LifecyclePolicy
from chalicelib.tokens.ledger import Ledger
from chalicelib.users.models import UserItem


def plan_tokens(plan: PlanItem | None) -> int:
    """The tokens a period of the plan credits (its `default_tokens` feature)."""
    features = plan.features if plan is not None and isinstance(plan.features, dict) else {}
    return int(features.get("default_tokens", 0))


@dataclass
class Unfulfilled:
    line: LineItem
    reason: str


class LineHandler(Protocol):
    def activate(self, activation: Activation, line: LineItem, payment: Payment) -> None:
        """Deliver what the paid line sells (once: a replay finds it delivered and changes nothing)."""


LINE_HANDLERS: dict[str, LineHandler] = {}


def register_line_handler(kind: str, handler: LineHandler) -> None:
    """`kind` is the line's `item_type`, or `CUSTOM:<plugin>` for a plugin's own lines (booking)."""
    LINE_HANDLERS[kind] = handler


def line_kind(line: LineItem) -> str:
    if line.item_type == "CUSTOM":
        return f"CUSTOM:{(line.metadata or {}).get('plugin') or ''}"
    return str(line.item_type)


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

    @property
    def policy(self) -> LifecyclePolicy:
        return LifecyclePolicy.of(self.ref)

    # --- the capture -----------------------------------------------------------------------------------------

    def capture(self, payment: Payment) -> None:
        """Mark the invoice paid and activate its lines; events in the order of §6.2 rule 4."""
        invoice = self.invoice
        invoice.status = "PAID"
        invoice.paid_at = self.now
        invoice.capture_count = int(invoice.capture_count or 0) + 1
        invoice.payment_ref = payment.reference
        invoice.payment_method = payment.provider
        if payment.intent_id:
            invoice.payment_intent_id = payment.intent_id
        invoice.updated_at = self.now
        self.touch(invoice)
        amount = format_money(invoice.total_amount, self.places)
        self.events.append(
            self.event(
                PaymentCaptured(
                    invoice.id, payment.reference, amount, invoice.currency, payment.provider, payment.transaction_id
                )
            )
        )
        self.events.append(
            self.event(
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
                handler = LINE_HANDLERS.get(line_kind(line))
                if handler is not None:
                    handler.activate(self, line, payment)
        self.activated["tokens_credited"] = sum(int(e.amount) for e in self.ledger.entries if int(e.amount) > 0)

    # --- shared by the handlers --------------------------------------------------------------------------------

    def plan(self, plan_id: str) -> PlanItem:
        plan = self.ref.plan(plan_id)
        if plan is None:
            raise LookupError(f"plan {plan_id} is not in the catalog")
        return plan

    def addon(self, addon_sub: AddonSubscriptionItem) -> AddonItem:
        addon = self.ref.addon(addon_sub.addon_id)
        if addon is None:
            raise LookupError(f"add-on {addon_sub.addon_id} is not in the catalog")
        return addon

    def credit_plan_tokens(self, sub: SubscriptionItem, plan: PlanItem, line: LineItem) -> None:
        """The plan's tokens for the period `line` paid. The line keeps how many (`plan_tokens_credited`, not on the
        wire), so a refund takes back exactly what this invoice gave (§7.2), whatever the plan says later."""
        tokens = plan_tokens(plan)
        if tokens > 0:
            self.ledger.credit(tokens, "SUBSCRIPTION", sub.id, f"Plan tokens: {plan.name}")
        line.plan_tokens_credited = tokens

    def cancel_addon(self, addon_sub: AddonSubscriptionItem, reason: str) -> None:
        machine.move(addon_sub, Move.CANCEL, self.now)
        addon_sub.cancel_reason = reason
        self.touch(addon_sub)
        self.events.append(self.event(AddonCancelled(**addon_data(addon_sub, self.addon(addon_sub)), reason=reason)))

    def cancel_subscription(self, sub: SubscriptionItem, reason: str) -> None:
        """Cancel now, with the add-ons that hang on it (§5.2 is_single switch, refunds)."""
        machine.move(sub, Move.CANCEL, self.now)
        sub.cancel_reason = reason
        self.touch(sub)
        plan = self.plan(sub.tarif_plan_id)
        self.events.append(self.event(SubscriptionCancelled(**subscription_data(sub, plan), reason=reason)))
        for addon_sub in self.addon_subscriptions.values():
            if addon_sub.subscription_id == sub.id and addon_sub.status not in machine.ENDED:
                self.cancel_addon(addon_sub, reason)

    def event(self, data: Any) -> Event:
        return Event(data, self.actor, occurred_at=self.now)

    def touch(self, item: Model) -> None:
        self.changed[id(item)] = item

    # --- bookkeeping -----------------------------------------------------------------------------------------

    def unfulfilled_amount(self) -> Decimal:
        return sum((u.line.gross_amount for u in self.unfulfilled), ZERO)

    def write(self, tx: Transaction) -> None:
        """Add every changed record (new ones created, read ones on the condition of their version), the ledger
        and the events to the transaction."""
        policy = self.policy
        for item in self.changed.values():
            add, update = _writers(item, policy)
            (add if id(item) in self.created else update)(tx, item)
        tx.events.extend(self.events)
        self.ledger.write(tx)


# --- the line handlers -----------------------------------------------------------------------------------------


class SubscriptionLine:
    """SUBSCRIPTION lines: the first period (trial kept), a renewal, an upgrade (§6.2 rule 3)."""

    def activate(self, activation: Activation, line: LineItem, payment: Payment) -> None:
        sub = activation.subscriptions.get(str(line.item_id))
        if sub is None:
            return
        activation.activated["subscription"] = sub.id
        if sub.status in machine.ENDED:
            activation.unfulfilled.append(Unfulfilled(line, "subscription no longer active"))
            return
        reason = str((line.metadata or {}).get("billing_reason"))
        if reason == "RENEWAL":
            applied = self._renew(activation, line, sub)
        elif reason == "UPGRADE":
            applied = self._upgrade(activation, line, sub)
        elif machine.allowed(sub, Move.ACTIVATE):
            applied = self._first_period(activation, line, sub)
        else:
            applied = False  # already granted (an admin-created subscription) or a replay: nothing twice
        if not applied:
            return
        if payment.saved_method:
            sub.saved_payment_method = payment.saved_method
            sub.payment_method_code = payment.provider
        if sub.pending_invoice_id == activation.invoice.id:
            sub.pending_invoice_id = None
        activation.touch(sub)

    def _first_period(self, activation: Activation, line: LineItem, sub: SubscriptionItem) -> bool:
        now = activation.now
        plan = activation.plan(sub.tarif_plan_id)
        start = sub.trial_end_at if sub.status == machine.TRIALING and sub.trial_end_at else now
        machine.move(sub, Move.ACTIVATE, now)
        sub.started_at = sub.started_at or now
        sub.current_period_start = start
        sub.anchor_day = start.day
        sub.expires_at = add_period(start, plan.billing_period, start.day)
        activation.credit_plan_tokens(sub, plan, line)
        self._cancel_exclusive_conflicts(activation, sub)
        activation.events.append(
            activation.event(
                SubscriptionActivated(
                    **subscription_data(sub, plan), started_at=iso(sub.started_at), expires_at=iso(sub.expires_at)
                )
            )
        )
        return True

    def _renew(self, activation: Activation, line: LineItem, sub: SubscriptionItem) -> bool:
        metadata = line.metadata or {}
        if iso(sub.expires_at) != metadata.get("period_start"):
            # The period it bills no longer follows (the end moved while it was open): nothing to grant, so the
            # line is credited back rather than kept for nothing.
            activation.unfulfilled.append(Unfulfilled(line, "renewal period no longer follows"))
            return False
        if not machine.allowed(sub, Move.RENEW):
            return False
        plan = activation.plan(str(metadata.get("plan_id") or sub.tarif_plan_id))
        previous_plan, previous_expiry = sub.tarif_plan_id, sub.expires_at
        machine.move(sub, Move.RENEW, activation.now)
        sub.tarif_plan_id = plan.id
        sub.pending_plan_id = None
        sub.current_period_start = sub.expires_at
        # Exactly the period the invoice bills, whenever it is paid (from PAST_DUE too): no free days.
        sub.expires_at = _period_end(metadata, sub, plan.billing_period)
        sub.payment_failed_at = sub.past_due_since = sub.next_retry_at = None
        sub.dunning_attempts = 0
        sub.renewal_invoice_id = None
        activation.credit_plan_tokens(sub, plan, line)
        invoice_id = activation.invoice.id
        activation.events.append(
            activation.event(
                SubscriptionRenewed(
                    **subscription_data(sub, plan),
                    invoice_id=invoice_id,
                    previous_expires_at=iso(previous_expiry),
                    expires_at=iso(sub.expires_at),
                )
            )
        )
        if previous_plan != plan.id:
            activation.events.append(
                activation.event(
                    SubscriptionDowngraded(
                        **subscription_data(sub, plan),
                        from_plan_id=previous_plan,
                        to_plan_id=plan.id,
                        invoice_id=invoice_id,
                    )
                )
            )
        return True

    def _upgrade(self, activation: Activation, line: LineItem, sub: SubscriptionItem) -> bool:
        plan = activation.plan(str((line.metadata or {}).get("plan_id")))
        if sub.tarif_plan_id == plan.id or not machine.allowed(sub, Move.CHANGE_PLAN):
            return False
        now = activation.now
        previous_plan = sub.tarif_plan_id
        machine.move(sub, Move.CHANGE_PLAN, now)
        sub.tarif_plan_id = plan.id
        sub.pending_plan_id = None
        sub.current_period_start = now
        sub.anchor_day = now.day
        sub.expires_at = add_period(now, plan.billing_period, now.day)
        activation.credit_plan_tokens(sub, plan, line)
        self._follow_new_plan(activation, sub, plan)
        activation.events.append(
            activation.event(
                SubscriptionUpgraded(
                    **subscription_data(sub, plan),
                    from_plan_id=previous_plan,
                    to_plan_id=plan.id,
                    invoice_id=activation.invoice.id,
                )
            )
        )
        return True

    def _follow_new_plan(self, activation: Activation, sub: SubscriptionItem, plan: PlanItem) -> None:
        """After an upgrade (subscriptions.md §10): a linked recurring add-on sold only with other plans ends when
        its paid period does (scheduled for cancellation); any other stays co-terminous with the subscription, so
        the next renewal bills both for the same period. A one-time add-on, or one already ending, is untouched."""
        for addon_sub in activation.addon_subscriptions.values():
            if addon_sub.subscription_id != sub.id or addon_sub.status != machine.ACTIVE:
                continue
            if addon_sub.expires_at is None or addon_sub.cancel_at_period_end:
                continue
            addon = activation.addon(addon_sub)
            if addon.plan_ids and plan.id not in addon.plan_ids:
                machine.move(addon_sub, Move.SCHEDULE_CANCEL, activation.now)
                activation.events.append(activation.event(AddonCancellationScheduled(**addon_data(addon_sub, addon))))
            else:
                addon_sub.expires_at = sub.expires_at
                addon_sub.updated_at = activation.now
            activation.touch(addon_sub)

    def _cancel_exclusive_conflicts(self, activation: Activation, sub: SubscriptionItem) -> None:
        exclusive = set(sub.exclusive_category_ids or [])
        if not exclusive:
            return
        for other in list(activation.subscriptions.values()):
            if other.id == sub.id or other.status not in HOLDING_STATUSES:
                continue
            if exclusive.isdisjoint(other.exclusive_category_ids or []):
                continue
            activation.cancel_subscription(other, "is_single_switch")


class TokenBundleLine:
    """TOKEN_BUNDLE lines: the purchase COMPLETED and its tokens credited."""

    def activate(self, activation: Activation, line: LineItem, payment: Payment) -> None:
        purchase = activation.purchases.get(str(line.item_id))
        if purchase is None or purchase.status != "PENDING":
            return
        purchase.status = "COMPLETED"
        purchase.completed_at = activation.now
        purchase.tokens_credited = True
        activation.touch(purchase)
        amount = int(purchase.token_amount)
        activation.ledger.credit(amount, "PURCHASE", purchase.id, f"Token bundle purchase: {amount} tokens")
        activation.activated["token_bundles"].append(purchase.id)


class AddonLine:
    """ADD_ON lines: activation (co-terminous with a parent, or its own period), or a renewal's new period."""

    def activate(self, activation: Activation, line: LineItem, payment: Payment) -> None:
        addon_sub = activation.addon_subscriptions.get(str(line.item_id))
        if addon_sub is None:
            return
        metadata = line.metadata or {}
        if addon_sub.status == machine.CANCELLED:
            activation.unfulfilled.append(Unfulfilled(line, "add-on cancelled"))
            return
        if metadata.get("billing_reason") == "RENEWAL":
            self._renew(activation, line, addon_sub, payment)
            return
        if not machine.allowed(addon_sub, Move.ACTIVATE):
            return
        now = activation.now
        addon = activation.addon(addon_sub)
        machine.move(addon_sub, Move.ACTIVATE, now)
        addon_sub.starts_at = addon_sub.starts_at or now
        parent = activation.subscriptions.get(addon_sub.subscription_id or "")
        if addon.billing_period == "ONE_TIME":
            addon_sub.expires_at = None
        elif parent is not None:
            addon_sub.expires_at = parent.expires_at  # co-terminous with the parent
        else:
            addon_sub.expires_at = add_period(addon_sub.starts_at, addon.billing_period)
        if payment.saved_method and addon_sub.subscription_id is None:
            addon_sub.saved_payment_method = payment.saved_method
            addon_sub.payment_method_code = payment.provider
        activation.touch(addon_sub)
        activation.activated["add_ons"].append(addon_sub.id)
        activation.events.append(activation.event(AddonActivated(**addon_data(addon_sub, addon))))

    def _renew(
        self, activation: Activation, line: LineItem, addon_sub: AddonSubscriptionItem, payment: Payment
    ) -> None:
        metadata = line.metadata or {}
        if not metadata.get("period_end") or not machine.allowed(addon_sub, Move.RENEW):
            return
        period_end = parse_instant(str(metadata["period_end"]))
        if addon_sub.subscription_id is not None:
            # A linked add-on renews with its parent's period: applied once it ends with it.
            if addon_sub.expires_at is None or addon_sub.expires_at >= period_end:
                return
        elif iso(addon_sub.expires_at) != metadata.get("period_start"):
            return  # this period was already applied
        machine.move(addon_sub, Move.RENEW, activation.now)
        addon_sub.expires_at = period_end
        addon_sub.payment_failed_at = addon_sub.past_due_since = addon_sub.next_retry_at = None
        addon_sub.dunning_attempts = 0
        addon_sub.renewal_invoice_id = None
        if payment.saved_method and addon_sub.subscription_id is None:
            addon_sub.saved_payment_method = payment.saved_method
            addon_sub.payment_method_code = payment.provider
        activation.touch(addon_sub)
        activation.events.append(
            activation.event(
                AddonRenewed(**addon_data(addon_sub, activation.addon(addon_sub)), invoice_id=activation.invoice.id)
            )
        )


def _period_end(metadata: dict[str, Any], sub: SubscriptionItem, billing_period: str) -> datetime | None:
    """The end of the period a renewal line bills (a line without one: the next period from `expires_at`)."""
    if metadata.get("period_end"):
        return parse_instant(str(metadata["period_end"]))
    anchor = int(sub.anchor_day) if sub.anchor_day else None
    return add_period(sub.expires_at, billing_period, anchor) if sub.expires_at else None


register_line_handler("SUBSCRIPTION", SubscriptionLine())
register_line_handler("TOKEN_BUNDLE", TokenBundleLine())
register_line_handler("ADD_ON", AddonLine())
# CUSTOM lines without a plugin (proration credits) activate nothing: no handler.


Writer = Callable[[Transaction, Any], None]


def _writers(item: Model, policy: LifecyclePolicy) -> tuple[Writer, Writer]:
    """How a record an activation changed is added (new) or updated (read), through its repository."""
    if isinstance(item, InvoiceItem):
        return invoice_store.add_invoice, invoice_store.update_invoice
    if isinstance(item, TokenBundlePurchaseItem):
        return invoice_store.add_purchase, invoice_store.update_purchase
    if isinstance(item, SubscriptionItem):
        return (
            lambda tx, sub: subscription_store.add_subscription(tx, sub, policy),
            lambda tx, sub: subscription_store.update_subscription(tx, sub, policy),
        )
    if isinstance(item, AddonSubscriptionItem):
        return (
            lambda tx, addon: subscription_store.add_addon_subscription(tx, addon, policy),
            lambda tx, addon: subscription_store.update_addon_subscription(tx, addon, policy),
        )
    raise TypeError(f"an activation does not write {type(item).__name__}")
