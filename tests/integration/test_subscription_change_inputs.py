"""Hostile input to the plan-change routes (subscriptions.md §8–§9): never a 500, always the contract's wording."""

from __future__ import annotations

import pytest

from chalicelib.core.clock import ManualClock
from tests.contract import PRO
from tests.integration.conftest import Api
from tests.integration.holders import Holder

ACTIONS = ("upgrade", "downgrade", "cancel", "reactivate", "pause", "resume")


@pytest.fixture
def holder(api: Api, manual_clock: ManualClock) -> Holder:
    return Holder(api, "inputs")


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("body", [[PRO], "plan", 5])
def test_a_body_that_is_not_an_object_is_refused(holder, action, body):
    sub = holder.subscribe("enterprise")
    answer = holder.post(sub["id"], action, body)
    assert answer.status == 400, answer.json
    assert set(answer.json) <= {"error", "fields"}
    assert holder.subscription(sub["id"])["status"] == "ACTIVE"


@pytest.mark.parametrize("action", ACTIONS)
def test_an_id_that_is_not_a_uuid_is_refused(holder, action):
    for subscription_id in ("not-a-uuid", "x" * 5000, "%F0%9F%92%A9"):
        answer = holder.post(subscription_id, action, {"plan_id": PRO})
        assert (answer.status, answer.json) == (400, {"error": "Invalid id"})


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?new_plan_id=" + "a" * 10_000, "Invalid new_plan_id format"),
        ("?new_plan_id=%00", "Invalid new_plan_id format"),
        ("?new_plan_id=12345678-1234-1234-1234-1234567890ab%20", "Invalid new_plan_id format"),
    ],
)
def test_the_preview_refuses_odd_plan_ids(holder, query, message):
    sub = holder.subscribe("basic")
    answer = holder.proration(sub["id"], query)
    assert (answer.status, answer.json) == (400, {"error": message})


def test_an_upper_case_plan_id_is_the_same_plan(holder):
    sub = holder.subscribe("basic")
    body = holder.ok(sub["id"], "upgrade", {"plan_id": PRO.upper()})
    assert body["invoice"]["tarif_plan_id"] == PRO


@pytest.mark.parametrize("value", ["", "maybe", "2", "tru"])
def test_cancel_refuses_a_flag_that_is_not_a_boolean(holder, value):
    sub = holder.subscribe("basic")
    answer = holder.post(sub["id"], "cancel", query=f"?immediately={value}")
    assert (answer.status, answer.json) == (400, {"error": "Invalid value for immediately"})
