"""Downgrades at the next renewal (contract subscriptions.md §8.3, §7.1; checkout-and-payments.md §6.2).

A downgrade charges nothing: it names the plan the next renewal bills, and that renewal's capture switches the plan.
A renewal invoice already open for the next period is voided and issued again for the pending plan. The renewal
invoices here are written by `open_renewal`, a stand-in for the lifecycle job.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.core.clock import ManualClock
from tests.contract import BASIC, ENTERPRISE, FREE, LEGACY_PLAN, PRO, PROFESSIONAL
from tests.integration.conftest import Api
from tests.integration.holders import NOT_FOUND, Holder, events, invoice_events, open_renewal

SCHEDULED = "Downgrade scheduled for next renewal."
IS_SINGLE = (
    "User already has an active subscription in category 'Subscription plans'. Please upgrade or downgrade instead."
)


@pytest.fixture
def holder(api: Api, manual_clock: ManualClock) -> Holder:
    return Holder(api, "downgrade")


def lines(invoice):
    return [
        (
            line["item_type"],
            line["description"],
            line["net_amount"],
            line["tax_amount"],
            line["gross_amount"],
            line["metadata"]["period_start"],
            line["metadata"]["period_end"],
        )
        for line in invoice["line_items"]
    ]


def test_a_downgrade_names_the_plan_of_the_next_renewal_and_charges_nothing(holder):
    sub = holder.subscribe("pro")

    body = holder.ok(sub["id"], "downgrade", {"plan_id": BASIC})

    assert body["message"] == SCHEDULED
    assert set(body) == {"subscription", "message"}
    after = body["subscription"]
    assert (after["tarif_plan_id"], after["pending_plan_id"], after["status"]) == (PRO, BASIC, "ACTIVE")
    assert after["pending_plan"] == {"id": BASIC, "name": "Basic", "slug": "basic"}
    assert (after["expires_at"], after["pending_invoice_id"]) == (sub["expires_at"], None)
    assert holder.subscription(sub["id"]) == {**after, "add_ons": []}
    [scheduled] = events("subscription.downgrade_scheduled", sub["id"])
    assert (scheduled["pending_plan_id"], scheduled["plan_id"], scheduled["status"]) == (BASIC, PRO, "ACTIVE")
    assert [e["billing_reason"] for e in events("invoice.created", sub["id"])] == ["SUBSCRIPTION_CREATE"]


def test_a_new_downgrade_replaces_the_pending_one(holder, manual_clock):
    sub = holder.subscribe("pro")
    holder.ok(sub["id"], "downgrade", {"plan_id": BASIC})
    manual_clock.advance(timedelta(minutes=1))  # the outbox orders events by the moment they were written

    body = holder.ok(sub["id"], "downgrade", {"plan_id": FREE})
    again = holder.ok(sub["id"], "downgrade", {"plan_id": FREE})

    assert body["subscription"]["pending_plan_id"] == FREE
    assert again == body  # the same downgrade again changes nothing
    assert [e["pending_plan_id"] for e in events("subscription.downgrade_scheduled", sub["id"])] == [BASIC, FREE]


def test_the_next_renewal_bills_the_pending_plan_and_its_payment_switches_it(holder):
    sub = holder.subscribe("pro")
    holder.ok(sub["id"], "downgrade", {"plan_id": BASIC})

    renewal = open_renewal(holder.user_id, sub["id"])
    invoice = holder.invoice(renewal)
    assert [(ln["description"], ln["metadata"]["plan_id"]) for ln in invoice["line_items"]] == [("Basic", BASIC)]
    holder.pay(renewal)

    after = holder.subscription(sub["id"])
    assert (after["tarif_plan_id"], after["pending_plan_id"], after["pending_plan"]) == (BASIC, None, None)
    assert (after["current_period_start"], after["expires_at"]) == ("2026-06-01T09:00:00Z", "2026-07-01T09:00:00Z")
    [downgraded] = events("subscription.downgraded", sub["id"])
    assert (downgraded["from_plan_id"], downgraded["to_plan_id"], downgraded["invoice_id"]) == (PRO, BASIC, renewal)


def test_an_open_renewal_invoice_is_voided_and_issued_again_for_the_pending_plan(holder):
    sub = holder.subscribe("pro", addons=("extra-storage-50gb",))
    [addon] = sub["add_ons"]
    old = open_renewal(holder.user_id, sub["id"])

    body = holder.ok(sub["id"], "downgrade", {"plan_id": BASIC})

    new = body["subscription"]["pending_invoice_id"]
    assert new not in (None, old)
    assert holder.invoice(old)["status"] == "CANCELLED"
    assert [e["reason"] for e in invoice_events("invoice.voided", old)] == ["downgrade_scheduled"]
    invoice = holder.invoice(new)
    assert (invoice["billing_reason"], invoice["status"], invoice["tarif_plan_id"]) == ("RENEWAL", "PENDING", BASIC)
    assert (invoice["due_date"], invoice["tax_code"]) == ("2026-06-01T09:00:00Z", "VAT_DE")  # taxed as of now
    assert lines(invoice) == [
        ("SUBSCRIPTION", "Basic", "9.99", "1.90", "11.89", "2026-06-01T09:00:00Z", "2026-07-01T09:00:00Z"),
        ("ADD_ON", "Extra Storage 50 GB", "4.99", "0.95", "5.94", "2026-06-01T09:00:00Z", "2026-07-01T09:00:00Z"),
    ]
    plan_line, addon_line = invoice["line_items"]
    assert plan_line["metadata"] == {
        "billing_reason": "RENEWAL",
        "plan_id": BASIC,
        "plan_slug": "basic",
        "billing_period": "MONTHLY",
        "period_start": "2026-06-01T09:00:00Z",
        "period_end": "2026-07-01T09:00:00Z",
    }
    assert (plan_line["item_id"], addon_line["item_id"]) == (sub["id"], addon["id"])
    [upcoming] = [e for e in events("subscription.renewal_upcoming", sub["id"]) if e["invoice_id"] == new]
    assert (upcoming["amount"], upcoming["period_start"], upcoming["plan_id"]) == (
        "17.83",
        "2026-06-01T09:00:00Z",
        BASIC,
    )

    holder.pay(new)
    after = holder.subscription(sub["id"])
    assert (after["tarif_plan_id"], after["expires_at"], after["pending_invoice_id"]) == (
        BASIC,
        "2026-07-01T09:00:00Z",
        None,
    )
    assert [a["expires_at"] for a in after["add_ons"]] == ["2026-07-01T09:00:00Z"]


def test_a_downgrade_with_the_renewal_already_paid_waits_for_the_one_after(holder):
    sub = holder.subscribe("pro")
    holder.pay(open_renewal(holder.user_id, sub["id"]))

    body = holder.ok(sub["id"], "downgrade", {"plan_id": BASIC})

    assert (body["subscription"]["pending_invoice_id"], body["subscription"]["expires_at"]) == (
        None,
        "2026-07-01T09:00:00Z",
    )


# --- refusals ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "plan_id is required"),
        ({"plan_id": None}, "plan_id is required"),
        ({"plan_id": "basic"}, "Invalid plan_id format"),
        ({"plan_id": 7}, "Invalid plan_id format"),
        ({"plan_id": "12345678-1234-1234-1234-1234567890ab"}, "Plan not found"),
        ({"plan_id": LEGACY_PLAN}, "Plan is not active"),
        ({"plan_id": PRO}, "Already subscribed to this plan"),
    ],
)
def test_a_downgrade_refuses_a_missing_malformed_unknown_inactive_or_same_plan(holder, body, message):
    sub = holder.subscribe("pro")
    answer = holder.post(sub["id"], "downgrade", body)
    assert (answer.status, answer.json) == (400, {"error": message})


def test_only_active_subscriptions_can_be_downgraded(holder):
    trial = holder.subscribe("professional", trial=True)
    pending = holder.checkout("pro")["subscription"]  # the trial is used: bought without one
    paused = holder.subscribe("enterprise")
    holder.ok(paused["id"], "pause")
    past_due = holder.subscribe("pro")
    holder.set(past_due["id"], status="PAST_DUE")
    for sub in (pending, trial, paused, past_due):
        answer = holder.post(sub["id"], "downgrade", {"plan_id": BASIC})
        assert (answer.status, answer.json) == (400, {"error": "Only active subscriptions can be downgraded"})


def test_a_subscription_scheduled_for_cancellation_is_not_downgraded(holder):
    sub = holder.subscribe("pro")
    holder.ok(sub["id"], "cancel")
    answer = holder.post(sub["id"], "downgrade", {"plan_id": BASIC})
    assert (answer.status, answer.json) == (400, {"error": "Subscription is scheduled for cancellation"})


def test_a_plan_that_never_renews_cannot_be_downgraded(holder):
    sub = holder.subscribe("lifetime")
    answer = holder.post(sub["id"], "downgrade", {"plan_id": BASIC})
    assert (answer.status, answer.json) == (400, {"error": "Subscription has no renewal"})


def test_a_downgrade_into_an_is_single_category_held_by_another_subscription_is_refused(holder):
    holder.subscribe("starter")
    pro = holder.subscribe("pro")
    answer = holder.post(pro["id"], "downgrade", {"plan_id": PROFESSIONAL})
    assert (answer.status, answer.json) == (400, {"error": IS_SINGLE})


def test_a_downgrade_while_an_upgrade_is_unpaid_is_a_conflict(holder):
    sub = holder.subscribe("pro")
    upgrade = holder.ok(sub["id"], "upgrade", {"plan_id": ENTERPRISE})["invoice"]
    answer = holder.post(sub["id"], "downgrade", {"plan_id": BASIC})
    assert (answer.status, answer.json) == (
        409,
        {"error": "An upgrade invoice is already pending for this subscription", "invoice_id": upgrade["id"]},
    )


def test_another_users_subscription_is_not_found(api, holder):
    sub = holder.subscribe("pro")
    other = Holder(api, "other")
    answer = other.post(sub["id"], "downgrade", {"plan_id": BASIC})
    assert (answer.status, answer.json) == (404, NOT_FOUND)
    assert holder.subscription(sub["id"])["pending_plan_id"] is None
