"""What a full refund undoes on every line of its invoice (contract checkout-and-payments.md §7.2 table), and what a
refund reversal restores (§7.4).

Each line is reversed by the handler registered for its kind (`REVERSAL_HANDLERS`, keyed like the capture's
`LINE_HANDLERS`: `TOKEN_BUNDLE`, `SUBSCRIPTION`, `ADD_ON`, or `CUSTOM:<plugin>` — booking registers its own). A
handler works on the capture's `Activation` (the objects one Query and one BatchGetItem loaded), changes them in
place through the state machine and the ledger, and notes what it did in the refund's `Reversals`; the credit note
keeps that record, so a reversal undoes exactly what the refund did and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.invoices.models import LineItem
from chalicelib.payments.activation import Activation, line_kind, plan_tokens
from chalicelib.subscriptions import machine
from chalicelib.subscriptions.machine import Move
from chalicelib.subscriptions.models import SubscriptionItem
from chalicelib.subscriptions.periods import add_period

REASON = "refund"


@dataclass
class Reversals:
    """What one full refund reversed; stored on its credit note (`as_record`)."""

    purchases: list[str] = field(default_factory=list)
    subscriptions: list[str] = field(default_factory=list)
    addons: list[str] = field(default_factory=list)
    tokens: list[dict[str, Any]] = field(default_factory=list)  # {"reference_id", "type", "amount" taken}

    def as_record(self) -> dict[str, Any]:
        return {
            "purchases": self.purchases,
            "subscriptions": self.subscriptions,
            "addons": self.addons,
            "tokens": self.tokens,
        }

    @classmethod
    def of(cls, record: dict[str, Any] | None) -> Reversals:
        record = record or {}
        return cls(
            list(record.get("purchases", [])),
            list(record.get("subscriptions", [])),
            list(record.get("addons", [])),
            list(record.get("tokens", [])),
        )

    def take_tokens(self, activation: Activation, amount: int, transaction_type: str, reference_id: str) -> None:
        if amount > 0:
            taken = activation.ledger.take_back(amount, reference_id)
            self.tokens.append({"reference_id": reference_id, "type": transaction_type, "amount": taken})


class LineReversal(Protocol):
    def reverse(self, activation: Activation, line: LineItem, done: Reversals) -> None:
        """Undo what the paid line delivered (a line already undone, or never delivered, is left alone)."""


REVERSAL_HANDLERS: dict[str, LineReversal] = {}


def register_reversal_handler(kind: str, handler: LineReversal) -> None:
    """`kind` is the line's `item_type`, or `CUSTOM:<plugin>` for a plugin's own lines (booking, issue 11)."""
    REVERSAL_HANDLERS[kind] = handler


def reverse_lines(activation: Activation) -> Reversals:
    """Reverse every line of a fully refunded invoice. A MANUAL invoice activated nothing (admin.md §9.3), so its
    refund reverses nothing either."""
    done = Reversals()
    if activation.invoice.billing_reason == "MANUAL":
        return done
    for line in activation.invoice.lines:
        handler = REVERSAL_HANDLERS.get(line_kind(line))
        if handler is not None:
            handler.reverse(activation, line, done)
    return done


class TokenBundleReversal:
    def reverse(self, activation: Activation, line: LineItem, done: Reversals) -> None:
        purchase = activation.purchases.get(str(line.item_id))
        if purchase is None or purchase.status != "COMPLETED":
            return
        purchase.status = "REFUNDED"
        activation.touch(purchase)
        done.purchases.append(purchase.id)
        done.take_tokens(activation, int(purchase.token_amount), "PURCHASE", purchase.id)


class SubscriptionReversal:
    def reverse(self, activation: Activation, line: LineItem, done: Reversals) -> None:
        sub = activation.subscriptions.get(str(line.item_id))
        if sub is None:
            return
        before = {a.id: a.status for a in activation.addon_subscriptions.values()}
        if sub.status not in machine.ENDED:
            activation.cancel_subscription(sub, REASON)
            done.subscriptions.append(sub.id)
            done.addons += [a.id for a in activation.addon_subscriptions.values() if a.status != before[a.id]]
        credited = line.plan_tokens_credited  # what this invoice's capture gave (older lines: the plan's)
        if credited is None:
            plan_id = (line.metadata or {}).get("plan_id") or sub.tarif_plan_id
            credited = plan_tokens(activation.ref.plan(str(plan_id)))
        done.take_tokens(activation, int(credited), "SUBSCRIPTION", sub.id)


class AddonReversal:
    def reverse(self, activation: Activation, line: LineItem, done: Reversals) -> None:
        addon_sub = activation.addon_subscriptions.get(str(line.item_id))
        if addon_sub is None or addon_sub.status in machine.ENDED:
            return
        activation.cancel_addon(addon_sub, REASON)
        done.addons.append(addon_sub.id)


register_reversal_handler("TOKEN_BUNDLE", TokenBundleReversal())
register_reversal_handler("SUBSCRIPTION", SubscriptionReversal())
register_reversal_handler("ADD_ON", AddonReversal())


def restore(activation: Activation, done: Reversals) -> None:
    """Undo a full refund's reversals (§7.4): bundle purchases COMPLETED and the tokens taken re-credited, a
    subscription it cancelled ACTIVE again with a fresh period from now, its add-ons ACTIVE. Bookings are not
    restored (their slots may be taken)."""
    now = activation.now
    for purchase_id in done.purchases:
        purchase = activation.purchases.get(purchase_id)
        if purchase is not None and purchase.status == "REFUNDED":
            purchase.status = "COMPLETED"
            activation.touch(purchase)
    for entry in done.tokens:
        if int(entry["amount"]) > 0:
            activation.ledger.give_back(int(entry["amount"]), str(entry["type"]), str(entry["reference_id"]))
    for sub_id in done.subscriptions:
        sub = activation.subscriptions.get(sub_id)
        if sub is not None and machine.allowed(sub, Move.REINSTATE):
            _reinstate(activation, sub)
    for addon_id in done.addons:
        addon_sub = activation.addon_subscriptions.get(addon_id)
        if addon_sub is not None and machine.allowed(addon_sub, Move.REINSTATE):
            machine.move(addon_sub, Move.REINSTATE, now)
            addon_sub.cancelled_at = addon_sub.cancel_reason = None
            parent = activation.subscriptions.get(addon_sub.subscription_id or "")
            if parent is not None and addon_sub.expires_at is not None:
                addon_sub.expires_at = parent.expires_at
            activation.touch(addon_sub)


def _reinstate(activation: Activation, sub: SubscriptionItem) -> None:
    now = activation.now
    plan = activation.plan(sub.tarif_plan_id)
    machine.move(sub, Move.REINSTATE, now)
    sub.cancelled_at = sub.cancel_reason = None
    sub.current_period_start = now
    sub.anchor_day = now.day
    sub.expires_at = add_period(now, plan.billing_period, now.day)
    activation.touch(sub)
