"""Admin subscription list (admin.md §8.2): newest first, by status, user, plan and e-mail, totals from counters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.audit.invariants import check_subscriber_counts
from chalicelib.core.clock import ManualClock
from chalicelib.core.ids import seed_id
from chalicelib.subscriptions.models import SubscriptionCountsItem
from tests.integration.buyers import Buyer, german_buyer
from tests.integration.conftest import ADMIN, Api

OBSERVER = ("observer@example.com", "ObserverPass123@")
PATH = "/api/v1/admin/subscriptions/"
BASIC = seed_id("plan", "basic")
QUARTERLY = seed_id("plan", "quarterly")


def listed(api: Api, query: str, token: str | None = None) -> Any:
    return api.get(f"{PATH}?{query}", token=token or api.token(*ADMIN))


def ids(body: dict[str, Any]) -> list[str]:
    return [s["id"] for s in body["subscriptions"]]


def subscribed(api: Api, tag: str, plan_id: str) -> tuple[Buyer, str]:
    buyer = german_buyer(api, tag)
    answer = api.post(PATH, {"user_id": buyer.user_id, "plan_id": plan_id}, token=api.token(*ADMIN))
    assert answer.status == 201, answer.json
    return buyer, str(answer.json["id"])


def test_the_list_filters_and_counts(fresh_api: Api, manual_clock: ManualClock) -> None:
    api = fresh_api
    made: dict[str, tuple[Buyer, str]] = {}
    for tag, plan in (("a", BASIC), ("b", QUARTERLY), ("c", BASIC)):
        manual_clock.advance(timedelta(minutes=1))
        made[tag] = subscribed(api, f"list-{tag}", plan)
    cancelled = api.post(f"{PATH}{made['c'][1]}/cancel", {}, token=api.token(*ADMIN))
    assert cancelled.status == 200, cancelled.json

    everything = listed(api, "limit=100").json
    assert everything["total"] == len(everything["subscriptions"])
    order = ids(everything)
    assert order.index(made["c"][1]) < order.index(made["b"][1]) < order.index(made["a"][1])  # newest first

    for status in ("CANCELLED", "canceled", "Active"):
        by_status = listed(api, f"status={status}&limit=100").json
        expected = "CANCELLED" if status.lower().startswith("cancel") else "ACTIVE"
        assert {s["status"] for s in by_status["subscriptions"]} == {expected}
        assert by_status["total"] == len(by_status["subscriptions"])
    assert made["c"][1] in ids(listed(api, "status=canceled&limit=100").json)

    buyer, sub_id = made["a"]
    mine = listed(api, f"user_id={buyer.user_id}").json
    assert (ids(mine), mine["total"]) == ([sub_id], 1)
    item = mine["subscriptions"][0]
    assert (item["user_email"], item["plan_id"], item["plan_name"]) == (buyer.email, BASIC, "Basic")
    assert (item["current_period_end"], item["canceled_at"]) == (item["expires_at"], None)
    assert ids(listed(api, f"search={buyer.email.upper()}").json) == [sub_id]
    assert ids(listed(api, f"search={buyer.email}&status=cancelled").json) == []
    assert listed(api, "search=nobody@example.com").json["total"] == 0

    quarterly = listed(api, f"plan_id={QUARTERLY}&limit=100").json
    assert ids(quarterly) == [made["b"][1]] and quarterly["total"] == 1
    assert ids(listed(api, "plan=quarterly").json) == [made["b"][1]]
    basic_active = listed(api, f"plan_id={BASIC}&status=active&limit=100").json
    assert made["a"][1] in ids(basic_active) and made["c"][1] not in ids(basic_active)
    assert basic_active["total"] == len(basic_active["subscriptions"])
    assert listed(api, "plan=No Such Plan").json["total"] == 0
    assert check_subscriber_counts() == []  # the every-subscription shards agree with the items stored


def test_the_checker_finds_an_every_subscription_count_that_disagrees(api: Api, manual_clock: ManualClock) -> None:
    _, sub_id = subscribed(api, "miscount", BASIC)
    shard = SubscriptionCountsItem.get(*SubscriptionCountsItem.key(sub_id))
    shard.update(actions=[SubscriptionCountsItem.PAUSED.add(1)])
    try:
        found = [str(v) for v in check_subscriber_counts()]
        assert (
            [v for v in found if "every subscription" in v]
            == [v for v in found if v.startswith("[subscribers] every subscription: PAUSED: ")]
            != []
        ), found
    finally:
        shard.update(actions=[SubscriptionCountsItem.PAUSED.add(-1)])


def test_the_list_pages_with_cursors_and_offsets(api: Api, manual_clock: ManualClock) -> None:
    for n in range(3):
        manual_clock.advance(timedelta(minutes=1))
        subscribed(api, f"page-{n}", BASIC)
    whole = ids(listed(api, "limit=100").json)

    first = listed(api, "limit=2").json
    second = listed(api, f"limit=2&cursor={first['next_cursor']}").json
    by_offset = listed(api, "limit=2&offset=2").json
    active_first = listed(api, "status=active&limit=2").json
    active_second = listed(api, f"status=active&limit=2&cursor={active_first['next_cursor']}").json

    assert ids(first) == whole[:2]
    assert ids(second) == whole[2:4] == ids(by_offset)
    assert (first["total"], first["pages"], first["page"]) == (len(whole), (len(whole) + 1) // 2, 1)
    active = ids(listed(api, "status=active&limit=100").json)
    assert ids(active_first) + ids(active_second) == active[:4]


@pytest.mark.parametrize(
    ("query", "error"),
    [("status=shipped", "Invalid status: shipped"), ("user_id=nope", "Invalid user_id format")],
)
def test_the_list_refuses_bad_filters(api: Api, query: str, error: str) -> None:
    answer = listed(api, query)
    assert (answer.status, answer.json) == (400, {"error": error})


def test_observers_read_and_users_may_not(api: Api) -> None:
    assert listed(api, "limit=1", token=api.token(*OBSERVER)).status == 200
    buyer = german_buyer(api, "list-forbidden")
    answer = listed(api, "limit=1", token=buyer.token)
    assert (answer.status, answer.json["error"]) == (403, "Admin access required")
