"""Admin subscription create (admin.md §8.1): ACTIVE with its plan tokens now, or TRIALING, each with its invoice."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from chalicelib.core.clock import ManualClock
from chalicelib.core.ids import seed_id
from tests.integration.buyers import Buyer, balance_of, buy, events_about, german_buyer, invoice_of, paid
from tests.integration.conftest import ADMIN, Api

OBSERVER = ("observer@example.com", "ObserverPass123@")
PATH = "/api/v1/admin/subscriptions/"
BASIC = seed_id("plan", "basic")
PRO = seed_id("plan", "pro")  # a 3-day trial, 200 tokens
LIFETIME = seed_id("plan", "lifetime")  # ONE_TIME


def create(api: Api, body: dict[str, Any], **kwargs: Any) -> Any:
    return api.post(PATH, body, token=kwargs.pop("token", None) or api.token(*ADMIN), **kwargs)


def created(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    answer = create(api, body)
    assert answer.status == 201, answer.json
    return answer.json  # type: ignore[no-any-return]


def test_an_active_subscription_grants_now_and_bills_an_open_invoice(api: Api, manual_clock: ManualClock) -> None:
    buyer = german_buyer(api, "create-active")

    answer = created(api, {"user_id": buyer.user_id, "plan_id": BASIC})

    sub = answer["subscription"]
    assert (answer["status"], answer["user_id"], answer["tarif_plan_id"]) == ("ACTIVE", buyer.user_id, BASIC)
    assert (answer["started_at"], answer["expires_at"], answer["trial_end_at"]) == (
        "2026-05-01T09:00:00Z",
        "2026-06-01T09:00:00Z",
        None,
    )
    assert (sub["id"], sub["current_period_start"], sub["plan"]["name"]) == (
        answer["id"],
        "2026-05-01T09:00:00Z",
        "Basic",
    )
    invoice = answer["invoice"]
    assert (invoice["amount"], invoice["currency"], invoice["status"]) == ("11.89", "EUR", "PENDING")
    assert invoice["invoice_number"].startswith("INV-2026-")
    full = invoice_of(api, buyer.token, invoice["id"])
    assert (full["billing_reason"], full["due_date"], full["tax_rate"]) == (
        "SUBSCRIPTION_CREATE",
        "2026-05-31T09:00:00Z",
        "19.00",
    )
    assert sub["pending_invoice_id"] == invoice["id"]
    assert balance_of(api, buyer.token) == 50
    for event_type in ("subscription.created", "subscription.activated"):
        assert len(events_about(event_type, "subscription_id", answer["id"])) == 1, event_type
    assert len(events_about("invoice.created", "invoice_id", invoice["id"])) == 1
    assert [e["data"]["amount"] for e in events_about("tokens.credited", "user_id", buyer.user_id)] == [50]


def test_paying_the_invoice_of_an_active_subscription_grants_nothing_twice(api: Api, manual_clock: ManualClock) -> None:
    buyer = german_buyer(api, "create-pay")
    answer = created(api, {"user_id": buyer.user_id, "plan_id": BASIC})

    paid(api, buyer.token, answer["invoice"]["id"], payment_method_code="sandbox")

    assert balance_of(api, buyer.token) == 50
    current = api.get(f"/api/v1/user/subscriptions/{answer['id']}", token=buyer.token).json["subscription"]
    assert (current["status"], current["expires_at"]) == ("ACTIVE", "2026-06-01T09:00:00Z")
    assert len(events_about("subscription.activated", "subscription_id", answer["id"])) == 1


@pytest.mark.parametrize(
    ("extra", "expires_at"),
    [
        ({"started_at": "2026-01-31T00:00:00+02:00", "billing_period_months": 1}, "2026-02-28T22:00:00Z"),
        ({"started_at": "2026-03-15T12:00:00", "billing_period_months": 14}, "2027-05-15T12:00:00Z"),
        ({"plan_id": LIFETIME}, None),
    ],
)
def test_the_first_period_follows_started_at_and_billing_period_months(
    api: Api, manual_clock: ManualClock, extra: dict[str, Any], expires_at: str | None
) -> None:
    buyer = german_buyer(api, "create-period")

    answer = created(api, {"user_id": buyer.user_id, "plan_id": BASIC, **extra})

    assert answer["expires_at"] == expires_at


def test_a_trial_waits_for_its_first_invoice(api: Api, manual_clock: ManualClock) -> None:
    buyer = german_buyer(api, "create-trial")

    answer = created(api, {"user_id": buyer.user_id, "tarif_plan_id": PRO, "status": "Trialing"})

    assert (answer["status"], answer["trial_end_at"], answer["expires_at"]) == (
        "TRIALING",
        "2026-05-04T09:00:00Z",
        "2026-05-04T09:00:00Z",
    )
    assert invoice_of(api, buyer.token, answer["invoice"]["id"])["due_date"] == "2026-05-04T09:00:00Z"
    assert balance_of(api, buyer.token) == 0
    assert len(events_about("subscription.trial_started", "subscription_id", answer["id"])) == 1
    assert events_about("subscription.activated", "subscription_id", answer["id"]) == []
    cancelled = api.post(f"/api/v1/admin/subscriptions/{answer['id']}/cancel", {}, token=api.token(*ADMIN))
    assert cancelled.status == 200, cancelled.json
    again = create(api, {"user_id": buyer.user_id, "plan_id": PRO, "status": "trialing"})
    assert (again.status, again.json) == (409, {"error": "User has already used a trial"})


def test_a_replayed_idempotency_key_creates_once(api: Api, manual_clock: ManualClock) -> None:
    buyer = german_buyer(api, "create-replay")
    key = {"Idempotency-Key": str(uuid.uuid4())}

    first = create(api, {"user_id": buyer.user_id, "plan_id": BASIC}, headers=key)
    again = create(api, {"user_id": buyer.user_id, "plan_id": BASIC}, headers=key)

    assert first.status == again.status == 201
    assert again.json == first.json
    assert balance_of(api, buyer.token) == 50


def _holder(api: Api) -> Buyer:
    buyer = german_buyer(api, "create-holder")
    paid(api, buyer.token, buy(api, buyer, "basic")["invoice"]["id"])
    return buyer


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"plan_id": BASIC}, 400, "user_id is required"),
        ({"user_id": "{user}"}, 400, "plan_id is required"),
        ({"user_id": "nope", "plan_id": BASIC}, 400, "Invalid user_id format"),
        ({"user_id": "{user}", "plan_id": "nope"}, 400, "Invalid plan_id format"),
        (
            {"user_id": "{user}", "plan_id": BASIC, "started_at": "yesterday"},
            400,
            "Invalid started_at format. Use ISO 8601.",
        ),
        ({"user_id": "{user}", "plan_id": BASIC, "status": "paused"}, 400, "Invalid status: paused"),
        ({"user_id": "{user}", "plan_id": BASIC, "billing_period_months": 0}, 400, "Invalid billing_period_months"),
        ({"user_id": "{user}", "plan_id": BASIC, "billing_period_months": 1201}, 400, "Invalid billing_period_months"),
        ({"user_id": "{user}", "plan_id": BASIC, "billing_period_months": "2"}, 400, "Invalid billing_period_months"),
        ({"user_id": "{user}", "plan_id": BASIC, "status": "trialing"}, 400, "Plan has no trial period"),
        ({"user_id": str(uuid.uuid4()), "plan_id": BASIC}, 404, "User not found"),
        ({"user_id": "{user}", "plan_id": str(uuid.uuid4())}, 404, "Plan not found"),
        ({"user_id": "{holder}", "plan_id": BASIC}, 409, "User already has an active subscription"),
    ],
)
def test_refusals(api: Api, manual_clock: ManualClock, body: dict[str, Any], status: int, error: str) -> None:
    who = {"{user}": german_buyer(api, "create-refused").user_id}
    if "{holder}" in body.values():
        who["{holder}"] = _holder(api).user_id
    answer = create(api, {name: who.get(value, value) for name, value in body.items()})
    assert (answer.status, answer.json) == (status, {"error": error})


def test_observers_and_users_may_not_create(api: Api, manual_clock: ManualClock) -> None:
    buyer = german_buyer(api, "create-forbidden")
    for token, error in ((api.token(*OBSERVER), "Permission denied"), (buyer.token, "Admin access required")):
        answer = create(api, {"user_id": buyer.user_id, "plan_id": BASIC}, token=token)
        assert (answer.status, answer.json["error"]) == (403, error)
