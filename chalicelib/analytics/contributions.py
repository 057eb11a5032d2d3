"""What one source item — a subscription, an add-on subscription, an invoice, a credit note, a user, a token
balance — contributes to the analytics aggregates (admin.md §17 "Definitions").

Each kind has a *state*: the few facts about the item the aggregates depend on, kept as JSON on its contribution
record. What the item adds to the current totals is a function of its state alone, so moving from the state last
applied to the state found now moves the totals by the difference; what it adds to the daily buckets are the
transitions between the two states (paid, issued, registered, churned), each dated by the item itself. Applying a
state twice, or an older event after a newer one, therefore changes nothing: the consumer always works from the
item as it is now.

Money is in the default currency: an invoice's amounts are divided by the rate recorded on it (a line converted from
the default currency records `exchange_rate`, units of the invoice's currency per unit of the default one); an
invoice that records none is converted at the catalog's rates as they are when it is first seen.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.analytics.aggregates.models import SUBSCRIPTION_STATUSES, ZERO
from chalicelib.core.money import round_money

if TYPE_CHECKING:
    from chalicelib.catalog.pricing import Currencies
    from chalicelib.invoices.models import CreditNoteItem, InvoiceItem
    from chalicelib.subscriptions.models import AddonSubscriptionItem, SubscriptionItem
    from chalicelib.tokens.models import TokenBalanceItem
    from chalicelib.users.models import UserItem

State = dict[str, Any]
Number = int | Decimal
MRR_PLACES = 4  # each item's monthly amount is kept to 4 places; the figures are rounded to cents when answered
LIVE = ("ACTIVE", "PAST_DUE")  # the statuses that count in MRR (trials and paused ones do not)
CHURNED = ("CANCELLED", "EXPIRED")
OPEN = ("PENDING", "AUTHORIZED")  # invoices issued and not yet paid
PAID = ("PAID", "REFUNDED")  # a refunded invoice was paid first
MONTHLY_FACTOR = {
    "DAILY": Decimal(365) / Decimal(12),
    "WEEKLY": Decimal(52) / Decimal(12),
    "MONTHLY": Decimal(1),
    "QUARTERLY": Decimal(1) / Decimal(3),
    "YEARLY": Decimal(1) / Decimal(12),
}


def day_of(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d}"


def monthly(amount: Decimal, billing_period: str | None) -> Decimal:
    """`amount` billed every `billing_period`, normalised to a month (ONE_TIME and unknown periods: 0)."""
    factor = MONTHLY_FACTOR.get(billing_period or "")
    return round_money(amount * factor, MRR_PLACES) if factor is not None else ZERO


def default_rate(invoice: InvoiceItem, currencies: Currencies) -> Decimal:
    """Units of the invoice's currency per unit of the default currency, as recorded on the invoice."""
    default = currencies.default
    if invoice.currency == default.code:
        return Decimal(1)
    for line in invoice.lines:
        metadata = line.metadata or {}
        if metadata.get("original_currency") == default.code and metadata.get("exchange_rate"):
            return Decimal(str(metadata["exchange_rate"]))
    own = currencies.by_code.get(invoice.currency)
    if own is None:
        raise LookupError(f"invoice {invoice.id} is in unknown currency {invoice.currency}")
    return own.exchange_rate / default.exchange_rate


def in_default(amount: Decimal, rate: Decimal, places: int) -> Decimal:
    return round_money(amount / rate, places)


@dataclass
class Effect:
    """ADD deltas: `current[scope][attribute]`, `daily[(scope, day)][attribute]`."""

    current: dict[str, dict[str, Number]] = field(default_factory=lambda: defaultdict(dict))
    daily: dict[tuple[str, str], dict[str, Number]] = field(default_factory=lambda: defaultdict(dict))

    def add_current(self, scope: str, attribute: str, delta: Number) -> None:
        self.current[scope][attribute] = self.current[scope].get(attribute, 0) + delta

    def add_daily(self, scope: str, day: str, attribute: str, delta: Number) -> None:
        self.daily[(scope, day)][attribute] = self.daily[(scope, day)].get(attribute, 0) + delta

    def pruned(self) -> Effect:
        """Without the zero deltas (an item that did not change moves nothing)."""
        pruned = Effect()
        for scope, deltas in self.current.items():
            for attribute, delta in deltas.items():
                if delta:
                    pruned.add_current(scope, attribute, delta)
        for (scope, day), deltas in self.daily.items():
            for attribute, delta in deltas.items():
                if delta:
                    pruned.add_daily(scope, day, attribute, delta)
        return pruned

    @property
    def empty(self) -> bool:
        return not self.current and not self.daily


