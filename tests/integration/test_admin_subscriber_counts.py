"""Subscriber counts are maintained, never counted at read time (admin.md §4, §4.8): every subscription write that
changes a plan or a status moves its plan's counter in the same transaction, and the invariant checker finds the
counters equal to the subscriptions stored."""

from __future__ import annotations

from typing import Any

from chalicelib.audit.invariants import check_subscriber_counts
from chalicelib.subscriptions.models import PlanSubscribersItem
from tests.integration.admin_catalog import ADMIN_API, admin_token, new_plan, subscribe
from tests.integration.buyers import german_buyer, paid
from tests.integration.conftest import Api, drain_events


def by_status(api: Api, token: str, plan_id: str) -> dict[str, Any]:
    answer = api.get(f"{ADMIN_API}/tarif-plans/{plan_id}/subscribers/count", token=token)
    assert answer.status == 200
    return answer.json["by_status"]  # type: ignore[no-any-return]


def stored_counts(plan_id: str) -> dict[str, int]:
    """The plan's counter item, its non-zero numbers."""
    counts = PlanSubscribersItem.get(*PlanSubscribersItem.key(plan_id))
    numbers = {name: int(value) for name, value in counts.attribute_values.items() if isinstance(value, int | float)}
    return {name: value for name, value in numbers.items() if value}


def test_the_counts_follow_checkout_payment_pause_and_a_plan_change(api: Api) -> None:
    token = admin_token(api)
    small, large = new_plan(api, token, price="5"), new_plan(api, token, price="50")
    buyer = german_buyer(api, "counted")
    bought = subscribe(api, buyer.token, small["id"])
    sub_id = bought["subscription"]["id"]
    assert stored_counts(small["id"]) == {"total": 1, "PENDING": 1}
    assert by_status(api, token, small["id"]) == {"TRIALING": 0, "ACTIVE": 0, "PAST_DUE": 0, "PAUSED": 0}

    paid(api, buyer.token, bought["invoice"]["id"])
    drain_events()
    assert stored_counts(small["id"]) == {"total": 1, "ACTIVE": 1}
    assert by_status(api, token, small["id"])["ACTIVE"] == 1

    paused = api.post(f"/api/v1/user/subscriptions/{sub_id}/pause", {}, token=buyer.token)
    assert paused.status == 200, paused.json
    assert by_status(api, token, small["id"]) == {"TRIALING": 0, "ACTIVE": 0, "PAST_DUE": 0, "PAUSED": 1}
    assert api.post(f"/api/v1/user/subscriptions/{sub_id}/resume", {}, token=buyer.token).status == 200

    upgrade = api.post(f"/api/v1/user/subscriptions/{sub_id}/upgrade", {"plan_id": large["id"]}, token=buyer.token)
    assert upgrade.status in (200, 201), upgrade.json
    assert upgrade.json["invoice"]["status"] == "PAID"  # charged to the saved sandbox method at once
    drain_events()

    assert by_status(api, token, small["id"])["ACTIVE"] == 0
    assert by_status(api, token, large["id"])["ACTIVE"] == 1
    assert stored_counts(small["id"]) == {} and stored_counts(large["id"]) == {"total": 1, "ACTIVE": 1}
    listed = {p["id"]: p["subscriber_count"] for p in api.get(f"{ADMIN_API}/tarif-plans/", token=token).json["plans"]}
    assert (listed[small["id"]], listed[large["id"]]) == (0, 1)
    assert check_subscriber_counts() == []


def test_the_checker_finds_a_counter_that_disagrees(api: Api) -> None:
    token = admin_token(api)
    plan = new_plan(api, token)
    subscribe(api, german_buyer(api, "miscounted").token, plan["id"])
    assert check_subscriber_counts() == []

    counts = PlanSubscribersItem.get(*PlanSubscribersItem.key(plan["id"]))
    counts.update(actions=[PlanSubscribersItem.PENDING.add(1)])

    [violation] = check_subscriber_counts()
    assert (violation.rule, violation.subject) == ("subscribers", f"plan {plan['id']}")
    assert violation.detail == "PENDING: 2 counted, 1 stored"
    counts.update(actions=[PlanSubscribersItem.PENDING.add(-1)])
