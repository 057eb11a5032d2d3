"""The analytics figures (admin.md §17) against a recompute from the raw items, and the aggregates' exactly-once.

The recompute test runs a month of a small business on a moved clock — checkouts, captures, a trial, an unpaid
checkout, an add-on, a renewal charged to a saved card, a refund, a cancellation, signups — delivering the events as
the worker does, then recomputes every figure of every route from the raw items (users, subscriptions, add-on
subscriptions, invoices, credit notes, balances, read through the repositories) and compares them exactly. The
refund pipeline (issue 8, A4) is not on this branch: the test issues the credit note and emits `invoice.refunded`
and `credit_note.created` through the outbox itself, in one transaction, as that pipeline will.

The seed writes its users and purchases at the machine's time and without events, so the scenario starts a month
after the machine's today, once `reconcile_all` has taken the seeded items in.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.analytics import consumer
from chalicelib.analytics.reconcile import reconcile_all
from chalicelib.catalog.repository import reference
from chalicelib.core import clock
from chalicelib.core.clock import ManualClock
from chalicelib.core.money import round_money
from chalicelib.events.catalog import CreditNoteCreated, InvoiceRefunded
from chalicelib.events.envelope import Actor, Event
from chalicelib.invoices import repository as invoices
from chalicelib.invoices.credit_notes import issue_credit_note
from chalicelib.invoices.models import InvoiceItem
from chalicelib.jobs import run
from chalicelib.store.numbering import commit_numbered
from chalicelib.store.transactions import Transaction
from chalicelib.subscriptions.repository import holdings_of
from chalicelib.tokens.repository import balance_of
from chalicelib.users.models import UserItem, user_key
from chalicelib.users.repository import all_user_ids
from tests.integration.buyers import register_buyer
from tests.integration.conftest import ADMIN, Api, drain_events
from tests.integration.holders import Holder

BASE = "/api/v1/admin/analytics"
T0 = datetime.combine(datetime.now(UTC).date() + timedelta(days=31), time(9, 0), tzinfo=UTC)


def settle() -> None:
    """What the worker does: relay the outbox and drain every queue, twice (consumers emit events of their own)."""
    drain_events()
    drain_events()


def get(api: Api, path: str) -> Any:
    answer = api.get(f"{BASE}/{path}", token=api.token(*ADMIN))
    assert answer.status == 200, answer.json
    return answer.json


# --- exactly once -------------------------------------------------------------------------------------------------


def test_an_event_delivered_again_or_late_counts_once(fresh_api: Api, manual_clock: ManualClock) -> None:
    manual_clock.set(T0)
    holder = Holder(fresh_api, "twice")
    sub = holder.subscribe("basic")
    settle()
    day = f"from={T0.date()}&to={T0.date()}"
    before = {route: get(fresh_api, f"{route}?{day}") for route in ("dashboard", "revenue", "users/growth")}
    assert before["revenue"]["invoices_paid"] == 1

    for _ in range(2):  # the same items again, as a redelivery or a late event would name them
        consumer.apply_subscription(holder.user_id, sub["id"])
        consumer.apply_invoice(_paid_invoice(holder.user_id).id)
        consumer.apply_user(holder.user_id, clock.now())
        consumer.apply_balance(holder.user_id)

    assert {route: get(fresh_api, f"{route}?{day}") for route in before} == {
        route: {**body, **({"as_of": body["as_of"]} if "as_of" in body else {})} for route, body in before.items()
    }


def _paid_invoice(user_id: str) -> InvoiceItem:
    return next(i for i in invoices.invoices_of(user_id) if i.status == "PAID")


# --- the recompute test -------------------------------------------------------------------------------------------


def refund(invoice_id: str, amount: Decimal) -> None:
    """A partial refund as the refund pipeline records it: the credit note, the invoice's `amount_refunded` and
    both events, in one transaction."""

    def build(tx: Transaction) -> None:
        records = invoices.invoice_records(invoice_id)
        assert records is not None
        invoice, now = records.invoice, clock.now()
        note = issue_credit_note(
            tx,
            invoice,
            amount,
            reason="requested_by_customer",
            provider=None,
            refund_reference=None,
            full_refund=False,
            prefix="CN",
            places=2,
            now=now,
        )
        invoice.amount_refunded = invoice.amount_refunded + amount
        invoices.update_invoice(tx, invoice)
        money = {"amount": f"{amount:f}", "currency": invoice.currency}
        refunded = InvoiceRefunded(
            invoice.id, invoice.invoice_number, invoice.user_id, **money, refund_reference=None,
            credit_note_id=note.id, full=False,
        )  # fmt: skip
        created = CreditNoteCreated(
            note.id, note.credit_note_number, invoice.id, invoice.user_id, **money, reason="requested_by_customer"
        )
        tx.events += [Event(refunded, Actor("admin", None), occurred_at=now), Event(created, Actor.system())]

    commit_numbered(build)


@dataclass
class World:
    """Every raw item of the account, read through the repositories (and the users' list index)."""

    users: list[UserItem] = field(default_factory=list)
    subscriptions: list[Any] = field(default_factory=list)
    addons: list[Any] = field(default_factory=list)
    invoices: list[InvoiceItem] = field(default_factory=list)
    notes: list[Any] = field(default_factory=list)
    tokens: int = 0

    @classmethod
    def read(cls) -> World:
        world = cls()
        for user_id in all_user_ids():
            user = UserItem.get(*user_key(user_id), consistent_read=True)
            world.users.append(user)
            subscriptions, addons = holdings_of(user_id)
            world.subscriptions += subscriptions
            world.addons += addons
            for invoice in invoices.invoices_of(user_id):
                records = invoices.invoice_records(invoice.id)
                if records is not None:
                    world.invoices.append(records.invoice)
                    world.notes += records.credit_notes
            balance = balance_of(user_id)
            world.tokens += int(balance.balance) if balance else 0
        return world

    def live(self) -> int:
        return sum(1 for s in self.subscriptions if s.status in ("ACTIVE", "PAST_DUE"))


def _monthly(amount: Decimal, period: str) -> Decimal:
    factors = {"DAILY": Decimal(365) / 12, "WEEKLY": Decimal(52) / 12, "MONTHLY": 1, "QUARTERLY": Decimal(1) / 3}
    factors["YEARLY"] = Decimal(1) / 12
    return round_money(amount * factors[period], 4) if period in factors else Decimal(0)


def _latest_paid_line(world: World, item_type: str, holder_id: str) -> Any:
    paid = [
        (invoice.paid_at, line)
        for invoice in world.invoices
        if invoice.status in ("PAID", "REFUNDED") and invoice.paid_at is not None
        for line in invoice.lines
        if line.item_type == item_type and line.item_id == holder_id
    ]
    return max(paid, key=lambda pair: pair[0])[1] if paid else None


def expected_mrr(world: World) -> tuple[Decimal, Decimal, dict[str, tuple[int, Decimal]]]:
    """MRR by the §17 definition, from the items alone (every amount here is in EUR, the default currency)."""
    ref = reference()
    per_plan: dict[str, tuple[int, Decimal]] = {}
    for sub in world.subscriptions:
        if sub.status not in ("ACTIVE", "PAST_DUE"):
            continue
        plan = ref.plan(sub.tarif_plan_id)
        line = _latest_paid_line(world, "SUBSCRIPTION", sub.id)
        amount = (
            _monthly(line.net_amount, line.metadata["billing_period"])
            if line
            else _monthly(plan.price, plan.billing_period)
        )
        count, total = per_plan.get(sub.tarif_plan_id, (0, Decimal(0)))
        per_plan[sub.tarif_plan_id] = (count + 1, total + amount)
    addons = Decimal(0)
    for addon_sub in world.addons:
        if addon_sub.status != "ACTIVE":
            continue
        addon = ref.addon(addon_sub.addon_id)
        line = _latest_paid_line(world, "ADD_ON", addon_sub.id)
        addons += (
            _monthly(line.net_amount, line.metadata["billing_period"])
            if line
            else _monthly(addon.price, addon.billing_period)
        )
    return sum((t for _, t in per_plan.values()), start=Decimal(0)), addons, per_plan


def money(amount: Decimal) -> str:
    return f"{round_money(amount, 2):f}"


def days_of(first: date, last: date) -> list[str]:
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def expected_figures(world: World, first: date, last: date, live_at_start: int) -> dict[str, Any]:
    days = days_of(first, last)
    gross: Counter[str] = Counter()
    tax: Counter[str] = Counter()
    paid: Counter[str] = Counter()
    for invoice in world.invoices:
        if invoice.status in ("PAID", "REFUNDED") and invoice.paid_at is not None:
            day = invoice.paid_at.date().isoformat()
            gross[day] += invoice.total_amount  # type: ignore[assignment]
            tax[day] += invoice.tax_amount  # type: ignore[assignment]
            paid[day] += 1
    refunds: Counter[str] = Counter()
    for note in world.notes:
        refunds[note.created_at.date().isoformat()] += note.amount  # type: ignore[assignment]
    counted = [u for u in world.users if u.status != "DELETED"]
    new_users = Counter(u.created_at.date().isoformat() for u in counted)
    churned = Counter(
        s.status
        for s in world.subscriptions
        if s.status in ("CANCELLED", "EXPIRED")
        and s.started_at is not None
        and s.trial_end_at is None
        and first.isoformat() <= s.updated_at.date().isoformat() <= last.isoformat()
    )
    mrr, addons_mrr, per_plan = expected_mrr(world)
    total_mrr = round_money(mrr + addons_mrr, 2)
    rate = Decimal(sum(churned.values())) / live_at_start if live_at_start else Decimal(0)
    open_invoices = [i for i in world.invoices if i.status in ("PENDING", "AUTHORIZED")]
    range_gross = sum((Decimal(gross[d]) for d in days), start=Decimal(0))
    range_refunds = sum((Decimal(refunds[d]) for d in days), start=Decimal(0))
    statuses = Counter(s.status for s in world.subscriptions)
    distribution = Counter(
        s.tarif_plan_id for s in world.subscriptions if s.status in ("TRIALING", "ACTIVE", "PAST_DUE", "PAUSED")
    )
    return {
        "dashboard": {
            "mrr": money(total_mrr),
            "arr": money(total_mrr * 12),
            "active_subscriptions": statuses["ACTIVE"],
            "trialing_subscriptions": statuses["TRIALING"],
            "past_due_subscriptions": statuses["PAST_DUE"],
            "total_users": len(counted),
            "new_users": sum(new_users[d] for d in days),
            "revenue": money(range_gross),
            "refunds": money(range_refunds),
            "net_revenue": money(range_gross - range_refunds),
            "churn_rate": f"{round_money(rate, 4):f}",
            "open_invoices": {
                "count": len(open_invoices),
                "amount": money(sum((i.total_amount for i in open_invoices), start=Decimal(0))),
            },
            "tokens_outstanding": world.tokens,
        },
        "mrr": {
            "mrr": money(total_mrr),
            "subscriptions": world.live(),
            "addons_mrr": money(addons_mrr),
            "breakdown": {plan: (count, money(total)) for plan, (count, total) in per_plan.items()},
        },
        "revenue": {
            "gross": money(range_gross),
            "tax": money(sum((Decimal(tax[d]) for d in days), start=Decimal(0))),
            "refunds": money(range_refunds),
            "invoices_paid": sum(paid[d] for d in days),
            "by_day": [
                {
                    "date": d,
                    "gross": money(Decimal(gross[d])),
                    "tax": money(Decimal(tax[d])),
                    "refunds": money(Decimal(refunds[d])),
                    "net": money(Decimal(gross[d]) - Decimal(refunds[d])),
                    "invoices_paid": paid[d],
                }
                for d in days
            ],
        },
        "growth": [
            {
                "date": d,
                "new_users": new_users[d],
                "total_users": sum(1 for u in counted if u.created_at.date().isoformat() <= d),
            }
            for d in days
        ],
        "churn": {
            "active_at_start": live_at_start,
            "churned": sum(churned.values()),
            "cancelled": churned["CANCELLED"],
            "expired": churned["EXPIRED"],
            "churn_rate": f"{round_money(rate, 4):f}",
        },
        "distribution": dict(distribution),
    }


def assert_routes_match(api: Api, world: World, first: date, last: date, live_at_start: int) -> None:
    expected = expected_figures(world, first, last, live_at_start)
    query = f"from={first.isoformat()}&to={last.isoformat()}"

    dashboard = get(api, f"dashboard?{query}")
    assert {k: v for k, v in dashboard.items() if k not in ("currency", "as_of")} == expected["dashboard"]
    assert dashboard["currency"] == "EUR"

    mrr = get(api, f"mrr?{query}")
    assert {k: mrr[k] for k in ("mrr", "subscriptions", "addons_mrr")} == {
        k: expected["mrr"][k] for k in ("mrr", "subscriptions", "addons_mrr")
    }
    assert mrr["arr"] == expected["dashboard"]["arr"]
    assert {p["plan_id"]: (p["subscriptions"], p["mrr"]) for p in mrr["breakdown"]} == expected["mrr"]["breakdown"]

    revenue = get(api, f"revenue?{query}")
    assert {k: revenue[k] for k in ("gross", "tax", "refunds", "invoices_paid", "by_day")} == {
        k: expected["revenue"][k] for k in ("gross", "tax", "refunds", "invoices_paid", "by_day")
    }
    assert Decimal(revenue["net"]) == Decimal(revenue["gross"]) - Decimal(revenue["refunds"])

    growth = get(api, f"users/growth?{query}")
    assert growth["by_day"] == expected["growth"]
    assert growth["total_users"] == expected["growth"][-1]["total_users"]
    assert growth["new_users"] == expected["dashboard"]["new_users"]

    churn = get(api, f"churn?{query}")
    assert {k: v for k, v in churn.items() if k not in ("from", "to", "churn_rate_percent")} == expected["churn"]

    distribution = get(api, "plans/distribution")
    assert {p["plan_id"]: p["subscriptions"] for p in distribution["plans"]} == expected["distribution"]
    assert distribution["total"] == sum(expected["distribution"].values())
    counts = [p["subscriptions"] for p in distribution["plans"]]
    assert counts == sorted(counts, reverse=True)


def live_at(world: World, moment: datetime) -> int:
    """Subscriptions ACTIVE or PAST_DUE at `moment`, read at that moment (those created later did not exist)."""
    return sum(1 for s in world.subscriptions if s.status in ("ACTIVE", "PAST_DUE") and s.created_at < moment)


def test_every_figure_equals_its_recompute_from_the_raw_items(fresh_api: Api, manual_clock: ManualClock) -> None:
    api = fresh_api
    manual_clock.set(T0)
    reconcile_all()  # the seed writes users and purchases without events
    live_on_day_1 = live_at(World.read(), T0.replace(hour=0))

    # day 1: signups and purchases
    renewing = Holder(api, "renewing")
    renewing.subscribe("basic", saved=True)
    leaving = Holder(api, "leaving")
    leaving_sub = leaving.subscribe("pro")
    Holder(api, "yearly").subscribe("basic-yearly", addons=("extra-storage-50gb", "extra-seats-yearly"))
    Holder(api, "trial").subscribe("pro", trial=True)
    tokens = Holder(api, "tokens")
    tokens.pay(tokens.checkout(bundles=("100 Tokens",))["invoice"]["id"])
    Holder(api, "unpaid").checkout("basic")
    register_buyer(api, "browsing")
    settle()
    day_2 = T0.replace(hour=0) + timedelta(days=1)
    live_on_day_2 = live_at(World.read(), day_2)

    # day 2: a cancel now; a weekly pass bought and partly refunded
    manual_clock.set(T0 + timedelta(days=1))
    leaving.ok(leaving_sub["id"], "cancel", query="?immediately=true")
    refunded = Holder(api, "refunded")
    refunded.subscribe("weekly-pass")
    settle()
    refund(_paid_invoice(refunded.user_id).id, Decimal("1.50"))
    settle()

    # a month on: the renewal is charged to the saved card; the weekly pass has no card and is billed unpaid
    manual_clock.set(T0 + timedelta(days=30, hours=1))
    register_buyer(api, "late")
    run("subscription-lifecycle")
    settle()

    world = World.read()
    assert any(s.status == "CANCELLED" and s.id == leaving_sub["id"] for s in world.subscriptions)
    assert any(i.billing_reason == "RENEWAL" and i.status == "PAID" for i in world.invoices), "a renewal was paid"
    assert [n.amount for n in world.notes] == [Decimal("1.50")]
    last = (T0 + timedelta(days=30)).date()
    assert_routes_match(api, world, day_2.date(), last, live_on_day_2)
    assert_routes_match(api, world, T0.date(), last, live_on_day_1)

    span = f"from={T0.date()}&to={last}"
    before = {route: get(api, f"{route}?{span}") for route in ("dashboard", "revenue", "churn", "users/growth")}
    reconcile_all()  # every item applied again: nothing moves
    after = {route: get(api, f"{route}?{span}") for route in before}
    for body in (*before.values(), *after.values()):
        body.pop("as_of", None)
    assert after == before


# --- the MRR history ----------------------------------------------------------------------------------------------


def test_the_snapshot_job_writes_the_history_of_mrr(fresh_api: Api, manual_clock: ManualClock) -> None:
    month_end = T0.replace(day=1) + timedelta(days=40)
    first = month_end.replace(day=1, hour=0, minute=5)  # the first of a month
    eve = first - timedelta(hours=1)
    manual_clock.set(eve)
    run("analytics-snapshot")
    holder = Holder(fresh_api, "snapshot")
    holder.subscribe("pro")
    settle()
    manual_clock.set(first)
    run("analytics-snapshot")
    run("analytics-snapshot")  # a second run of the day replaces the first

    span = f"from={(eve - timedelta(days=5)).date()}&to={first.date()}"
    daily = get(fresh_api, f"mrr?{span}")
    monthly = get(fresh_api, f"mrr?{span}&interval=month")

    assert [p["date"] for p in daily["history"]] == [str(eve.date()), str(first.date())]  # none before the first
    line = _paid_invoice(holder.user_id).lines[0]
    assert Decimal(daily["history"][1]["mrr"]) - Decimal(daily["history"][0]["mrr"]) == line.net_amount
    assert daily["history"][1]["mrr"] == daily["mrr"]
    assert monthly["history"] == daily["history"][1:]
