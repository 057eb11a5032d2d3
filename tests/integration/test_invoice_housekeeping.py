"""Invoice housekeeping (checkout-and-payments.md §4.1, §4.3): numbers a crashed writer left are voided, abandoned
checkouts expire, and a user's abandoned checkouts stop costing their later checkouts anything."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pynamodb.exceptions import DoesNotExist

from chalicelib.audit.invariants import check_invoices
from chalicelib.core import clock
from chalicelib.housekeeping import invoices as housekeeping
from chalicelib.invoices.models import InvoiceItem, TokenBundlePurchaseItem
from chalicelib.jobs import run
from chalicelib.store import numbering
from chalicelib.store.numbering import GRACE, NumberGuardItem, SequenceItem, SeriesItem, sequence_key
from chalicelib.store.transactions import Transaction
from chalicelib.subscriptions.repository import holdings_of, live_holdings
from tests.contract import BASIC, EXTRA_STORAGE, PASSWORD, PRO, TOKENS_100
from tests.ddb_calls import counting_dynamodb
from tests.integration.buyers import CHECKOUT, checkout, register_buyer
from tests.integration.conftest import at_once, drain_events, outbox_events

ABANDONED = {"plan_id": BASIC, "add_on_ids": [EXTRA_STORAGE], "token_bundle_ids": [TOKENS_100]}


def counter() -> int:
    try:
        return int(SequenceItem.get(*sequence_key("INV", clock.now().year), consistent_read=True).value)
    except DoesNotExist:
        return 0


def number(value: int) -> str:
    return f"INV-{clock.now().year}-{value:06d}"


def guard_of(value: int) -> NumberGuardItem | None:
    try:
        return NumberGuardItem.get(*NumberGuardItem.key(number(value)), consistent_read=True)
    except DoesNotExist:
        return None


def series() -> SeriesItem:
    return SeriesItem.get(*SeriesItem.key("INV", clock.now().year), consistent_read=True)


def housekeep() -> dict[str, Any]:
    """One run of the job, then its queue drained."""
    result = run("invoice-housekeeping")
    drain_events()
    return result


class Crash(Exception):
    """The writer's process dies: nothing after this point runs."""