def _dec(state: State, name: str) -> Decimal:
    return Decimal(str(state.get(name) or "0"))


def _current(effect: Effect, state: State, sign: int, holds: Any) -> None:
    for scope, attribute, amount in holds(state):
        effect.add_current(scope, attribute, amount * sign)


def change(old: State, new: State, holds: Any, flows: Any) -> Effect:
    """The totals move by what the new state holds minus what the old one held, plus the old→new transitions."""
    effect = Effect()
    _current(effect, old, -1, holds)
    _current(effect, new, 1, holds)
    flows(effect, old, new)
    return effect.pruned()


# --- subscriptions --------------------------------------------------------------------------------------------


def subscription_state(sub: SubscriptionItem, previous: State, plan_price_monthly: Decimal) -> State:
    """`previous` carries what invoices told about the subscription (`paid_line`: its latest paid line)."""
    paid_line = previous.get("paid_line")
    mrr = Decimal(paid_line["monthly"]) if paid_line else plan_price_monthly
    live = sub.status in LIVE
    ever_active = bool(previous.get("ever_active")) or live
    churned = previous.get("churned")
    if live:
        churned = None
    elif sub.status in CHURNED and ever_active and churned is None:
        churned = sub.status
    return {
        "plan_id": sub.tarif_plan_id,
        "status": sub.status,
        "mrr": f"{mrr if live else ZERO:f}",
        "live": live,
        "ever_active": ever_active,
        "churned": churned,
        "paid_line": paid_line,
        "day": day_of(sub.updated_at),
    }


def _subscription_holds(state: State) -> list[tuple[str, str, Number]]:
    status = state.get("status")
    if status not in SUBSCRIPTION_STATUSES:
        return []
    plan = f"PLAN#{state['plan_id']}"
    mrr = _dec(state, "mrr")
    return [(plan, str(status), 1), ("TOTALS", str(status), 1), (plan, "mrr", mrr), ("TOTALS", "mrr", mrr)]


def _subscription_flows(effect: Effect, old: State, new: State) -> None:
    day = str(new["day"])
    if bool(old.get("live")) != bool(new.get("live")):
        effect.add_daily("ALL", day, "live_delta", 1 if new.get("live") else -1)
    if new.get("churned") and not old.get("churned"):
        attribute = "cancelled" if new["churned"] == "CANCELLED" else "expired"
        effect.add_daily("ALL", day, attribute, 1)
        effect.add_daily(f"PLAN#{new['plan_id']}", day, attribute, 1)


def subscription_change(old: State, new: State) -> Effect:
    return change(old, new, _subscription_holds, _subscription_flows)


# --- add-on subscriptions ---------------------------------------------------------------------------------------


def addon_state(addon_sub: AddonSubscriptionItem, previous: State, price_monthly: Decimal) -> State:
    paid_line = previous.get("paid_line")
    mrr = Decimal(paid_line["monthly"]) if paid_line else price_monthly
    active = addon_sub.status == "ACTIVE"
    return {"status": addon_sub.status, "mrr": f"{mrr if active else ZERO:f}", "paid_line": paid_line}


def _addon_holds(state: State) -> list[tuple[str, str, Number]]:
    return [("TOTALS", "addons_mrr", _dec(state, "mrr"))] if state.get("status") else []


def addon_change(old: State, new: State) -> Effect:
    return change(old, new, _addon_holds, lambda *_: None)


# --- invoices -------------------------------------------------------------------------------------------------


def invoice_state(invoice: InvoiceItem, rate: Decimal, places: int) -> State:
    deleted = invoice.deleted_at is not None
    paid = invoice.status in PAID and invoice.paid_at is not None
    return {
        "open": invoice.status in OPEN and not deleted,
        "paid": paid,
        "paid_day": day_of(invoice.paid_at) if paid and invoice.paid_at else None,
        "currency": invoice.currency,
        "plan_id": invoice.tarif_plan_id,
        "total": f"{invoice.total_amount:f}",
        "tax": f"{invoice.tax_amount:f}",
        "total_default": f"{in_default(invoice.total_amount, rate, places):f}",
        "tax_default": f"{in_default(invoice.tax_amount, rate, places):f}",
    }


