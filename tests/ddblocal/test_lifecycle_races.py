"""The lifecycle job racing on DynamoDB's real transaction engine (DynamoDB Local): lifecycle runs overlapping on one
subscription, and a user paying the open renewal invoice while a dunning retry charges it. Each effect happens
once: one renewal invoice per period, one capture, one period added, the plan tokens credited once."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.auth.principal import Principal
from chalicelib.core import clock
from chalicelib.core.errors import DomainError
from chalicelib.invoices.models import InvoiceItem
from chalicelib.lifecycle.steps import StillDue, advance
from chalicelib.payments import repository as payment_store
from chalicelib.payments.schemas import PayBody
from chalicelib.payments.service import pay
from chalicelib.store.outbox import OutboxItem
from chalicelib.subscriptions.models import BilledPeriodItem
from chalicelib.subscriptions.repository import subscription_of
from tests.contract import BASIC
from tests.ddblocal.test_money_races import buy, ledger_of, new_customer

pytestmark = pytest.mark.usefixtures("ddb_stack")

# Years ahead of the real clock: DynamoDB Local applies TTL, and the outbox items these tests count expire a week
# after the moment they were written.
T0 = datetime(2035, 5, 1, 9, 0, tzinfo=UTC)
END = datetime(2035, 6, 1, 9, 0, tzinfo=UTC)
NEXT_END = datetime(2035, 7, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def manual() -> Iterator[clock.ManualClock]:
    moving = clock.ManualClock(T0)
    previous = clock.use_clock(moving)
    yield moving
    clock.use_clock(previous)


def racing(calls: list[Any]) -> list[Any]:
    """Run the calls at once; each gives its result, its domain error, `StillDue`, or the traceback of anything
    else (which fails the test)."""

    def run(call: Any) -> Any:
        try:
            return call()
        except (DomainError, StillDue) as exc:
            return exc
        except Exception:
            return traceback.format_exc()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def subscriber() -> tuple[Principal, str]:
    buyer = new_customer()
    bought = buy(buyer, plan_id=BASIC, payment_method_code="sandbox")
    pay(buyer, bought["invoice"]["id"], PayBody(payment_method_code="sandbox"))
    return buyer, bought["subscription"]["id"]


def renewals_of(user_id: str) -> list[InvoiceItem]:
    found = [i for i in InvoiceItem.scan() if isinstance(i, InvoiceItem) and i.user_id == user_id]
    return [i for i in found if i.billing_reason == "RENEWAL"]


def captured(invoice_id: str) -> int:
    return sum(
        1
        for item in OutboxItem.scan()
        if isinstance(item, OutboxItem)
        for e in item.envelopes
        if e["type"] == "payment.captured" and e["data"]["invoice_id"] == invoice_id
    )


def test_overlapping_lifecycle_runs_renew_one_period_once(manual: clock.ManualClock) -> None:
    buyer, sub_id = subscriber()
    manual.set(END - timedelta(hours=24))

    results = racing([lambda: advance("subscription", buyer.user_id, sub_id) for _ in range(6)])

    crashes = [r for r in results if isinstance(r, str)]
    assert not crashes, crashes[0]
    assert advance("subscription", buyer.user_id, sub_id) == []  # a redelivery finds nothing left
    [renewal] = renewals_of(buyer.user_id)
    assert (renewal.status, int(renewal.capture_count), int(renewal.payment_attempts)) == ("PAID", 1, 1)
    assert captured(renewal.id) == 1
    sub = subscription_of(buyer.user_id, sub_id)
    assert sub is not None and (sub.status, sub.expires_at) == ("ACTIVE", NEXT_END)
    guards = list(BilledPeriodItem.query(BilledPeriodItem.key(sub_id, END)[0], consistent_read=True))
    assert [g.invoice_id for g in guards] == [renewal.id]
    balance, entries = ledger_of(buyer.user_id)
    assert (balance, [int(e.amount) for e in entries]) == (100, [50, 50])  # plan tokens: first period, renewal


def test_a_user_paying_while_a_dunning_retry_charges_is_captured_once(manual: clock.ManualClock) -> None:
    buyer, sub_id = subscriber()
    payment_store.set_sandbox_outcome(buyer.user_id, "fail", T0)
    failed_at = END - timedelta(hours=24)
    manual.set(failed_at)
    advance("subscription", buyer.user_id, sub_id)
    [renewal] = renewals_of(buyer.user_id)
    sub = subscription_of(buyer.user_id, sub_id)
    assert sub is not None and sub.status == "PAST_DUE"
    payment_store.set_sandbox_outcome(buyer.user_id, "succeed", T0)
    manual.set(failed_at + timedelta(days=1))

    results = racing(
        [
            lambda: advance("subscription", buyer.user_id, sub_id),
            lambda: pay(buyer, renewal.id, PayBody(payment_method_code="sandbox")),
            lambda: advance("subscription", buyer.user_id, sub_id),
            lambda: pay(buyer, renewal.id, PayBody(payment_method_code="sandbox")),
        ]
    )

    crashes = [r for r in results if isinstance(r, str)]
    assert not crashes, crashes[0]
    advance("subscription", buyer.user_id, sub_id)  # what a redelivery of a task that found the lock held does
    [renewal] = renewals_of(buyer.user_id)
    assert (renewal.status, int(renewal.capture_count)) == ("PAID", 1)
    assert captured(renewal.id) == 1
    sub = subscription_of(buyer.user_id, sub_id)
    assert sub is not None
    assert (sub.status, sub.expires_at, sub.next_retry_at, sub.dunning_attempts) == ("ACTIVE", NEXT_END, None, 0)
    balance, _ = ledger_of(buyer.user_id)
    assert balance == 100
