"""Metered usage (contract subscriptions.md §2.6, §12.4): `GET/POST /api/v1/user/usage`.

Shared seeded account: every test registers its own users. A Basic subscriber's plan sets `api_calls_limit: 1000`.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.core import clock
from chalicelib.usage.models import UsageMeterItem, UsageReferenceItem
from tests.integration.buyers import Buyer, buy, paid, read, register_buyer, relogin, token_holder
from tests.integration.conftest import Api, at_once

USAGE = "/api/v1/user/usage"
MAY_1 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def basic_subscriber(api: Api, tag: str) -> tuple[Buyer, dict[str, Any]]:
    """A new user whose Basic subscription was bought and paid now; the subscription as read back."""
    buyer = register_buyer(api, tag)
    bought = buy(api, buyer, "basic")
    paid(api, buyer.token, bought["invoice"]["id"])
    active = read(api, "/api/v1/user/subscriptions/active", buyer.token)["subscription"]
    assert active["status"] == "ACTIVE"
    return buyer, active


def test_without_a_subscription_usage_counts_by_calendar_month(api: Api, manual_clock: clock.ManualClock) -> None:
    manual_clock.set(datetime(2026, 5, 17, 13, 30, tzinfo=UTC))
    buyer = register_buyer(api, "month")
    month = {"period_start": "2026-05-01T00:00:00Z", "period_end": "2026-06-01T00:00:00Z"}
    assert read(api, USAGE, buyer.token) == {
        "tokens": {"used": 0, "limit": None, "balance": 0, "unit": "tokens", **month}
    }

    answer = api.post(USAGE, {"feature": "api_calls", "quantity": 5}, token=buyer.token)
    assert (answer.status, answer.json) == (200, {"feature": "api_calls", "used": 5, "limit": None, **month})
    assert read(api, USAGE, buyer.token)["api_calls"] == {"used": 5, "limit": None, "unit": "api_calls", **month}

    manual_clock.set(datetime(2026, 12, 31, 23, 0, tzinfo=UTC))
    december = relogin(api, buyer)
    usage = read(api, USAGE, december.token)
    assert usage["tokens"]["period_end"] == "2027-01-01T00:00:00Z"
    assert "api_calls" not in usage  # a new period starts new meters


def test_a_subscriber_counts_in_the_subscription_s_period_against_the_plan_limit(
    api: Api, manual_clock: clock.ManualClock
) -> None:
    manual_clock.set(MAY_1)
    buyer, subscription = basic_subscriber(api, "metered")
    period = {"period_start": "2026-05-01T09:00:00Z", "period_end": "2026-06-01T09:00:00Z"}
    assert subscription["expires_at"] == period["period_end"]
    usage = read(api, USAGE, buyer.token)
    assert usage["api_calls"] == {"used": 0, "limit": 1000, "unit": "api_calls", **period}
    assert usage["tokens"] == {"used": 0, "limit": None, "balance": 50, "unit": "tokens", **period}

    first = api.post(USAGE, {"feature": "api_calls", "quantity": 998}, token=buyer.token)
    assert (first.status, first.json) == (200, {"feature": "api_calls", "used": 998, "limit": 1000, **period})
    refused = api.post(USAGE, {"feature": "api_calls", "quantity": 3}, token=buyer.token)
    assert (refused.status, refused.json) == (
        402,
        {"error": "Usage limit reached", "feature": "api_calls", "limit": 1000, "used": 998},
    )
    last = api.post(USAGE, {"feature": "api_calls", "quantity": 2}, token=buyer.token)
    assert (last.status, last.json["used"]) == (200, 1000)

    other = api.post(USAGE, {"feature": "exports", "quantity": 7}, token=buyer.token)
    assert (other.status, other.json["limit"]) == (200, None)
    consumed = api.post("/api/v1/user/tokens/consume", {"amount": 30}, token=buyer.token)
    assert consumed.status == 200
    usage = read(api, USAGE, buyer.token)
    assert list(usage) == ["tokens", "api_calls", "exports"]
    assert usage["api_calls"]["used"] == 1000 and usage["exports"]["used"] == 7
    assert usage["tokens"] == {"used": 30, "limit": None, "balance": 20, "unit": "tokens", **period}


def test_a_reference_counts_once_and_a_different_quantity_with_it_is_409(api: Api) -> None:
    buyer = register_buyer(api, "reference")
    body = {"feature": "renders", "quantity": 4, "reference": "job-1"}
    first = api.post(USAGE, body, token=buyer.token)
    assert first.status == 200 and first.json["used"] == 4
    assert api.post(USAGE, {"feature": "renders", "quantity": 1}, token=buyer.token).json["used"] == 5
    repeat = api.post(USAGE, body, token=buyer.token)
    assert (repeat.status, repeat.json) == (200, first.json)  # answered as before, not counted again
    different = api.post(USAGE, {**body, "quantity": 5}, token=buyer.token)
    assert (different.status, different.json) == (409, {"error": "Reference already used with a different quantity"})
    elsewhere = api.post(USAGE, {**body, "feature": "uploads"}, token=buyer.token)  # unique per user and feature
    assert elsewhere.status == 200 and elsewhere.json["used"] == 4
    assert read(api, USAGE, buyer.token)["renders"]["used"] == 5


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"quantity": 1}, "feature is required"),
        ({"feature": None, "quantity": 1}, "feature is required"),
        ({"feature": "Api", "quantity": 1}, "Invalid feature name"),
        ({"feature": "tokens", "quantity": 1}, "Invalid feature name"),
        ({"feature": "a" * 51, "quantity": 1}, "Invalid feature name"),
        ({"feature": "", "quantity": 1}, "Invalid feature name"),
        ({"feature": 12, "quantity": 1}, "Invalid feature name"),
        ({"feature": {"a": 1}, "quantity": 1}, "Invalid feature name"),
        ({"feature": "api-calls", "quantity": 1}, "Invalid feature name"),
        ({"feature": "api_calls\n", "quantity": 1}, "Invalid feature name"),
        ({"feature": "api_calls"}, "quantity must be a positive integer"),
        ({"feature": "api_calls", "quantity": 0}, "quantity must be a positive integer"),
        ({"feature": "api_calls", "quantity": -1}, "quantity must be a positive integer"),
        ({"feature": "api_calls", "quantity": 2.5}, "quantity must be a positive integer"),
        ({"feature": "api_calls", "quantity": "3"}, "quantity must be a positive integer"),
        ({"feature": "api_calls", "quantity": True}, "quantity must be a positive integer"),
        ({"feature": "api_calls", "quantity": 1_000_001}, "quantity must be a positive integer"),
        ({"feature": "api_calls", "quantity": 10**40}, "quantity must be a positive integer"),
        ({"feature": "api_calls", "quantity": 1, "reference": ""}, "reference must be 1-255 characters"),
        ({"feature": "api_calls", "quantity": 1, "reference": "r" * 256}, "reference must be 1-255 characters"),
        ({"feature": "api_calls", "quantity": 1, "reference": 7}, "reference must be 1-255 characters"),
    ],
)
def test_invalid_reports_are_400_and_count_nothing(api: Api, body: dict[str, Any], message: str) -> None:
    buyer = register_buyer(api, "invalid")
    answer = api.post(USAGE, body, token=buyer.token)
    assert (answer.status, answer.json) == (400, {"error": message})
    assert list(read(api, USAGE, buyer.token)) == ["tokens"]


def test_the_body_is_strict(api: Api) -> None:
    buyer = register_buyer(api, "strict")
    answer = api.post(USAGE, {"feature": "api_calls", "quantity": 1, "extra": 1}, token=buyer.token)
    assert answer.status == 400 and answer.json["error"] == "extra: Unknown field."


def test_usage_is_for_signed_in_users(api: Api) -> None:
    assert api.get(USAGE).status == 401
    assert api.post(USAGE, {"feature": "api_calls", "quantity": 1}).status == 401


def test_racing_reports_never_pass_the_limit_nor_lose_a_count(
    api: Api, atomic_dynamodb: None, manual_clock: clock.ManualClock
) -> None:
    manual_clock.set(MAY_1)
    buyer, _ = basic_subscriber(api, "racing")
    assert api.post(USAGE, {"feature": "api_calls", "quantity": 990}, token=buyer.token).status == 200
    answers = at_once(16, lambda _: api.post(USAGE, {"feature": "api_calls", "quantity": 1}, token=buyer.token))
    assert Counter(a.status for a in answers) == {200: 10, 402: 6}
    assert sorted(a.json["used"] for a in answers if a.status == 200) == list(range(991, 1001))
    assert read(api, USAGE, buyer.token)["api_calls"]["used"] == 1000


def test_racing_repeats_of_one_reference_count_once(api: Api, atomic_dynamodb: None) -> None:
    buyer = register_buyer(api, "repeats")
    body = {"feature": "renders", "quantity": 3, "reference": "batch-9"}
    answers = at_once(12, lambda _: api.post(USAGE, body, token=buyer.token))
    assert [a.status for a in answers] == [200] * 12
    assert {a.json["used"] for a in answers} == {3}
    assert read(api, USAGE, buyer.token)["renders"]["used"] == 3


def test_meters_and_references_are_keyed_in_the_user_s_ledger_partition(
    api: Api, manual_clock: clock.ManualClock
) -> None:
    manual_clock.set(MAY_1 + timedelta(days=3))
    buyer = register_buyer(api, "keys")
    assert api.post(USAGE, {"feature": "renders", "quantity": 2, "reference": "r1"}, token=buyer.token).status == 200
    meters = list(UsageMeterItem.query(f"USER#{buyer.user_id}", UsageMeterItem.sk.startswith("USAGE#")))
    assert [m.sk for m in meters] == ["USAGE#2026-05-01T00:00:00.000000Z#renders"]
    references = list(UsageReferenceItem.query(f"USER#{buyer.user_id}", UsageReferenceItem.sk.startswith("USAGEREF#")))
    assert [r.sk for r in references] == ["USAGEREF#renders#r1"]


def test_a_token_holder_sees_consumption_of_this_month_only(api: Api, manual_clock: clock.ManualClock) -> None:
    manual_clock.set(datetime(2026, 4, 20, tzinfo=UTC))
    holder = token_holder(api, "tokens")
    assert api.post("/api/v1/user/tokens/consume", {"amount": 10}, token=holder.token).status == 200
    manual_clock.set(datetime(2026, 5, 2, tzinfo=UTC))
    holder = relogin(api, holder)
    assert api.post("/api/v1/user/tokens/consume", {"amount": 4}, token=holder.token).status == 200
    tokens = read(api, USAGE, holder.token)["tokens"]
    assert (tokens["used"], tokens["balance"]) == (4, 86)


def test_an_idempotency_key_replays_the_report_without_counting_again(api: Api) -> None:
    buyer = register_buyer(api, "idempotent")
    headers = {"Idempotency-Key": "usage-report-1"}
    body = {"feature": "renders", "quantity": 6}
    first = api.post(USAGE, body, token=buyer.token, headers=headers)
    again = api.post(USAGE, body, token=buyer.token, headers=headers)
    assert first.status == again.status == 200
    assert again.json == first.json
    assert read(api, USAGE, buyer.token)["renders"]["used"] == 6
    other = api.post(USAGE, {**body, "quantity": 7}, token=buyer.token, headers=headers)
    assert other.status == 422
