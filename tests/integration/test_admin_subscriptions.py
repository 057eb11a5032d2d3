"""Admin subscriptions (admin.md §8.3–§8.6): detail, cancel, extend, activate — every status change through the
state machine, every message of the contract."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from chalicelib.core.clock import ManualClock
from tests.contract import BASIC, INVALID_ID, PRO
from tests.integration.buyers import (
    Buyer,
    balance_of,
    buy_basic_and_tokens,
    events_about,
    german_buyer,
    paid,
)
from tests.integration.conftest import ADMIN, Api

OBSERVER = ("observer@example.com", "ObserverPass123@")
PATH = "/api/v1/admin/subscriptions"


def active(api: Api, tag: str) -> tuple[Buyer, dict[str, Any]]:
    buyer = german_buyer(api, tag)
    bought = buy_basic_and_tokens(api, buyer.token, payment_method_code="sandbox")
    paid(api, buyer.token, bought["invoice"]["id"])
    return buyer, bought


def act(api: Api, sub_id: str, action: str, body: dict[str, Any] | None = None) -> Any:
    return api.post(f"{PATH}/{sub_id}/{action}", body or {}, token=api.token(*ADMIN))


def test_the_detail_has_plan_add_ons_and_payment_history(api: Api, manual_clock: ManualClock) -> None:
    buyer, bought = active(api, "sub-detail")
    sub_id = bought["subscription"]["id"]

    answer = api.get(f"{PATH}/{sub_id}", token=api.token(*OBSERVER))

    assert answer.status == 200, answer.json
    sub = answer.json["subscription"]
    assert (sub["user_email"], sub["plan_name"], sub["plan_price"], sub["status"]) == (
        buyer.email,
        "Basic",
        "9.99",
        "ACTIVE",
    )
    assert (sub["current_period_end"], sub["canceled_at"], sub["add_ons"]) == ("2026-06-01T09:00:00Z", None, [])
    assert [(p["id"], p["amount"], p["status"]) for p in sub["payment_history"]] == [
        (bought["invoice"]["id"], 15.46, "PAID")
    ]


def test_extend_moves_the_end_by_the_days(api: Api, manual_clock: ManualClock) -> None:
    _, bought = active(api, "sub-extend")
    sub_id = bought["subscription"]["id"]

    answer = act(api, sub_id, "extend", {"days": 10})
    default = act(api, sub_id, "extend")

    assert answer.status == 200, answer.json
    assert answer.json["message"] == "Subscription extended by 10 days"
    assert answer.json["subscription"]["expires_at"] == "2026-06-11T09:00:00Z"
    assert (default.json["message"], default.json["subscription"]["expires_at"]) == (
        "Subscription extended by 30 days",
        "2026-07-11T09:00:00Z",
    )
    assert sorted(e["data"]["days"] for e in events_about("subscription.extended", "subscription_id", sub_id)) == [
        10,
        30,
    ]


@pytest.mark.parametrize("days", [0, -1, 3651, "10", 1.5, True])
def test_extend_refuses_days_out_of_range(api: Api, days: Any) -> None:
    answer = act(api, str(uuid.uuid4()), "extend", {"days": days})
    assert (answer.status, answer.json) == (400, {"error": "days must be a positive integer"})


def test_cancel_is_immediate_by_default_then_activate_brings_it_back(api: Api, manual_clock: ManualClock) -> None:
    buyer, bought = active(api, "sub-cancel")
    sub_id = bought["subscription"]["id"]

    cancelled = act(api, sub_id, "cancel", {"reason": "Fraud check"})
    again = act(api, sub_id, "cancel")
    activated = act(api, sub_id, "activate")
    twice = act(api, sub_id, "activate")

    assert cancelled.status == 200, cancelled.json
    assert cancelled.json["message"] == "Subscription cancelled"
    sub = cancelled.json["subscription"]
    assert (sub["status"], sub["cancel_reason"], sub["canceled_at"]) == (
        "CANCELLED",
        "Fraud check",
        "2026-05-01T09:00:00Z",
    )
    assert (again.status, again.json) == (400, {"error": "Subscription is already cancelled or expired"})
    assert activated.status == 200, activated.json
    assert activated.json["message"] == "Subscription activated"
    sub = activated.json["subscription"]
    assert (sub["status"], sub["cancelled_at"], sub["expires_at"]) == ("ACTIVE", None, "2026-06-01T09:00:00Z")
    assert balance_of(api, buyer.token) == 200  # the plan's 50 tokens credited again
    assert (twice.status, twice.json) == (400, {"error": "Subscription is already active"})
    [event] = events_about("subscription.cancelled", "subscription_id", sub_id)
    assert (event["data"]["reason"], event["actor"]["type"]) == ("Fraud check", "admin")


def test_cancel_at_the_period_end_when_asked(api: Api, manual_clock: ManualClock) -> None:
    _, bought = active(api, "sub-cancel-later")

    answer = act(api, bought["subscription"]["id"], "cancel", {"immediately": False})

    assert answer.status == 200, answer.json
    sub = answer.json["subscription"]
    assert (sub["status"], sub["cancel_at_period_end"], sub["cancel_reason"]) == ("ACTIVE", True, "admin")


def test_a_trial_is_activated_only_by_its_payment(api: Api, manual_clock: ManualClock) -> None:
    from chalicelib.subscriptions.models import SubscriptionItem
    from tests.integration.buyers import set_holding

    buyer, bought = active(api, "sub-trial")
    set_holding(SubscriptionItem, buyer.user_id, bought["subscription"]["id"], status="TRIALING")

    answer = act(api, bought["subscription"]["id"], "activate")

    assert (answer.status, answer.json) == (
        400,
        {"error": "Trial subscriptions can only be activated via invoice payment"},
    )


@pytest.mark.parametrize(
    ("method", "suffix"), [("GET", ""), ("POST", "/cancel"), ("POST", "/extend"), ("POST", "/activate")]
)
def test_unknown_subscriptions_answer_404(api: Api, method: str, suffix: str) -> None:
    answer = api.request(method, f"{PATH}/{uuid.uuid4()}{suffix}", json_body={}, token=api.token(*ADMIN))
    assert (answer.status, answer.json) == (404, {"error": "Subscription not found"})
    bad = api.request(method, f"{PATH}/nope{suffix}", json_body={}, token=api.token(*ADMIN))
    assert bad.json == INVALID_ID


@pytest.mark.parametrize("suffix", ["/cancel", "/extend", "/activate"])
def test_observers_may_not_change_subscriptions(api: Api, suffix: str) -> None:
    answer = api.post(f"{PATH}/{uuid.uuid4()}{suffix}", {}, token=api.token(*OBSERVER))
    assert (answer.status, answer.json["error"]) == (403, "Permission denied")


def test_change_plan_switches_at_once_without_an_invoice(api: Api, manual_clock: ManualClock) -> None:
    buyer, bought = active(api, "sub-plan")
    sub_id = bought["subscription"]["id"]
    invoices_before = len(api.get("/api/v1/user/invoices", token=buyer.token).json["invoices"])

    answer = api.put(f"{PATH}/{sub_id}/plan", {"plan_id": PRO}, token=api.token(*ADMIN))

    assert answer.status == 200, answer.json
    assert answer.json["message"] == "Subscription plan changed"
    sub = answer.json["subscription"]
    assert (sub["tarif_plan_id"], sub["plan_id"], sub["expires_at"]) == (PRO, PRO, "2026-06-01T09:00:00Z")
    assert len(api.get("/api/v1/user/invoices", token=buyer.token).json["invoices"]) == invoices_before
    assert balance_of(api, buyer.token) == 150  # no tokens credited
    [event] = events_about("subscription.plan_changed", "subscription_id", sub_id)
    assert (event["data"]["from_plan_id"], event["data"]["to_plan_id"]) == (BASIC, PRO)
    same = api.put(f"{PATH}/{sub_id}/plan", {"plan_id": PRO}, token=api.token(*ADMIN))
    assert (same.status, same.json) == (400, {"error": "Already subscribed to this plan"})


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "plan_id is required"),
        ({"plan_id": ""}, "plan_id is required"),
        ({"plan_id": "basic"}, "Invalid plan_id format"),
        ({"plan_id": str(uuid.UUID(int=7))}, "Plan not found"),
    ],
)
def test_change_plan_refusals(api: Api, manual_clock: ManualClock, body: dict[str, Any], error: str) -> None:
    _, bought = active(api, f"sub-plan-{uuid.uuid4().hex[:6]}")
    answer = api.put(f"{PATH}/{bought['subscription']['id']}/plan", body, token=api.token(*ADMIN))
    assert (answer.status, answer.json) == (400, {"error": error})


def test_only_live_subscriptions_change_plan(api: Api, manual_clock: ManualClock) -> None:
    _, bought = active(api, "sub-plan-ended")
    sub_id = bought["subscription"]["id"]
    act(api, sub_id, "cancel")

    answer = api.put(f"{PATH}/{sub_id}/plan", {"plan_id": PRO}, token=api.token(*ADMIN))

    assert (answer.status, answer.json) == (400, {"error": "Only active subscriptions can change plan"})
    missing = api.put(f"{PATH}/{uuid.uuid4()}/plan", {"plan_id": PRO}, token=api.token(*ADMIN))
    assert (missing.status, missing.json) == (404, {"error": "Subscription not found"})


def test_extending_withdraws_an_open_renewal_and_the_job_bills_the_period_that_now_follows(
    fresh_api: Api, manual_clock: ManualClock
) -> None:
    """An open renewal bills the period from the old end; once the end moves it no longer follows. The extension
    voids it and gives its period back, and the lifecycle issues the renewal of the new period at its lead time."""
    from datetime import timedelta

    from chalicelib.jobs import run
    from chalicelib.subscriptions.repository import subscription_of
    from tests.integration.conftest import drain_events
    from tests.integration.holders import open_renewal

    api = fresh_api
    buyer, bought = active(api, "extend-open-renewal")
    sub_id = bought["subscription"]["id"]
    manual_clock.set(manual_clock.now().replace(day=31))  # inside the lead time of the end on 1 June
    first = open_renewal(buyer.user_id, sub_id)

    assert act(api, sub_id, "extend", {"days": 10}).status == 200

    stored = subscription_of(buyer.user_id, sub_id)
    assert stored is not None and stored.renewal_invoice_id is None and stored.pending_invoice_id is None
    assert stored.expires_at is not None and stored.expires_at.isoformat().startswith("2026-06-11T09:00:00")
    admin = api.token(*ADMIN)
    assert api.get(f"/api/v1/admin/invoices/{first}", token=admin).json["invoice"]["status"] == "CANCELLED"
    manual_clock.set(stored.expires_at - timedelta(hours=1))
    run("subscription-lifecycle")
    drain_events()
    drain_events()
    renewed = subscription_of(buyer.user_id, sub_id)
    assert renewed is not None and renewed.expires_at is not None
    assert renewed.expires_at.isoformat().startswith("2026-07-11T09:00:00")  # the period from the new end, paid
    assert renewed.current_period_start == stored.expires_at


def test_a_renewal_paid_after_its_period_stopped_following_is_credited_back(
    fresh_api: Api, manual_clock: ManualClock
) -> None:
    """The capture's safety net: a renewal whose period no longer starts at the subscription's end grants nothing,
    so its line is refunded with a credit note instead of kept for nothing."""
    from datetime import timedelta

    from chalicelib.subscriptions.models import SubscriptionItem
    from chalicelib.subscriptions.repository import subscription_of
    from tests.integration.buyers import set_holding
    from tests.integration.holders import open_renewal

    api = fresh_api
    buyer, bought = active(api, "renewal-no-longer-follows")
    sub_id = bought["subscription"]["id"]
    manual_clock.set(manual_clock.now().replace(day=31))
    renewal = open_renewal(buyer.user_id, sub_id)
    before = subscription_of(buyer.user_id, sub_id)
    assert before is not None and before.expires_at is not None
    set_holding(SubscriptionItem, buyer.user_id, sub_id, expires_at=before.expires_at + timedelta(days=5))

    answer = api.post(f"/api/v1/admin/invoices/{renewal}/mark-paid", {}, token=api.token(*ADMIN))

    assert answer.status == 200, answer.json
    invoice = answer.json["invoice"]
    assert invoice["status"] == "REFUNDED" and invoice["amount_refunded"] == invoice["total_amount"]
    after = subscription_of(buyer.user_id, sub_id)
    assert after is not None and after.expires_at == before.expires_at + timedelta(days=5)  # nothing granted
