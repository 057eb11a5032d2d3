"""The user's plan changes racing the lifecycle job on DynamoDB's real transaction engine (DynamoDB Local).

Each race starts its calls at one instant (a barrier) and is run for several rounds, so that both orders get their
turn: an upgrade while the renewal is issued and charged, two upgrades at once, an immediate cancel or a pause while
the renewal charges. Whatever order wins, every effect happens once — no period billed twice, one capture per
invoice, the plan tokens of each paid period credited once, the plan the user ends on the one the paid invoices
bought — and the invariant checker finds nothing. The next renewal after each race then goes through cleanly (a
stale invoice left behind would be charged for nothing, or keep the job busy for ever).
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.audit.invariants import check_all, report
from chalicelib.core import clock
from chalicelib.core.errors import BadRequest, Conflict, DomainError
from chalicelib.core.times import iso
from chalicelib.invoices.models import InvoiceItem
from chalicelib.invoices.repository import invoices_of
from chalicelib.lifecycle.steps import StillDue, advance
from chalicelib.store.outbox import OutboxItem
from chalicelib.subscriptions.models import SubscriptionItem
from chalicelib.subscriptions.repository import subscription_of
from chalicelib.subscriptions.service import cancel, pause, upgrade
from tests.contract import BASIC, ENTERPRISE, PRO
from tests.ddblocal.invariants_here import numbered_by_the_product
from tests.ddblocal.test_lifecycle_races import subscriber
from tests.ddblocal.test_money_races import ledger_of

pytestmark = pytest.mark.usefixtures("ddb_stack")

# Years ahead of the machine's own clock: DynamoDB Local deletes items whose TTL has passed in real time, and the
# outbox items (kept a week after their events) are what these tests count switches and captures by.
T0 = datetime(2035, 5, 1, 9, 0, tzinfo=UTC)
END = datetime(2035, 6, 1, 9, 0, tzinfo=UTC)
NEXT_END = datetime(2035, 7, 1, 9, 0, tzinfo=UTC)
RACE_AT = END - timedelta(hours=12)  # inside the 24 h renewal lead time
ROUNDS = 5
TOKENS = {BASIC: 50, PRO: 200, ENTERPRISE: 1000}  # default_tokens of the seeded plans


@pytest.fixture
def manual() -> Iterator[clock.ManualClock]:
    moving = clock.ManualClock(T0)
    previous = clock.use_clock(moving)
    yield moving
    clock.use_clock(previous)


# Per round, how long the user's call and the job wait after the barrier: the same instant, then each side given
# a head start in turn, so both orders (and the interleavings between) are exercised, not only the likeliest one.
STAGGER = [(0.0, 0.0), (0.05, 0.0), (0.25, 0.0), (0.0, 0.05), (0.0, 0.25)]


def at_once(calls: list[Callable[[], Any]], delays: tuple[float, ...] = ()) -> list[Any]:
    """Start the calls at one instant (each after its delay, if given); each gives its result, its domain error,
    `StillDue`, or the traceback of anything else (which the tests refuse)."""
    barrier = threading.Barrier(len(calls))
    waits = list(delays) + [0.0] * (len(calls) - len(delays))

    def run(indexed: tuple[int, Callable[[], Any]]) -> Any:
        index, call = indexed
        barrier.wait()
        time.sleep(waits[index])
        try:
            return call()
        except (DomainError, StillDue) as exc:
            return exc
        except Exception:
            return traceback.format_exc()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, enumerate(calls)))


def no_crash(results: list[Any]) -> None:
    crashes = [r for r in results if isinstance(r, str)]
    assert not crashes, crashes[0]


def settle(user_id: str, sub_id: str) -> None:
    """What the task queue does after the race: redeliver until nothing is due now (a task that found a pay lock
    held raised `StillDue` and comes back)."""
    for _ in range(10):
        try:
            advance("subscription", user_id, sub_id)
            return
        except StillDue:
            continue
    raise AssertionError("the lifecycle task never settled")


def renewal(user_id: str, sub_id: str) -> Callable[[], Any]:
    return lambda: advance("subscription", user_id, sub_id)


def by_reason(user_id: str) -> dict[str, list[InvoiceItem]]:
    found: dict[str, list[InvoiceItem]] = {}
    for invoice in invoices_of(user_id):
        found.setdefault(str(invoice.billing_reason), []).append(invoice)
    return found


def events_of(kind: str, subscription_id: str) -> list[dict[str, Any]]:
    return [
        e["data"]
        for item in OutboxItem.scan()
        if isinstance(item, OutboxItem)
        for e in item.envelopes
        if e["type"] == kind and e["data"].get("subscription_id") == subscription_id
    ]


def captures_of(invoice_id: str) -> int:
    return sum(
        1
        for item in OutboxItem.scan()
        if isinstance(item, OutboxItem)
        for e in item.envelopes
        if e["type"] == "payment.captured" and e["data"]["invoice_id"] == invoice_id
    )


def period_start(invoice: InvoiceItem) -> str | None:
    line = next(line for line in invoice.lines if line.item_type == "SUBSCRIPTION")
    return (line.metadata or {}).get("period_start")


def kept(invoice: InvoiceItem) -> bool:
    """Paid and not given back."""
    return invoice.status == "PAID" and invoice.amount_refunded < invoice.total_amount


def money_is_sound(user_id: str, sub: SubscriptionItem) -> dict[str, list[InvoiceItem]]:
    """The checks every race shares: one capture per paid invoice, at most one renewal paid for the period, at most
    one open invoice per kind of change, an open renewal bills the period that comes next, and the invariants."""
    invoices = by_reason(user_id)
    for invoice in (i for group in invoices.values() for i in group):
        if invoice.status == "PAID":
            assert int(invoice.capture_count) == 1 and captures_of(invoice.id) == 1, invoice.invoice_number
    for reason in ("RENEWAL", "UPGRADE"):
        group = invoices.get(reason, [])
        assert len([i for i in group if i.status == "PENDING"]) <= 1, reason
    renewals = invoices.get("RENEWAL", [])
    assert len([i for i in renewals if kept(i)]) <= 1
    for invoice in renewals:
        if invoice.status == "PENDING":
            # an open renewal invoice bills the period that comes next, never one that no longer exists
            assert sub.renewal_invoice_id == invoice.id and period_start(invoice) == iso(sub.expires_at)
    assert_invariants(sub.id)
    return invoices


def assert_invariants(sub_id: str) -> None:
    """`check_all` at the test's clock. The coverage rule is held for this test's subscription only: the tier's
    tables are shared by the session, and other tests leave subscriptions whose period the clock here has passed."""
    found = [v for v in numbered_by_the_product(check_all(clock.now())) if v.rule != "coverage" or v.subject == sub_id]
    assert not found, report(found)


def next_renewal_goes_through(manual: clock.ManualClock, user_id: str, sub_id: str) -> None:
    """Move to the next renewal of what the race left and run the job: one new period, paid once, on the plan held."""
    sub = subscription_of(user_id, sub_id)
    assert sub is not None and sub.status == "ACTIVE" and sub.expires_at is not None
    before, plan = sub.expires_at, sub.tarif_plan_id
    balance_before, _ = ledger_of(user_id)
    manual.set(before - timedelta(hours=1))
    settle(user_id, sub_id)
    renewed = subscription_of(user_id, sub_id)
    assert renewed is not None and renewed.status == "ACTIVE" and renewed.expires_at is not None
    assert renewed.expires_at > before and renewed.tarif_plan_id == plan
    paid = [i for i in by_reason(user_id).get("RENEWAL", []) if kept(i) and period_start(i) == iso(before)]
    assert len(paid) == 1
    balance, _ = ledger_of(user_id)
    assert balance == balance_before + TOKENS[plan]
    assert_invariants(sub_id)


# --- 1. an upgrade racing a renewal ------------------------------------------------------------------------------


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_an_upgrade_racing_the_renewal_bills_each_period_once(manual: clock.ManualClock, round_: int) -> None:
    buyer, sub_id = subscriber()
    manual.set(RACE_AT)

    upgraded, _ = at_once([lambda: upgrade(buyer, sub_id, PRO), renewal(buyer.user_id, sub_id)], STAGGER[round_])

    assert not isinstance(upgraded, str), upgraded
    settle(buyer.user_id, sub_id)
    sub = subscription_of(buyer.user_id, sub_id)
    assert sub is not None and sub.status == "ACTIVE"
    invoices = money_is_sound(buyer.user_id, sub)
    upgrades = [i for i in invoices.get("UPGRADE", []) if kept(i)]
    renewals = [i for i in invoices.get("RENEWAL", []) if kept(i)]
    assert len(upgrades) <= 1
    switched = events_of("subscription.upgraded", sub_id)
    assert [e["invoice_id"] for e in switched] == [i.id for i in upgrades]  # one switch per paid upgrade
    assert sub.tarif_plan_id == (PRO if upgrades else BASIC)
    if renewals and upgrades:
        # upgraded only once the renewal was paid: its credit is for the renewed period's unused days, none lost
        [paid_renewal], [paid_upgrade] = renewals, upgrades
        assert paid_renewal.paid_at is not None and paid_upgrade.created_at >= paid_renewal.paid_at
        [credit] = [line for line in paid_upgrade.lines if (line.metadata or {}).get("kind") == "proration_credit"]
        assert int(credit.metadata["days_remaining"]) >= (NEXT_END - RACE_AT).days
    elif renewals:
        assert sub.expires_at == NEXT_END  # the paid renewal's period, whole
    if not upgrades and not renewals:
        # nothing was paid: the renewal invoice is open for the period that comes next
        assert sub.expires_at == END and sub.renewal_invoice_id is not None
    balance, _ = ledger_of(buyer.user_id)
    assert balance == TOKENS[BASIC] * (1 + len(renewals)) + TOKENS[PRO] * len(upgrades)
    if isinstance(upgraded, DomainError):
        assert not upgrades and isinstance(upgraded, Conflict)  # refused only for an open invoice (or a lost race)
    next_renewal_goes_through(manual, buyer.user_id, sub_id)


# --- 2. two upgrades at once -------------------------------------------------------------------------------------


@pytest.mark.parametrize("targets", [(PRO, PRO), (PRO, ENTERPRISE)], ids=["same-plan", "different-plans"])
@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_upgrades_at_once_switch_once_per_paid_invoice(
    manual: clock.ManualClock, round_: int, targets: tuple[str, str]
) -> None:
    buyer, sub_id = subscriber()
    manual.set(T0 + timedelta(days=10))

    results = at_once([lambda plan=plan: upgrade(buyer, sub_id, plan) for plan in targets])  # type: ignore[misc]

    no_crash(results)
    answered = [r for r in results if isinstance(r, dict)]
    assert answered, results
    sub = subscription_of(buyer.user_id, sub_id)
    assert sub is not None and sub.status == "ACTIVE"
    invoices = money_is_sound(buyer.user_id, sub)
    upgrades = invoices.get("UPGRADE", [])
    paid = sorted((i for i in upgrades if kept(i)), key=lambda i: i.paid_at)
    switched = events_of("subscription.upgraded", sub_id)
    assert [e["invoice_id"] for e in switched] == [i.id for i in paid]  # one switch per paid upgrade
    assert [e["to_plan_id"] for e in switched] == [i.tarif_plan_id for i in paid]
    assert paid and sub.tarif_plan_id == paid[-1].tarif_plan_id
    assert not [i for i in upgrades if i.status == "PENDING"]  # the sandbox method took every charge
    if targets[0] == targets[1]:
        assert len(upgrades) == 1  # one invoice, one switch: the loser is told the plan is already held
    else:
        # a second upgrade only after the first one was paid (PRO → ENTERPRISE): it prorates from PRO
        assert len(upgrades) in (1, 2)
        if len(upgrades) == 2:
            assert [i.tarif_plan_id for i in paid] == [PRO, ENTERPRISE]
    for refused in (r for r in results if isinstance(r, DomainError)):
        assert isinstance(refused, (BadRequest, Conflict)), refused
    balance, _ = ledger_of(buyer.user_id)
    assert balance == TOKENS[BASIC] + sum(TOKENS[str(i.tarif_plan_id)] for i in paid)


# --- 3. cancel (immediately) racing a renewal charge --------------------------------------------------------------


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_an_immediate_cancel_racing_the_renewal_charge_keeps_no_money_for_nothing(
    manual: clock.ManualClock, round_: int
) -> None:
    buyer, sub_id = subscriber()
    manual.set(RACE_AT)

    leave = lambda: cancel(buyer, sub_id, "leaving", immediately=True)  # noqa: E731
    cancelled, _ = at_once([leave, renewal(buyer.user_id, sub_id)], STAGGER[round_])

    assert isinstance(cancelled, dict), cancelled  # a cancel is never refused by a renewal in flight
    settle(buyer.user_id, sub_id)
    sub = subscription_of(buyer.user_id, sub_id)
    assert sub is not None and sub.status == "CANCELLED" and sub.cancelled_at is not None
    assert sub.renewal_invoice_id is None and sub.pending_invoice_id is None
    invoices = money_is_sound(buyer.user_id, sub)
    renewals = invoices.get("RENEWAL", [])
    assert all(i.status in ("PAID", "CANCELLED", "REFUNDED") for i in renewals), [i.status for i in renewals]
    for invoice in renewals:
        if kept(invoice):
            # kept only when it was paid before the cancel: the period was renewed, then cancelled
            assert invoice.paid_at is not None and invoice.paid_at <= sub.cancelled_at
            assert sub.expires_at == NEXT_END
    balance, _ = ledger_of(buyer.user_id)
    assert balance == TOKENS[BASIC] * (1 + len([i for i in renewals if kept(i)]))
    assert advance("subscription", buyer.user_id, sub_id) == []  # nothing renews a cancelled subscription
    manual.set(NEXT_END + timedelta(days=1))
    assert advance("subscription", buyer.user_id, sub_id) == []


# --- 4. pause racing a renewal ------------------------------------------------------------------------------------


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_a_pause_racing_the_renewal_is_before_or_instead_of_it(manual: clock.ManualClock, round_: int) -> None:
    buyer, sub_id = subscriber()
    manual.set(RACE_AT)

    paused, _ = at_once([lambda: pause(buyer, sub_id), renewal(buyer.user_id, sub_id)], STAGGER[round_])

    assert isinstance(paused, dict), paused
    settle(buyer.user_id, sub_id)
    sub = subscription_of(buyer.user_id, sub_id)
    assert sub is not None and sub.status == "PAUSED" and sub.paused_at is not None
    invoices = money_is_sound(buyer.user_id, sub)
    renewals = invoices.get("RENEWAL", [])
    kept_renewals = [i for i in renewals if kept(i)]
    assert all(i.status in ("PAID", "CANCELLED") for i in renewals), [i.status for i in renewals]
    if kept_renewals:
        # the renewal happened before the pause: paused with the paid period
        [paid] = kept_renewals
        assert paid.paid_at is not None and paid.paid_at <= sub.paused_at and sub.expires_at == NEXT_END
    else:
        # not at all: the period as it was, no invoice left open
        assert sub.expires_at == END and sub.renewal_invoice_id is None
    assert sub.renewal_invoice_id is None
    balance, _ = ledger_of(buyer.user_id)
    assert balance == TOKENS[BASIC] * (1 + len(kept_renewals))
    manual.set(NEXT_END + timedelta(days=1))
    assert advance("subscription", buyer.user_id, sub_id) == []  # a paused subscription neither renews nor expires
