"""What a page of `GET /user/invoices` costs on DynamoDB's own engine (DynamoDB Local): round trips, items read and
read capacity for 20 and for 2,000 invoices of one user (issue 6 §6). The integration test asserts the same on moto;
here the read units are DynamoDB's own count and the times are those of a real engine."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from chalice.test import Client

from tests.contract import PASSWORD
from tests.ddblocal.test_money_races import new_customer
from tests.integration.conftest import Api
from tests.integration.test_invoice_list_paging import INVOICES, LARGE, SMALL, all_paid, give_invoices, status_of

pytestmark = pytest.mark.usefixtures("ddb_stack")
MEASURED = ("GetItem", "BatchGetItem", "Query", "Scan")


@dataclass
class Cost:
    calls: list[str] = field(default_factory=list)
    items: int = 0
    read_units: float = 0.0
    seconds: float = 0.0


@pytest.fixture
def costs() -> Iterator[list[Cost]]:
    """Every DynamoDB call of this process is added to the newest `Cost` (reads ask for their consumed capacity)."""
    from chalicelib.store.connection import client

    log = [Cost()]
    events = client().meta.events

    def ask_capacity(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in MEASURED:
            params["ReturnConsumedCapacity"] = "TOTAL"

    def note(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        cost = log[-1]
        cost.calls.append(model.name)
        if model.name in ("Query", "Scan"):
            cost.items += int(parsed.get("ScannedCount", 0))
        elif model.name == "GetItem":
            cost.items += 1 if "Item" in parsed else 0
        elif model.name == "BatchGetItem":
            cost.items += sum(len(items) for items in parsed.get("Responses", {}).values())
        capacity = parsed.get("ConsumedCapacity") or []
        for part in capacity if isinstance(capacity, list) else [capacity]:
            cost.read_units += float(part.get("CapacityUnits", 0))

    events.register("before-parameter-build.dynamodb", ask_capacity, unique_id="invoice-cost-ask")
    events.register("after-call.dynamodb", note, unique_id="invoice-cost-note")
    try:
        yield log
    finally:
        events.unregister("before-parameter-build.dynamodb", unique_id="invoice-cost-ask")
        events.unregister("after-call.dynamodb", unique_id="invoice-cost-note")


def measure(api: Api, log: list[Cost], path: str, token: str, repeats: int = 5) -> Cost:
    """The request's cost, and its fastest time of `repeats`."""
    times = []
    for _ in range(repeats):
        cost = Cost()
        log.append(cost)
        began = time.perf_counter()
        answer = api.get(path, token=token)
        times.append(time.perf_counter() - began)
        log.append(Cost())
        assert answer.status == 200, answer.json
    cost.seconds = min(times)
    return cost


def test_a_page_of_2000_invoices_costs_what_a_page_of_20_does(costs: list[Cost]) -> None:
    from app import app

    figures: dict[int, dict[str, Cost]] = {}
    with Client(app) as client:
        api = Api(client)
        for count in (SMALL, LARGE):
            buyer = new_customer()
            give_invoices(buyer.user_id, count, status_of if count == LARGE else all_paid)
            token = api.token(buyer.user.email, PASSWORD)
            api.get(f"{INVOICES}?limit=1", token=token)  # a warm catalog snapshot, as in production
            cursor = api.get(f"{INVOICES}?limit=5", token=token).json["next_cursor"]
            figures[count] = {
                "limit=20": measure(api, costs, f"{INVOICES}?limit=20", token),
                "cursor": measure(api, costs, f"{INVOICES}?limit=5&cursor={cursor}", token),
                "status=PAID&limit=20": measure(api, costs, f"{INVOICES}?status=PAID&limit=20", token),
            }

    for name in ("limit=20", "cursor", "status=PAID&limit=20"):
        small, large = figures[SMALL][name], figures[LARGE][name]
        print(
            f"{name}: {SMALL} invoices {len(small.calls)} round trips, {small.items} items, {small.read_units} RCU, "
            f"{small.seconds * 1000:.0f} ms; {LARGE} invoices {len(large.calls)} round trips, {large.items} items, "
            f"{large.read_units} RCU, {large.seconds * 1000:.0f} ms"
        )
        assert large.calls == small.calls, name
        assert large.items - small.items <= 1, name
        assert large.read_units <= small.read_units + 1, name
