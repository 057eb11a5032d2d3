"""Pause and resume (contract subscriptions.md §9.3, §9.4, §10).

A pause stops an ACTIVE subscription and its linked add-ons (renewals and expiry stop; an unpaid renewal invoice
is voided); a resume starts them again with their expiry moved on by the pause's length. Every test holds a clock
(bought on 1 May 09:00, so a MONTHLY period ends on 1 June 09:00) and registers its own holders.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.core.clock import ManualClock
from tests.contract import PRO
from tests.integration.conftest import Api
from tests.integration.holders import NOT_FOUND, Holder, events, invoice_events, open_renewal

PAUSED = "Subscription paused."
RESUMED = "Subscription resumed. Expiration extended by pause duration."


@pytest.fixture
def holder(api: Api, manual_clock: ManualClock) -> Holder:
    return Holder(api, "pause")


def test_a_pause_stops_the_subscription_and_its_add_ons(holder, manual_clock):
    sub = holder.subscribe("pro", addons=("priority-support",))
    manual_clock.advance(timedelta(days=10))

    body = holder.ok(sub["id"], "pause")

    assert body["message"] == PAUSED
    after = body["subscription"]
    assert (after["status"], after["paused_at"], after["is_valid"]) == ("PAUSED", "2026-05-11T09:00:00Z", False)
    assert after["expires_at"] == "2026-06-01T09:00:00Z"
    assert [a["status"] for a in holder.subscription(sub["id"])["add_ons"]] == ["PAUSED"]
    stored = holder.stored(sub["id"])
    assert (stored.due_at, stored.live_sk is not None) == (None, True)  # nothing is due; it still holds its place
    [paused] = events("subscription.paused", sub["id"])
    assert (paused["paused_at"], paused["status"]) == ("2026-05-11T09:00:00Z", "PAUSED")


def test_a_resume_moves_the_expiry_on_by_the_pause(holder, manual_clock):
    sub = holder.subscribe("pro", addons=("priority-support",))
    manual_clock.advance(timedelta(days=10))
    holder.ok(sub["id"], "pause")
    manual_clock.advance(timedelta(days=45, hours=3))  # across the period end

    body = holder.ok(sub["id"], "resume")

    assert body["message"] == RESUMED
    after = body["subscription"]
    assert (after["status"], after["paused_at"], after["is_valid"]) == ("ACTIVE", None, True)
    assert after["expires_at"] == "2026-07-16T12:00:00Z"  # 1 June 09:00 + 45 days 3 hours
    assert holder.stored(sub["id"]).anchor_day == 16
    assert [(a["status"], a["expires_at"]) for a in holder.subscription(sub["id"])["add_ons"]] == [
        ("ACTIVE", "2026-07-16T12:00:00Z")
    ]
    [resumed] = events("subscription.resumed", sub["id"])
    assert resumed["expires_at"] == "2026-07-16T12:00:00Z"


def test_a_pause_voids_the_unpaid_renewal_and_the_unpaid_upgrade(holder):
    renewing = holder.subscribe("basic")
    renewal = open_renewal(holder.user_id, renewing["id"])
    upgrading = holder.subscribe("basic")
    upgrade = holder.ok(upgrading["id"], "upgrade", {"plan_id": PRO})["invoice"]

    for sub in (renewing, upgrading):
        assert holder.ok(sub["id"], "pause")["subscription"]["pending_invoice_id"] is None

    for invoice_id in (renewal, upgrade["id"]):
        assert holder.invoice(invoice_id)["status"] == "CANCELLED"
        assert [e["reason"] for e in invoice_events("invoice.voided", invoice_id)] == ["subscription_paused"]
    assert holder.stored(renewing["id"]).renewal_invoice_id is None


def test_a_paused_subscription_is_paused_once_and_resumed_once(holder):
    sub = holder.subscribe("basic")
    holder.ok(sub["id"], "pause")

    again = holder.post(sub["id"], "pause")
    assert (again.status, again.json) == (400, {"error": "Subscription is already paused"})
    holder.ok(sub["id"], "resume")
    twice = holder.post(sub["id"], "resume")
    assert (twice.status, twice.json) == (400, {"error": "Subscription is not paused"})
    assert len(events("subscription.paused", sub["id"])) == len(events("subscription.resumed", sub["id"])) == 1


def test_only_active_subscriptions_can_be_paused(holder):
    pending = holder.checkout("basic")["subscription"]
    trial = holder.subscribe("pro", trial=True)
    past_due = holder.subscribe("basic")
    holder.set(past_due["id"], status="PAST_DUE")
    ended = holder.subscribe("basic")
    holder.ok(ended["id"], "cancel", query="?immediately=true")
    for sub in (pending, trial, past_due, ended):
        answer = holder.post(sub["id"], "pause")
        assert (answer.status, answer.json) == (400, {"error": "Only active subscriptions can be paused"})
        answer = holder.post(sub["id"], "resume")
        assert (answer.status, answer.json) == (400, {"error": "Subscription is not paused"})


def test_a_paused_subscription_can_be_cancelled(holder):
    sub = holder.subscribe("pro", addons=("priority-support",))
    holder.ok(sub["id"], "pause")

    body = holder.ok(sub["id"], "cancel")

    assert (body["message"], body["subscription"]["status"]) == ("Subscription cancelled.", "CANCELLED")
    assert [a["status"] for a in holder.subscription(sub["id"])["add_ons"]] == ["CANCELLED"]


def test_a_pause_answers_its_idempotency_key_once(holder):
    sub = holder.subscribe("basic")
    key = {"Idempotency-Key": "pause-once"}

    first = holder.post(sub["id"], "pause", headers=key)
    again = holder.post(sub["id"], "pause", headers=key)

    assert (first.status, again.status) == (200, 200)
    assert again.json == first.json
    assert again.headers.get("idempotent-replayed") == "true"


def test_pause_and_resume_of_another_users_subscription_are_not_found(api, holder):
    sub = holder.subscribe("basic")
    other = Holder(api, "other")
    for action in ("pause", "resume"):
        answer = other.post(sub["id"], action)
        assert (answer.status, answer.json) == (404, NOT_FOUND)
    assert holder.subscription(sub["id"])["status"] == "ACTIVE"