def crash_after_taking_the_number(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checkout's transaction never reaches DynamoDB, and the dying process cannot void its number either."""

    def dies(self: Transaction) -> None:
        raise Crash("killed between taking the number and committing")

    monkeypatch.setattr(Transaction, "commit", dies)
    monkeypatch.setattr(numbering.Reservation, "void_all", lambda self, reason: None)


# --- numbering gaps ---------------------------------------------------------------------------------------------


def test_a_checkout_that_crashes_after_taking_a_number_leaves_a_gap_that_housekeeping_voids(
    fresh_api, manual_clock, monkeypatch
):
    token = register_buyer(fresh_api, "housekeeping").token
    start = counter()
    with monkeypatch.context() as crashing:
        crash_after_taking_the_number(crashing)
        answer = fresh_api.post(CHECKOUT, {"plan_id": BASIC}, token=token)
    assert answer.status == 500
    assert counter() == start + 1 and guard_of(start + 1) is None
    after = checkout(fresh_api, token, {"plan_id": BASIC})["invoice"]
    assert after["invoice_number"] == number(start + 2)
    assert any("gaps at" in v.detail for v in check_invoices())

    assert housekeep()["numbers_voided"] == 0  # it notes the counter; within the grace the writer may still commit
    assert (int(series().seen), guard_of(start + 1)) == (start + 2, None)
    manual_clock.advance(GRACE + timedelta(seconds=1))
    assert housekeep()["numbers_voided"] == 1
    void = guard_of(start + 1)
    assert void is not None and void.void and void.voided_at == clock.now()
    assert check_invoices() == []
    assert (int(series().filled), int(series().seen)) == (start + 2, start + 2)

    manual_clock.advance(GRACE + timedelta(seconds=1))
    assert housekeep()["numbers_voided"] == 0  # repeated runs void nothing twice
    assert check_invoices() == []


def test_a_writer_that_wakes_up_after_its_number_was_voided_takes_the_next_one(fresh_api, manual_clock):
    """A writer stalled past the grace period: its number is voided under it; its transaction is refused on the
    number's guard and its retry takes a new number, so no number is used twice."""
    from chalicelib.store.retry import retrying

    start = counter()
    stalled: list[str] = []
    committed: list[str] = []

    def step() -> None:
        tx = Transaction()
        taken = numbering.take_number(tx, "INV", clock.now().year, f"document-{len(stalled)}")
        stalled.append(taken)
        if len(stalled) == 1:  # stall: housekeeping runs twice, a grace period apart, meanwhile
            housekeep()
            manual_clock.advance(GRACE + timedelta(seconds=1))
            assert housekeep()["numbers_voided"] == 1
        tx.commit()
        committed.append(taken)

    retrying(step, tries=3, retry_on=numbering.lost_number)
    assert stalled == [number(start + 1), number(start + 2)] and committed == [number(start + 2)]
    assert guard_of(start + 1).void and guard_of(start + 2).owner_id == "document-1"


def test_a_number_whose_transaction_is_refused_outside_a_step_is_voided_at_once(fresh_api):
    start = counter()
    tx = Transaction()
    taken = numbering.take_number(tx, "INV", clock.now().year, "a-document")
    tx.check(SequenceItem, *sequence_key("INV", clock.now().year), SequenceItem.value == -1, label="refused")
    with pytest.raises(Exception, match="refused"):
        tx.commit()
    assert taken == number(start + 1)
    void = guard_of(start + 1)
    assert void is not None and void.void and "refused" in str(void.reason)


def test_overlapping_housekeeping_runs_void_each_gap_once(fresh_api, manual_clock, atomic_dynamodb):
    start = counter()
    for _ in range(3):  # three writers die holding a number each
        numbering._next_value("INV", clock.now().year)
    checkout(fresh_api, register_buyer(fresh_api, "housekeeping").token, {"plan_id": BASIC})
    at_once(2, lambda _: numbering.fill_gaps(clock.now()))
    manual_clock.advance(GRACE + timedelta(seconds=1))
    voided = at_once(3, lambda _: numbering.fill_gaps(clock.now()))
    assert sum(voided) == 3
    assert [bool(guard_of(start + n) and guard_of(start + n).void) for n in range(1, 5)] == [True] * 3 + [False]
    assert check_invoices() == []


def test_concurrent_checkouts_take_distinct_gapless_numbers(fresh_api, atomic_dynamodb):
    tokens = [register_buyer(fresh_api, "housekeeping").token for _ in range(8)]
    start = counter()
    answers = at_once(8, lambda i: fresh_api.post(CHECKOUT, {"plan_id": BASIC}, token=tokens[i]))
    assert [a.status for a in answers] == [201] * 8
    assert sorted(a.json["invoice"]["invoice_number"] for a in answers) == [number(start + n) for n in range(1, 9)]
    assert check_invoices() == []


# --- abandoned checkouts ----------------------------------------------------------------------------------------


def test_an_abandoned_checkout_expires_with_everything_it_bills(fresh_api, manual_clock):
    buyer = register_buyer(fresh_api, "housekeeping")
    answer = checkout(fresh_api, buyer.token, ABANDONED)
    invoice_id = answer["invoice"]["id"]
    manual_clock.advance(timedelta(days=29))
    assert housekeep()["invoices_due"] == 0  # not due yet (30 days)
    manual_clock.advance(timedelta(days=1, seconds=1))
    assert housekeep()["invoices_due"] == 1

    invoice = InvoiceItem.get(*InvoiceItem.key(invoice_id), consistent_read=True)
    assert invoice.status == "CANCELLED"
    subscriptions, addons = holdings_of(buyer.user_id)
    assert [(s.status, s.cancel_reason) for s in subscriptions] == [("CANCELLED", "expired")]
    assert [(a.status, a.cancel_reason) for a in addons] == [("CANCELLED", "expired")]
    purchases = [p for p in TokenBundlePurchaseItem.scan() if p.user_id == buyer.user_id]
    assert [p.status for p in purchases] == ["CANCELLED"]
    assert live_holdings(buyer.user_id) == ([], [])
    voided = [e["data"] for e in outbox_events("invoice.voided") if e["data"]["invoice_id"] == invoice_id]
    assert [v["reason"] for v in voided] == ["expired"]

    assert housekeep()["invoices_due"] == 0  # it left the unpaid index: later runs do not see it
    assert len([e for e in outbox_events("invoice.voided") if e["data"]["invoice_id"] == invoice_id]) == 1


def test_a_redelivered_or_repeated_expiry_applies_once(fresh_api, manual_clock):
    buyer = register_buyer(fresh_api, "housekeeping")
    invoice_id = checkout(fresh_api, buyer.token, ABANDONED)["invoice"]["id"]
    manual_clock.advance(timedelta(days=31))
    assert housekeeping.expire(invoice_id) is True
    assert housekeeping.expire(invoice_id) is False
    housekeeping.handle({"id": "t", "type": housekeeping.TASK, "data": {"invoice_id": invoice_id}})
    assert len([e for e in outbox_events("invoice.voided") if e["data"]["invoice_id"] == invoice_id]) == 1


def test_an_invoice_paid_before_the_task_runs_is_left_alone(fresh_api, manual_clock):
    buyer = register_buyer(fresh_api, "housekeeping")
    answer = checkout(fresh_api, buyer.token, {"token_bundle_ids": [TOKENS_100]})
    invoice_id = answer["invoice"]["id"]
    manual_clock.advance(timedelta(days=31))
    invoice = InvoiceItem.get(*InvoiceItem.key(invoice_id), consistent_read=True)
    invoice.update(actions=[InvoiceItem.status.set("PAID")])  # a capture won the race (the index still lags)
    assert housekeeping.expire(invoice_id) is False
    assert InvoiceItem.get(*InvoiceItem.key(invoice_id), consistent_read=True).status == "PAID"


def test_a_trial_first_invoice_is_left_to_the_trial_end(fresh_api, manual_clock):
    buyer = register_buyer(fresh_api, "housekeeping")
    answer = checkout(fresh_api, buyer.token, {"plan_id": PRO})
    assert answer["trial_applied"] is True
    manual_clock.advance(timedelta(days=40))
    assert housekeeping.expire(answer["invoice"]["id"]) is False
    assert [s.status for s in holdings_of(buyer.user_id)[0]] == ["TRIALING"]


def test_abandoned_checkouts_stop_costing_later_checkouts(fresh_api, manual_clock):
    """A user who left many unpaid checkouts: once housekeeping expired them, `live_holdings` holds only what
    counts, and a new checkout reads exactly as many items, in as many round trips, as one with none left."""
    one = register_buyer(fresh_api, "housekeeping")
    many = register_buyer(fresh_api, "housekeeping")
    paid = checkout(fresh_api, many.token, {"plan_id": PRO})  # a trial: this one counts
    for _ in range(12):
        checkout(fresh_api, many.token, ABANDONED)
    assert len(live_holdings(many.user_id)[1]) == 12  # PENDING add-ons still count until they expire
    manual_clock.advance(timedelta(days=2))
    checkout(fresh_api, fresh_api.token(one.email, PASSWORD), {"plan_id": PRO})  # the same, without the abandoned
    manual_clock.advance(timedelta(days=29))
    assert housekeep()["invoices_due"] == 12
    subscriptions, addons = live_holdings(many.user_id)
    assert ([s.id for s in subscriptions], addons) == ([paid["subscription"]["id"]], [])

    def cost(email: str) -> tuple[int, int]:
        token = fresh_api.token(email, PASSWORD)
        with counting_dynamodb() as calls:
            checkout(fresh_api, token, {"token_bundle_ids": [TOKENS_100]})
        return calls.round_trips, calls.items_read

    assert cost(many.email) == cost(one.email)
