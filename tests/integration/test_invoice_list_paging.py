"""`GET /user/invoices` pages in DynamoDB (issue 6 §6; contract checkout-and-payments.md §5.3, README §1.11).

One buyer holds 20 invoices, another 2,000. A page — the first of `?limit=20`, one reached by its cursor, the first
of `?status=PAID&limit=20` — costs both of them the same DynamoDB round trips and reads no more than the page and
one item to tell whether another page exists: nothing grows with the partition. The totals come from the counts
the invoices' own transactions maintain, and the pages hold the right invoices, newest first.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.invoices.builder import Line, build_invoice
from chalicelib.invoices.repository import add_invoice
from chalicelib.store.transactions import Transaction
from tests.integration.buyers import Buyer, read, register_buyer
from tests.integration.conftest import Api

INVOICES = "/api/v1/user/invoices"
SMALL, LARGE = 20, 2000
PER_TRANSACTION = 25
START = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)


def status_of(n: int) -> str:
    """Every third invoice PAID, every seventh CANCELLED, the rest PENDING."""
    return "PAID" if n % 3 == 0 else "CANCELLED" if n % 7 == 0 else "PENDING"


def give_invoices(user_id: str, count: int, status: Callable[[int], str] = status_of) -> list[str]:
    """`count` invoices of one line each, written through the invoice repository (index keys and counts as a
    checkout writes them), one minute apart, the n-th in `status(n)`; their ids, oldest first."""
    ids = []
    for first in range(0, count, PER_TRANSACTION):
        tx = Transaction()
        for n in range(first, min(count, first + PER_TRANSACTION)):
            invoice_id = str(uuid.uuid4())
            at = START + timedelta(minutes=n)
            line = Line(str(uuid.uuid4()), "TOKEN_BUNDLE", "100 Tokens", Decimal("3.00"), item_id=str(uuid.uuid4()))
            invoice = build_invoice(
                invoice_id=invoice_id,
                user_id=user_id,
                number=f"TEST-{user_id[:8]}-{n:06d}",
                billing_reason="PURCHASE",
                currency="EUR",
                places=2,
                lines=[line],
                tax=None,
                details=None,
                now=at,
                status=status(n),
                due_date=at + timedelta(days=30),
            )
            add_invoice(tx, invoice)
            ids.append(invoice_id)
        tx.commit()
    return ids


def all_paid(_: int) -> str:
    return "PAID"


@dataclass
class Calls:
    """The DynamoDB calls moto served, and how many items each read."""

    made: list[tuple[str, int]] = field(default_factory=list)

    @property
    def round_trips(self) -> int:
        return len(self.made)

    @property
    def items_read(self) -> int:
        return sum(items for _, items in self.made)


def items_read(action: str, body: dict[str, Any]) -> int:
    if action in ("Query", "Scan"):
        return int(body.get("ScannedCount", body.get("Count", 0)))
    if action == "GetItem":
        return 1 if "Item" in body else 0
    if action == "BatchGetItem":
        return sum(len(items) for items in body.get("Responses", {}).values())
    return 0


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[Calls]:
    """Every DynamoDB call from here on is noted in the newest `Calls` of the list."""
    from moto.dynamodb.responses import DynamoHandler

    log: list[Calls] = [Calls()]
    original = DynamoHandler.call_action

    def call_action(self: DynamoHandler) -> Any:
        action = self._get_action()
        status, headers, body = original(self)
        try:
            parsed = json.loads(body) if body else {}
        except ValueError:
            parsed = {}
        log[-1].made.append((action, items_read(action, parsed)))
        return status, headers, body

    monkeypatch.setattr(DynamoHandler, "call_action", call_action)
    return log


class _NoBackups:
    """moto copies a whole table before every item of a transaction, to roll back a refused one; writing 2,000
    invoices that way costs minutes. These transactions are never refused, so the fixture skips the copies."""

    @staticmethod
    def deepcopy(value: Any) -> Any:
        return value


@pytest.fixture(scope="module")
def holders(api: Api) -> dict[int, tuple[Buyer, list[str]]]:
    """A buyer with 20 invoices, all PAID (so every page compared is a full one), and one with 2,000 of mixed
    statuses (ids oldest first)."""
    import moto.dynamodb.models as moto_dynamodb

    made = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(moto_dynamodb, "copy", _NoBackups)
        for count in (SMALL, LARGE):
            buyer = register_buyer(api, f"many-{count}")
            made[count] = (buyer, give_invoices(buyer.user_id, count, status_of if count == LARGE else all_paid))
    return made


def measured(api: Api, log: list[Calls], path: str, token: str) -> tuple[dict[str, Any], Calls, float]:
    calls = Calls()
    log.append(calls)
    began = time.perf_counter()
    body = read(api, path, token)
    elapsed = time.perf_counter() - began
    log.append(Calls())  # what follows is not this request's
    return body, calls, elapsed


def pages(api: Api, log: list[Calls], buyer: Buyer) -> dict[str, tuple[dict[str, Any], Calls, float]]:
    read(api, f"{INVOICES}?limit=1", buyer.token)  # the instance's catalog snapshot is warm, as in production
    first_of_five = read(api, f"{INVOICES}?limit=5", buyer.token)
    return {
        "limit=20": measured(api, log, f"{INVOICES}?limit=20", buyer.token),
        "cursor": measured(api, log, f"{INVOICES}?limit=5&cursor={first_of_five['next_cursor']}", buyer.token),
        "status=PAID&limit=20": measured(api, log, f"{INVOICES}?status=PAID&limit=20", buyer.token),
    }


def test_a_page_costs_the_same_for_20_and_for_2000_invoices(api: Api, holders: Any, counted: list[Calls]) -> None:
    figures = {count: pages(api, counted, holders[count][0]) for count in (SMALL, LARGE)}

    for name in ("limit=20", "cursor", "status=PAID&limit=20"):
        (_, small, small_time), (_, large, large_time) = figures[SMALL][name], figures[LARGE][name]
        print(
            f"{name}: {SMALL} invoices {small.round_trips} round trips, {small.items_read} items read, "
            f"{small_time * 1000:.0f} ms; {LARGE} invoices {large.round_trips} round trips, {large.items_read} "
            f"items read, {large_time * 1000:.0f} ms; calls {large.made}"
        )
        assert large.round_trips == small.round_trips, (name, small.made, large.made)
        page = 5 if name == "cursor" else 20
        # the page, the one item after it (is there a next page?), the counts, the caller and session, the
        # catalog version — never the partition
        assert large.items_read <= page + 1 + 4, (name, large.made)
        assert large.items_read - small.items_read <= 1, (name, small.made, large.made)


def test_the_pages_of_2000_invoices_hold_the_right_ones_with_their_totals(api: Api, holders: Any) -> None:
    buyer, oldest_first = holders[LARGE]
    newest_first = list(reversed(oldest_first))
    paid = [invoice_id for n, invoice_id in enumerate(oldest_first) if status_of(n) == "PAID"][::-1]

    first = read(api, f"{INVOICES}?limit=20", buyer.token)
    assert [i["id"] for i in first["invoices"]] == newest_first[:20]
    assert (first["total"], first["pages"], first["page"]) == (LARGE, 100, 1)
    following = read(api, f"{INVOICES}?limit=20&cursor={first['next_cursor']}", buyer.token)
    assert [i["id"] for i in following["invoices"]] == newest_first[20:40]
    assert (following["offset"], following["page"]) == (20, 2)
    by_offset = read(api, f"{INVOICES}?limit=20&offset=1980", buyer.token)
    assert [i["id"] for i in by_offset["invoices"]] == newest_first[1980:]
    assert by_offset["next_cursor"] is None

    of_paid = read(api, f"{INVOICES}?status=PAID&limit=20", buyer.token)
    assert [i["id"] for i in of_paid["invoices"]] == paid[:20]
    assert of_paid["total"] == len(paid) == 667
    assert {i["status"] for i in of_paid["invoices"]} == {"PAID"}
    next_paid = read(api, f"{INVOICES}?status=PAID&limit=20&cursor={of_paid['next_cursor']}", buyer.token)
    assert [i["id"] for i in next_paid["invoices"]] == paid[20:40]
    cancelled = read(api, f"{INVOICES}?status=cancelled&limit=1", buyer.token)
    assert cancelled["total"] == sum(1 for n in range(LARGE) if status_of(n) == "CANCELLED")


def test_without_paging_parameters_the_first_1000_and_a_cursor_to_the_rest(api: Api, holders: Any) -> None:
    buyer, oldest_first = holders[LARGE]
    newest_first = list(reversed(oldest_first))

    whole = read(api, INVOICES, buyer.token)

    assert set(whole) == {"invoices", "total", "next_cursor"}
    assert whole["total"] == LARGE
    assert [i["id"] for i in whole["invoices"]] == newest_first[:1000]
    rest = read(api, f"{INVOICES}?cursor={whole['next_cursor']}", buyer.token)
    assert [i["id"] for i in rest["invoices"]] == newest_first[1000:1020]
    assert rest["offset"] == 1000


def test_a_cursor_of_one_filter_is_refused_by_another(api: Api, holders: Any) -> None:
    buyer, _ = holders[LARGE]
    of_paid = read(api, f"{INVOICES}?status=PAID&limit=20", buyer.token)
    for elsewhere in ("", "status=PENDING&", "status=paid&"):
        answer = api.get(f"{INVOICES}?{elsewhere}limit=20&cursor={of_paid['next_cursor']}", token=buyer.token)
        assert (answer.status, answer.json) == (400, {"error": "Invalid pagination parameters"}), elsewhere
