"""The `analytics` consumer (admin.md §17; events.md §2): keeps the aggregates as invoices are paid and refunded,
subscriptions and add-ons start, change and end, users register or leave and token balances move.

An event only names the item it is about; the consumer reads that item as it is now (one GetItem, or the one
consistent Query of an invoice's partition) and records what the item contributes (`chalicelib.analytics
.contributions`) against what it contributed before — so a redelivered, duplicated or late event moves nothing
twice, and the dispatch receipt only saves the reads. Each contribution and the ADDs it makes are one transaction
on the contribution's version; a lost race is read and decided again.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from chalicelib.analytics import contributions as c
from chalicelib.analytics.aggregates import repository
from chalicelib.analytics.aggregates.models import ZERO
from chalicelib.catalog.pricing import Currencies
from chalicelib.catalog.repository import Reference, reference
from chalicelib.core import clock
from chalicelib.core.times import parse_instant
from chalicelib.invoices.repository import invoice_records
from chalicelib.store.retry import retrying
from chalicelib.subscriptions.repository import addon_subscription_of, subscription_of
from chalicelib.tokens.repository import balance_of
from chalicelib.users.repository import find_user

# The events it hears (chalicelib.events.consumers names them again, so that table stays cheap to import).
EVENT_TYPES = (
    "user.registered",
    "invoice.created",
    "invoice.paid",
    "invoice.voided",
    "invoice.refunded",
    "credit_note.created",
    "subscription.created",
    "subscription.trial_started",
    "subscription.activated",
    "subscription.renewed",
    "subscription.upgraded",
    "subscription.downgraded",
    "subscription.plan_changed",
    "subscription.cancelled",
    "subscription.cancellation_scheduled",
    "subscription.reactivated",
    "subscription.expired",
    "subscription.paused",
    "subscription.resumed",
    "subscription.past_due",
    "subscription.extended",
    "addon.activated",
    "addon.cancelled",
    "addon.renewed",
    "addon.expired",
    "tokens.credited",
    "tokens.debited",
    "user.deleted",
    "invoice.released",
    "refund.reversed",
)


def handle_event(envelope: dict[str, Any]) -> None:
    event_type = str(envelope["type"])
    data: dict[str, Any] = dict(envelope.get("data") or {})
    if event_type.startswith("subscription."):
        apply_subscription(str(data["user_id"]), str(data["subscription_id"]))
    elif event_type.startswith("addon."):
        apply_addon(str(data["user_id"]), str(data["addon_subscription_id"]))
    elif event_type.startswith(("invoice.", "credit_note.")) or event_type == "refund.reversed":
        apply_invoice(str(data["invoice_id"]))
    elif event_type.startswith("user."):
        occurred = envelope.get("occurred_at")
        apply_user(str(data["user_id"]), parse_instant(str(occurred)) if occurred else clock.now())
    elif event_type.startswith("tokens."):
        apply_balance(str(data["user_id"]))


def _catalog_monthly(ref: Reference, price: Decimal, currency: str, billing_period: str) -> Decimal:
    currencies = Currencies.of(ref.currencies)
    return c.monthly(currencies.convert(price, currency, currencies.default), billing_period)


def _record(kind: str, item_id: str, decide: Any, effect_of: Any) -> None:
    """Read the contribution, let `decide(old state)` give the state now (None: nothing to record), and record
    it with the effect of the change; refused because another delivery recorded first: again from the reads."""

    def step() -> None:
        previous = repository.contribution(kind, item_id)
        old: c.State = dict(previous.state) if previous is not None else {}
        decided = decide(old)
        if decided is None:
            return
        source_version, new = decided
        if new == old:
            return
        repository.record(kind, item_id, previous, source_version, new, effect_of(old, new), clock.now())

    retrying(step)


def _apply_holding(
    kind: str, item_id: str, read: Any, priced_by: Any, state_of: Any, effect_of: Any, paid_line: c.State | None
) -> None:
    """A subscription or add-on subscription: its state from the item as read now, the latest paid line known
    (carried on its contribution, or the one an invoice just told), and its catalog item's price as a fallback."""

    def decide(old: c.State) -> tuple[int, c.State] | None:
        item = read()
        if item is None:
            return None
        carried = dict(old)
        if paid_line is not None and c.later_line(old.get("paid_line"), paid_line):
            carried["paid_line"] = paid_line
        ref = reference()
        priced = priced_by(ref, item)
        price = _catalog_monthly(ref, priced.price, priced.currency, priced.billing_period) if priced else ZERO
        return int(item.version or 0), state_of(item, carried, price)

    _record(kind, item_id, decide, effect_of)


def apply_subscription(user_id: str, subscription_id: str, paid_line: c.State | None = None) -> None:
    _apply_holding(
        "SUB",
        subscription_id,
        lambda: subscription_of(user_id, subscription_id),
        lambda ref, sub: ref.plan(sub.tarif_plan_id),
        c.subscription_state,
        c.subscription_change,
        paid_line,
    )


def apply_addon(user_id: str, addon_subscription_id: str, paid_line: c.State | None = None) -> None:
    _apply_holding(
        "ADDON",
        addon_subscription_id,
        lambda: addon_subscription_of(user_id, addon_subscription_id),
        lambda ref, addon_sub: ref.addon(addon_sub.addon_id),
        c.addon_state,
        c.addon_change,
        paid_line,
    )


def apply_invoice(invoice_id: str) -> None:
    """The invoice (open, paid), each of its credit notes, and the subscriptions and add-ons its paid lines bill."""
    records = invoice_records(invoice_id)
    if records is None:  # deleted (unpaid only): it is open no more
        _record("INVOICE", invoice_id, lambda old: (0, {**old, "open": False}) if old else None, c.invoice_change)
        return
    invoice = records.invoice
    currencies = Currencies.of(reference().currencies)
    rate = c.default_rate(invoice, currencies)
    places = currencies.places(currencies.default.code)
    state = c.invoice_state(invoice, rate, places)
    _record("INVOICE", invoice_id, lambda old: (int(invoice.version or 0), state), c.invoice_change)
    for note in records.credit_notes:
        note_state = c.credit_note_state(note, rate, places)
        _record("NOTE", note.id, lambda old, s=note_state: (0, s), c.credit_note_change)
    for item_type, holder_id, line in c.paid_lines(invoice, rate):
        if item_type == "SUBSCRIPTION":
            apply_subscription(invoice.user_id, holder_id, line)
        else:
            apply_addon(invoice.user_id, holder_id, line)


def apply_user(user_id: str, when: datetime) -> None:
    def decide(old: c.State) -> tuple[int, c.State]:
        user = find_user(user_id)
        return int(user.version or 0) if user else 0, c.user_state(user, old, c.day_of(when))

    _record("USER", user_id, decide, c.user_change)


def apply_balance(user_id: str) -> None:
    def decide(old: c.State) -> tuple[int, c.State]:
        balance = balance_of(user_id)
        return int(balance.version or 0) if balance else 0, c.balance_state(balance)

    _record("BALANCE", user_id, decide, c.balance_change)
