"""A ledger page costs the same at 2,000 entries as at 20 (issue 6 §6): one Query of a sequence range, or of the
type's own index, plus the balance read that carries the totals."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.events.envelope import Actor
from chalicelib.tokens.ledger import Ledger
from chalicelib.tokens.models import TokenBalanceItem, TokenEntryItem
from tests.ddb_calls import counting_dynamodb
from tests.integration.buyers import Buyer, register_buyer

TRANSACTIONS = "/api/v1/user/tokens/transactions"


def fill_ledger(user_id: str, entries: int) -> None:
    """`entries` entries (every third a debit), built by the `Ledger` the services use and stored with one
    BatchWriteItem per 25 (moto copies every table on each transaction, which makes 2,000 transactions slow)."""
    now = datetime(2026, 5, 1, tzinfo=UTC)
    ledger = Ledger(user_id, None, now, Actor.system("test"))
    for n in range(entries):
        if n % 3 == 2:
            ledger.debit(1, "USAGE", None, "usage")
        else:
            ledger.credit(1, "PURCHASE", None, "bundle")
    balance = TokenBalanceItem.new(user_id, now)
    ledger.apply_to(balance)
    with TokenEntryItem.batch_write() as batch:
        for entry in ledger.entries:
            batch.save(entry)
    balance.save()


@pytest.fixture(scope="module")
def small_and_large(api: Any) -> tuple[Buyer, Buyer]:
    small, large = register_buyer(api, "ledger-20"), register_buyer(api, "ledger-2000")
    fill_ledger(small.user_id, 90)
    fill_ledger(large.user_id, 2000)
    return small, large


def cost(api: Any, holder: Buyer, query: str) -> tuple[int, int, dict[str, Any]]:
    with counting_dynamodb() as calls:
        answer = api.get(f"{TRANSACTIONS}?{query}", token=holder.token)
    assert answer.status == 200, answer.json
    reads = [op for op in calls.operations if op in ("Query", "GetItem", "BatchGetItem", "Scan")]
    assert "Scan" not in reads
    return len(reads), calls.items_read, answer.json


@pytest.mark.parametrize("query", ["limit=20", "limit=20&offset=40", "type=USAGE&limit=20", "type=purchase&limit=20"])
def test_a_page_costs_the_same_whatever_the_ledger_holds(api, small_and_large, query):
    small, large = small_and_large
    small_trips, small_items, small_body = cost(api, small, query)
    large_trips, large_items, large_body = cost(api, large, query)
    assert len(small_body["transactions"]) == len(large_body["transactions"]) == 20
    assert large_trips == small_trips
    assert large_items == small_items
    assert large_items <= 20 + 1 + 2 + 20 + 1  # the page (and one to see whether more exist), user, session, offset


def test_following_cursors_costs_the_same_on_every_page(api, small_and_large):
    _, large = small_and_large
    for query in ("limit=20", "type=USAGE&limit=20"):
        trips, items, body = cost(api, large, query)
        for _ in range(3):
            next_trips, next_items, body = cost(api, large, f"{query}&cursor={body['next_cursor']}")
            assert (next_trips, next_items) == (trips, items)
    assert body["total"] == 666 and body["offset"] == 60


def test_totals_come_from_the_counters(api, small_and_large):
    _, large = small_and_large
    everything = cost(api, large, "limit=1")[2]
    usage = cost(api, large, "type=USAGE&limit=1")[2]
    purchases = cost(api, large, "type=PURCHASE&limit=1")[2]
    assert everything["total"] == 2000
    assert (usage["total"], purchases["total"]) == (666, 1334)