def _invoice_holds(state: State) -> list[tuple[str, str, Number]]:
    if not state.get("open"):
        return []
    return [("TOTALS", "open_invoices", 1), ("TOTALS", "open_amount", _dec(state, "total_default"))]


def _invoice_flows(effect: Effect, old: State, new: State) -> None:
    if not new.get("paid") or old.get("paid"):
        return
    day = str(new["paid_day"])
    scopes = [("ALL", "total_default", "tax_default"), (f"CUR#{new['currency']}", "total", "tax")]
    if new.get("plan_id"):
        scopes.append((f"PLAN#{new['plan_id']}", "total_default", "tax_default"))
    for scope, total, tax in scopes:
        effect.add_daily(scope, day, "gross", _dec(new, total))
        effect.add_daily(scope, day, "tax", _dec(new, tax))
        effect.add_daily(scope, day, "invoices_paid", 1)


def invoice_change(old: State, new: State) -> Effect:
    return change(old, new, _invoice_holds, _invoice_flows)


def paid_lines(invoice: InvoiceItem, rate: Decimal) -> list[tuple[str, str, State]]:
    """(item type, holder id, `paid_line`) of each SUBSCRIPTION and ADD_ON line of a paid invoice: its net amount
    in the default currency normalised to a month, and when it was paid (the latest paid line wins)."""
    if invoice.status not in PAID or invoice.paid_at is None:
        return []
    found = []
    for line in invoice.lines:
        if line.item_type not in ("SUBSCRIPTION", "ADD_ON") or not line.item_id:
            continue
        period = (line.metadata or {}).get("billing_period")
        amount = monthly(line.net_amount / rate, period)
        found.append(
            (line.item_type, str(line.item_id), {"monthly": f"{amount:f}", "paid_at": invoice.paid_at.isoformat()})
        )
    return found


def later_line(previous: State | None, candidate: State) -> bool:
    return previous is None or str(candidate["paid_at"]) >= str(previous["paid_at"])


# --- credit notes ---------------------------------------------------------------------------------------------


def credit_note_state(note: CreditNoteItem, rate: Decimal, places: int) -> State:
    return {
        "issued": True,
        "day": day_of(note.created_at),
        "currency": note.currency,
        "amount": f"{note.amount:f}",
        "amount_default": f"{in_default(note.amount, rate, places):f}",
    }


def _note_flows(effect: Effect, old: State, new: State) -> None:
    if new.get("issued") and not old.get("issued"):
        effect.add_daily("ALL", str(new["day"]), "refunds", _dec(new, "amount_default"))
        effect.add_daily(f"CUR#{new['currency']}", str(new["day"]), "refunds", _dec(new, "amount"))


def credit_note_change(old: State, new: State) -> Effect:
    return change(old, new, lambda _: [], _note_flows)


# --- users and token balances ----------------------------------------------------------------------------------


def user_state(user: UserItem | None, previous: State, today: str) -> State:
    counted = user is not None and user.status != "DELETED"
    created = day_of(user.created_at) if user is not None else previous.get("created_day", today)
    gone = None
    if not counted and previous.get("counted"):
        gone = day_of(user.updated_at) if user is not None else today
    return {"counted": counted, "created_day": created, "gone_day": gone or previous.get("gone_day")}


def _user_holds(state: State) -> list[tuple[str, str, Number]]:
    return [("TOTALS", "users", 1)] if state.get("counted") else []


def _user_flows(effect: Effect, old: State, new: State) -> None:
    if new.get("counted") and not old.get("counted"):
        effect.add_daily("ALL", str(new["created_day"]), "new_users", 1)
    if old.get("counted") and not new.get("counted"):
        effect.add_daily("ALL", str(new["gone_day"]), "gone_users", 1)


def user_change(old: State, new: State) -> Effect:
    return change(old, new, _user_holds, _user_flows)


def balance_state(balance: TokenBalanceItem | None) -> State:
    return {"tokens": int(balance.balance) if balance is not None else 0}


def balance_change(old: State, new: State) -> Effect:
    return change(old, new, lambda s: [("TOTALS", "tokens", int(s.get("tokens") or 0))], lambda *_: None)
