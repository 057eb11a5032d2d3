"""Invoice numbers on DynamoDB's real transaction engine: no shared item in any checkout's transaction.

The number comes from an atomic `ADD` on the series' counter outside the transaction, and only the number's guard
is inside it — so parallel checkouts never conflict on numbering: all of them commit, with distinct numbers and
no gap (a refused or abandoned one leaves a void record, never a hole).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.audit.invariants import check_invoices
from chalicelib.core import clock
from chalicelib.core.errors import Conflict
from chalicelib.invoices.repository import invoices_of
from chalicelib.store import numbering
from chalicelib.store.numbering import GRACE, NumberGuardItem, SequenceItem, format_number, sequence_key
from chalicelib.subscriptions.repository import holdings_of
from tests.contract import BASIC, PRO, TOKENS_100
from tests.ddblocal.invariants_here import numbered_by_the_product
from tests.ddblocal.test_money_races import all_at_once, buy, new_customer

pytestmark = pytest.mark.usefixtures("ddb_stack")


def counter() -> int:
    return int(SequenceItem.get(*sequence_key("INV", clock.now().year), consistent_read=True).value)


def value_of(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


@pytest.mark.parametrize("threads", [8, 16])
def test_parallel_checkouts_all_commit_with_distinct_gapless_numbers(threads: int) -> None:
    buyers = [new_customer() for _ in range(threads)]
    start = counter()
    answers = all_at_once(threads, lambda i: buy(buyers[i], plan_id=BASIC, token_bundle_ids=[TOKENS_100]))
    assert [type(a).__name__ for a in answers] == ["dict"] * threads  # no 409, no other refusal
    numbers = sorted(value_of(a["invoice"]["invoice_number"]) for a in answers)
    assert numbers == list(range(start + 1, start + threads + 1))
    assert counter() == start + threads
    assert numbered_by_the_product(check_invoices()) == []


def test_a_checkout_refused_on_every_number_writes_nothing_and_leaves_no_gap() -> None:
    """Every number the checkout takes is already void (housekeeping voided them while it stalled): each attempt
    is refused on the guard and takes the next number; after its retries it answers 409 having written nothing,
    and the numbers it went through stay void — the next checkout takes the number after them."""
    from chalicelib.checkout.service import ATTEMPTS
    from chalicelib.users.repository import find_user

    year = clock.now().year
    start = counter()
    for n in range(start + 1, start + ATTEMPTS + 1):
        numbering.write_void(format_number("INV", year, n), "voided while its writer stalled", clock.now())
    buyer = new_customer()
    with pytest.raises(Conflict):
        buy(buyer, plan_id=PRO, token_bundle_ids=[TOKENS_100])
    assert invoices_of(buyer.user_id) == []
    assert holdings_of(buyer.user_id) == ([], [])
    assert find_user(buyer.user_id).has_used_trial is False
    assert counter() == start + ATTEMPTS
    answer = buy(buyer, plan_id=BASIC)
    assert answer["invoice"]["invoice_number"] == format_number("INV", year, start + ATTEMPTS + 1)
    assert numbered_by_the_product(check_invoices()) == []


def test_a_number_left_by_a_dead_writer_is_voided_by_housekeeping() -> None:
    from chalicelib.core.clock import ManualClock, use_clock

    manual = ManualClock(clock.now())
    previous = use_clock(manual)
    try:
        year = manual.now().year
        lost = numbering._next_value("INV", year)  # taken, then the writer died
        buy(new_customer(), plan_id=BASIC)
        assert any("gaps at" in v.detail for v in check_invoices())
        numbering.fill_gaps(manual.now())
        manual.advance(GRACE + timedelta(seconds=1))
        numbering.fill_gaps(manual.now())
        guard = NumberGuardItem.get(*NumberGuardItem.key(format_number("INV", year, lost)), consistent_read=True)
        assert guard.void
        assert numbered_by_the_product(check_invoices()) == []
    finally:
        use_clock(previous)
