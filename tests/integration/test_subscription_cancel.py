"""Cancel and reactivate (contract subscriptions.md §9.1, §9.2, §10).

A cancel ends an ACTIVE or TRIALING subscription at its period (trial) end — access continues, its linked recurring
add-ons are scheduled with it, an unpaid renewal invoice is voided — or now with `?immediately=true`; any other live
subscription ends now. Reactivating undoes a scheduled cancellation. Every test holds a clock (bought on 1 May
09:00) and registers its own holders.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.core.clock import ManualClock
from tests.contract import ENTERPRISE
from tests.integration.conftest import Api
from tests.integration.holders import NOT_FOUND, Holder, addon_events, events, invoice_events, open_renewal

SCHEDULED = "Subscription cancelled. Access continues until expiration."
CANCELLED = "Subscription cancelled."
REACTIVATED = "Subscription reactivated."
ENDED = {"error": "Subscription is already cancelled or expired"}


@pytest.fixture
def holder(api: Api, manual_clock: ManualClock) -> Holder:
    return Holder(api, "cancel")


# --- at the period end ------------------------------------------------------------------------------------------


def test_a_cancel_schedules_the_end_and_access_continues(holder, manual_clock):
    sub = holder.subscribe("pro", addons=("extra-storage-50gb", "dedicated-onboarding"))
    storage, onboarding = sorted(sub["add_ons"], key=lambda a: a["expires_at"] is None)
    manual_clock.advance(timedelta(days=3))

    body = holder.ok(sub["id"], "cancel")

    assert body["message"] == SCHEDULED
    after = body["subscription"]
    assert (after["status"], after["is_valid"], after["cancel_at_period_end"]) == ("ACTIVE", True, True)
    assert (after["cancelled_at"], after["cancel_reason"]) == ("2026-05-04T09:00:00Z", "user")
    assert after["expires_at"] == sub["expires_at"]
    addons = {a["id"]: a for a in holder.subscription(sub["id"])["add_ons"]}
    assert (addons[storage["id"]]["status"], addons[storage["id"]]["cancel_at_period_end"]) == ("ACTIVE", True)
    assert addons[onboarding["id"]]["cancel_at_period_end"] is False  # bought for good (§10)
    [scheduled] = events("subscription.cancellation_scheduled", sub["id"])
    assert (scheduled["reason"], scheduled["expires_at"]) == ("user", sub["expires_at"])
    assert len(addon_events("addon.cancellation_scheduled", storage["id"])) == 1
    assert events("subscription.cancelled", sub["id"]) == []


def test_a_scheduled_cancel_again_changes_nothing(holder, manual_clock):
    sub = holder.subscribe("basic")
    first = holder.ok(sub["id"], "cancel", {"reason": "too expensive"})
    manual_clock.advance(timedelta(hours=1))

    again = holder.ok(sub["id"], "cancel")

    assert again["subscription"] == first["subscription"] | {"days_remaining": again["subscription"]["days_remaining"]}
    assert first["subscription"]["cancel_reason"] == "too expensive"
    assert len(events("subscription.cancellation_scheduled", sub["id"])) == 1


def test_a_scheduled_cancel_voids_the_unpaid_renewal(holder):
    sub = holder.subscribe("basic")
    renewal = open_renewal(holder.user_id, sub["id"])

    after = holder.ok(sub["id"], "cancel")["subscription"]

    assert holder.invoice(renewal)["status"] == "CANCELLED"
    assert [e["reason"] for e in invoice_events("invoice.voided", renewal)] == ["subscription_cancelled"]
    assert after["pending_invoice_id"] is None
    assert holder.stored(sub["id"]).renewal_invoice_id is None


def test_cancelling_a_trial_schedules_its_end_and_voids_the_first_invoice(holder):
    trial = holder.subscribe("pro", trial=True)
    first_invoice = trial["pending_invoice_id"]

    after = holder.ok(trial["id"], "cancel")["subscription"]

    assert (after["status"], after["cancel_at_period_end"], after["expires_at"]) == (
        "TRIALING",
        True,
        trial["trial_end_at"],
    )
    assert holder.invoice(first_invoice)["status"] == "CANCELLED"
    assert after["pending_invoice_id"] is None


def test_reactivating_a_trial_issues_a_new_first_invoice_due_at_the_trial_end(holder):
    trial = holder.subscribe("pro", ("priority-support",), trial=True)
    holder.ok(trial["id"], "cancel")

    body = holder.ok(trial["id"], "reactivate")

    assert body["message"] == REACTIVATED
    after = body["subscription"]
    assert (after["status"], after["cancel_at_period_end"], after["cancelled_at"]) == ("TRIALING", False, None)
    new = after["pending_invoice_id"]
    assert new not in (None, trial["pending_invoice_id"])
    invoice = holder.invoice(new)
    assert (invoice["billing_reason"], invoice["status"], invoice["due_date"]) == (
        "SUBSCRIPTION_CREATE",
        "PENDING",
        trial["trial_end_at"],
    )
    assert [(ln["item_type"], ln["description"], ln["gross_amount"]) for ln in invoice["line_items"]] == [
        ("SUBSCRIPTION", "Pro", "35.69"),
        ("ADD_ON", "Priority Support", "11.89"),
    ]
    [addon] = holder.subscription(trial["id"])["add_ons"]
    assert (addon["status"], addon["cancel_at_period_end"], addon["invoice_id"]) == ("TRIALING", False, new)
    holder.pay(new)
    paid = holder.subscription(trial["id"])
    assert (paid["status"], paid["current_period_start"]) == ("ACTIVE", trial["trial_end_at"])
    assert [a["status"] for a in paid["add_ons"]] == ["ACTIVE"]


def test_reactivating_undoes_the_schedule_with_the_add_ons_scheduled_with_it(holder, manual_clock):
    sub = holder.subscribe("pro", addons=("extra-storage-50gb", "priority-support"))
    own = sub["add_ons"][0]
    cancelled = holder.api.post(f"/api/v1/user/addons/{own['id']}/cancel", None, token=holder.token)
    assert cancelled.status == 200, cancelled.json  # scheduled on its own, a day before the subscription
    manual_clock.advance(timedelta(days=1))
    holder.ok(sub["id"], "cancel")

    body = holder.ok(sub["id"], "reactivate")

    after = body["subscription"]
    assert (after["cancel_at_period_end"], after["cancelled_at"], after["cancel_reason"]) == (False, None, None)
    addons = {a["id"]: a for a in holder.subscription(sub["id"])["add_ons"]}
    assert addons[own["id"]]["cancel_at_period_end"] is True  # its own cancellation stands
    [other] = [a for a in addons.values() if a["id"] != own["id"]]
    assert other["cancel_at_period_end"] is False
    [reactivated] = events("subscription.reactivated", sub["id"])
    assert reactivated["expires_at"] == sub["expires_at"]


def test_reactivating_what_is_not_scheduled_is_refused(holder):
    active = holder.subscribe("basic")
    ended = holder.subscribe("basic")
    holder.ok(ended["id"], "cancel", query="?immediately=true")
    for sub in (active, ended):
        answer = holder.post(sub["id"], "reactivate")
        assert (answer.status, answer.json) == (400, {"error": "Subscription is not scheduled for cancellation"})


# --- now ----------------------------------------------------------------------------------------------------------


def test_cancelling_immediately_ends_it_with_its_add_ons_and_voids_its_unpaid_invoices(holder):
    sub = holder.subscribe("pro", addons=("extra-storage-50gb", "dedicated-onboarding"))
    upgrade = holder.ok(sub["id"], "upgrade", {"plan_id": ENTERPRISE})["invoice"]

    body = holder.ok(sub["id"], "cancel", {"reason": "moving on"}, query="?immediately=true")

    assert body["message"] == CANCELLED
    after = body["subscription"]
    assert (after["status"], after["is_valid"], after["cancel_reason"]) == ("CANCELLED", False, "moving on")
    assert (after["cancel_at_period_end"], after["pending_invoice_id"]) == (False, None)
    addons = holder.subscription(sub["id"])["add_ons"]
    assert sorted(a["status"] for a in addons) == ["ACTIVE", "CANCELLED"]  # the one-time add-on is kept (§10)
    assert holder.invoice(upgrade["id"])["status"] == "CANCELLED"
    [cancelled] = events("subscription.cancelled", sub["id"])
    assert (cancelled["reason"], cancelled["status"]) == ("moving on", "CANCELLED")


def test_a_scheduled_cancel_can_still_end_now(holder):
    sub = holder.subscribe("basic")
    holder.ok(sub["id"], "cancel")

    body = holder.ok(sub["id"], "cancel", query="?immediately=TRUE")

    assert (body["message"], body["subscription"]["status"]) == (CANCELLED, "CANCELLED")
    assert body["subscription"]["cancel_at_period_end"] is False


@pytest.mark.parametrize("state", ["PENDING", "PAUSED", "PAST_DUE"])
def test_a_pending_paused_or_past_due_subscription_ends_now(holder, state):
    if state == "PENDING":
        sub = holder.checkout("basic", addons=("extra-storage-50gb",))["subscription"]
    else:
        sub = holder.subscribe("basic")
        holder.set(sub["id"], status=state)
    invoice_id = sub["pending_invoice_id"]

    body = holder.ok(sub["id"], "cancel")

    assert (body["message"], body["subscription"]["status"]) == (CANCELLED, "CANCELLED")
    if invoice_id:
        assert holder.invoice(invoice_id)["status"] == "CANCELLED"
        assert [a["status"] for a in holder.subscription(sub["id"])["add_ons"]] == ["CANCELLED"]


def test_an_invoice_that_bills_something_else_stays_payable(holder):
    bought = holder.checkout("basic", bundles=("100 Tokens",))
    sub = bought["subscription"]

    holder.ok(sub["id"], "cancel")

    assert holder.invoice(bought["invoice"]["id"])["status"] == "PENDING"


def test_an_ended_subscription_cannot_be_cancelled_again(holder):
    sub = holder.subscribe("basic")
    holder.ok(sub["id"], "cancel", query="?immediately=true")
    for query in ("", "?immediately=true"):
        answer = holder.post(sub["id"], "cancel", query=query)
        assert (answer.status, answer.json) == (400, ENDED)
    assert len(events("subscription.cancelled", sub["id"])) == 1


@pytest.mark.parametrize(
    ("query", "body", "message"),
    [
        ("?immediately=soon", None, "Invalid value for immediately"),
        ("", {"reason": "x" * 501}, "reason must be at most 500 characters"),
        ("", {"reason": 5}, "reason must be a string"),
        ("", {"reason": ["a"]}, "reason must be a string"),
    ],
)
def test_a_cancel_refuses_a_bad_flag_or_reason(holder, query, body, message):
    sub = holder.subscribe("basic")
    answer = holder.post(sub["id"], "cancel", body, query=query)
    assert (answer.status, answer.json) == (400, {"error": message})
    assert holder.subscription(sub["id"])["cancel_at_period_end"] is False


def test_a_reason_of_500_characters_is_kept_and_a_lone_surrogate_refused(holder):
    sub = holder.subscribe("basic")
    assert holder.ok(sub["id"], "cancel", {"reason": "r" * 500})["subscription"]["cancel_reason"] == "r" * 500
    other = holder.subscribe("basic")
    answer = holder.post(other["id"], "cancel", {"reason": "\ud800"})
    assert (answer.status, answer.json) == (400, {"error": "Invalid JSON body"})  # refused at the edge
    assert holder.subscription(other["id"])["cancel_at_period_end"] is False


def test_cancel_and_reactivate_of_another_users_subscription_are_not_found(api, holder):
    sub = holder.subscribe("basic")
    other = Holder(api, "other")
    for action in ("cancel", "reactivate"):
        answer = other.post(sub["id"], action)
        assert (answer.status, answer.json) == (404, NOT_FOUND)
    assert holder.subscription(sub["id"])["cancel_at_period_end"] is False


def test_a_trials_unpaid_one_time_add_on_is_scheduled_with_it_and_billed_again_on_reactivation(holder):
    trial = holder.subscribe("pro", ("dedicated-onboarding", "priority-support"), trial=True)

    holder.ok(trial["id"], "cancel")
    scheduled = holder.subscription(trial["id"])["add_ons"]
    assert [(a["status"], a["cancel_at_period_end"]) for a in scheduled] == [("TRIALING", True)] * 2

    reactivated = holder.ok(trial["id"], "reactivate")["subscription"]
    invoice = holder.invoice(reactivated["pending_invoice_id"])
    assert sorted(line["description"] for line in invoice["line_items"]) == [
        "Dedicated Onboarding",
        "Priority Support",
        "Pro",
    ]
    assert [a["cancel_at_period_end"] for a in holder.subscription(trial["id"])["add_ons"]] == [False, False]


def test_an_add_on_cancelled_on_its_own_during_a_trial_is_not_billed_again(holder, manual_clock):
    trial = holder.subscribe("pro", ("priority-support",), trial=True)
    [addon] = trial["add_ons"]
    own = holder.api.post(f"/api/v1/user/addons/{addon['id']}/cancel", None, token=holder.token)
    assert own.status == 200, own.json
    manual_clock.advance(timedelta(hours=1))
    holder.ok(trial["id"], "cancel")

    reactivated = holder.ok(trial["id"], "reactivate")["subscription"]

    invoice = holder.invoice(reactivated["pending_invoice_id"])
    assert [line["description"] for line in invoice["line_items"]] == ["Pro"]
