"""Usage reports raced against DynamoDB's real transaction engine (DynamoDB Local): the meter's version and the
reference guard keep every count, never pass the plan's limit, and count a reference once."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from chalicelib.auth.principal import Principal
from chalicelib.core.errors import DomainError
from chalicelib.events.envelope import Actor
from chalicelib.payments.capture import capture
from chalicelib.payments.outcomes import Payment
from chalicelib.usage.schemas import RecordUsageBody
from chalicelib.usage.service import record, usage
from tests.contract import BASIC
from tests.ddblocal.test_money_races import buy, new_customer

pytestmark = pytest.mark.usefixtures("ddb_stack")


def report(principal: Principal, **body: Any) -> Any:
    try:
        return record(principal, RecordUsageBody.model_validate(body))
    except DomainError as exc:
        return exc


def at_once(count: int, call: Any) -> list[Any]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(call, range(count)))


def test_racing_reports_keep_every_count() -> None:
    customer = new_customer()
    results = at_once(16, lambda _: report(customer, feature="renders", quantity=3))
    counted = [r for r in results if isinstance(r, dict)]
    assert {type(r).__name__ for r in results} <= {"dict", "Conflict"}  # a report may lose every retry: 409
    assert len(counted) >= 12, results
    assert sorted(r["used"] for r in counted) == list(range(3, 3 * len(counted) + 1, 3))  # no update lost
    assert usage(customer)["renders"]["used"] == 3 * len(counted)


def test_racing_reports_never_pass_the_limit() -> None:
    customer = new_customer()
    bought = buy(customer, plan_id=BASIC, payment_method_code="sandbox")
    capture(bought["invoice"]["id"], Payment("sandbox", "sandbox_usage"), Actor("provider", "sandbox"))
    assert report(customer, feature="api_calls", quantity=994)["used"] == 994
    results = at_once(12, lambda _: report(customer, feature="api_calls", quantity=1))
    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == {"dict": 6, "PaymentRequired": 6}, results
    assert sorted(r["used"] for r in results if isinstance(r, dict)) == list(range(995, 1001))
    metered = usage(customer)["api_calls"]
    assert (metered["used"], metered["limit"]) == (1000, 1000)


def test_racing_repeats_of_one_reference_count_once() -> None:
    customer = new_customer()
    results = at_once(12, lambda _: report(customer, feature="renders", quantity=5, reference="job-7"))
    assert all(isinstance(r, dict) for r in results), results
    assert {r["used"] for r in results} == {5}
    assert usage(customer)["renders"]["used"] == 5
