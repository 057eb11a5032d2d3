"""Cancels, reactivations and add-on cancels on a moving clock (contract subscriptions.md §9.1–§9.2, §10, §12.2).

The lifecycle job (period end, renewal) is being written in parallel: a renewal here is issued by
`holders.open_renewal` (what the job writes) and paid through the ordinary capture path.
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib.core.clock import ManualClock
from tests.integration.conftest import Api
from tests.integration.holders import Holder, Story, invoice_totals, ledger_lines, line_table, open_renewal

JUNE = ("2026-06-01T09:00:00Z", "2026-07-01T09:00:00Z")


def addon_cancel(holder: Holder, addon_subscription_id: str) -> dict:
    answer = holder.api.post(f"/api/v1/user/addons/{addon_subscription_id}/cancel", None, token=holder.token)
    assert answer.status == 200, answer.json
    return answer.json["addon_subscription"]


def test_cancel_at_period_end_then_reactivate_and_renew(fresh_api: Api, manual_clock: ManualClock):
    ola = Holder(fresh_api, "ola")
    story = Story(ola.user_id)
    sub = ola.subscribe("pro", addons=("priority-support",))
    story.new()

    manual_clock.advance(timedelta(days=8))
    scheduled = ola.ok(sub["id"], "cancel", {"reason": "on a budget"})["subscription"]
    assert (scheduled["status"], scheduled["cancel_at_period_end"], scheduled["cancel_reason"]) == (
        "ACTIVE",
        True,
        "on a budget",
    )
    assert story.new() == ["addon.cancellation_scheduled", "subscription.cancellation_scheduled"]
    assert ola.stored(sub["id"]).due_step == "period_end"

    manual_clock.advance(timedelta(days=10))
    back = ola.ok(sub["id"], "reactivate")["subscription"]
    assert (back["cancel_at_period_end"], back["cancelled_at"], back["cancel_reason"]) == (False, None, None)
    assert [a["cancel_at_period_end"] for a in ola.subscription(sub["id"])["add_ons"]] == [False]
    assert story.new() == ["subscription.reactivated"]
    assert ola.stored(sub["id"]).due_step == "renewal"

    manual_clock.set(manual_clock.now().replace(day=31))
    renewal = ola.invoice(open_renewal(ola.user_id, sub["id"]))
    assert line_table(renewal) == [
        ("SUBSCRIPTION", "Pro", "29.99", "29.99", "5.70", "35.69", *JUNE),
        ("ADD_ON", "Priority Support", "9.99", "9.99", "1.90", "11.89", *JUNE),
    ]
    ola.pay(renewal["id"])
    after = ola.subscription(sub["id"])
    assert (after["status"], after["expires_at"]) == ("ACTIVE", JUNE[1])
    assert [a["expires_at"] for a in after["add_ons"]] == [JUNE[1]]


def test_a_scheduled_cancel_voids_the_open_renewal_and_a_reactivation_lets_the_next_one_come(
    fresh_api: Api, manual_clock: ManualClock
):
    pia = Holder(fresh_api, "pia")
    sub = pia.subscribe("basic")
    manual_clock.set(manual_clock.now().replace(day=31))
    first = open_renewal(pia.user_id, sub["id"])

    manual_clock.advance(timedelta(hours=1))
    pia.ok(sub["id"], "cancel")
    assert pia.invoice(first)["status"] == "CANCELLED"
    assert pia.stored(sub["id"]).renewal_invoice_id is None

    manual_clock.advance(timedelta(hours=1))
    pia.ok(sub["id"], "reactivate")
    second = pia.invoice(open_renewal(pia.user_id, sub["id"]))
    assert line_table(second) == [("SUBSCRIPTION", "Basic", "9.99", "9.99", "1.90", "11.89", *JUNE)]
    pia.pay(second["id"])
    assert pia.subscription(sub["id"])["expires_at"] == JUNE[1]


def test_cancel_immediately_with_add_ons(fresh_api: Api, manual_clock: ManualClock):
    quinn = Holder(fresh_api, "quinn")
    story = Story(quinn.user_id)
    sub = quinn.subscribe("pro", addons=("dedicated-onboarding",))
    manual_clock.advance(timedelta(days=2))
    # An add-on bound to Pro bought for it and not paid yet: its own invoice bills nothing else.
    extra = quinn.checkout(addons=("priority-support",))
    assert extra["add_ons"][0]["subscription_id"] == sub["id"]
    story.new()

    manual_clock.advance(timedelta(days=1))
    body = quinn.ok(sub["id"], "cancel", query="?immediately=true")

    assert (body["message"], body["subscription"]["status"], body["subscription"]["cancel_reason"]) == (
        "Subscription cancelled.",
        "CANCELLED",
        "user",
    )
    addons = {a["addon_id"]: a for a in quinn.subscription(sub["id"])["add_ons"]}
    statuses = sorted((a["status"], a["cancel_at_period_end"]) for a in addons.values())
    assert statuses == [("ACTIVE", False), ("CANCELLED", False)]  # the one-time add-on is kept (§10)
    assert quinn.invoice(extra["invoice"]["id"])["status"] == "CANCELLED"
    events = story.new()
    assert events == ["addon.cancelled", "invoice.voided", "subscription.cancelled"]
    assert quinn.api.get("/api/v1/user/subscriptions/active", token=quinn.token).json == {"subscription": None}
    assert quinn.balance() == 200  # nothing is taken back by cancelling


def test_a_trial_cancelled_then_reactivated_then_paid_during_the_trial(fresh_api: Api, manual_clock: ManualClock):
    rae = Holder(fresh_api, "rae")
    trial = rae.subscribe("professional", trial=True)  # 14 days: until 15 May 09:00
    first = trial["pending_invoice_id"]

    manual_clock.advance(timedelta(days=2))
    rae.ok(trial["id"], "cancel")
    assert rae.invoice(first)["status"] == "CANCELLED"

    manual_clock.advance(timedelta(days=2))
    again = rae.ok(trial["id"], "reactivate")["subscription"]
    invoice = rae.invoice(again["pending_invoice_id"])
    assert (invoice["invoiced_at"], invoice["due_date"]) == ("2026-05-05T09:00:00Z", "2026-05-15T09:00:00Z")
    assert line_table(invoice) == [("SUBSCRIPTION", "Professional", "19.99", "19.99", "3.80", "23.79", None, None)]

    manual_clock.advance(timedelta(days=1))
    rae.pay(invoice["id"])
    paid = rae.subscription(trial["id"])
    # Paying during the trial keeps the trial days: the first period starts at the trial end.
    assert (paid["status"], paid["current_period_start"], paid["expires_at"]) == (
        "ACTIVE",
        "2026-05-15T09:00:00Z",
        "2026-06-15T09:00:00Z",
    )
    assert ledger_lines(rae) == [(100, "SUBSCRIPTION", "Plan tokens: Professional")]


def test_add_on_cancels_recurring_at_period_end_one_time_now(fresh_api: Api, manual_clock: ManualClock):
    sam = Holder(fresh_api, "sam")
    sub = sam.subscribe("pro", addons=("priority-support", "extra-storage-50gb"))
    support, storage = sorted(sub["add_ons"], key=lambda a: a["addon_id"] != _addon("priority-support"))
    manual_clock.advance(timedelta(days=4))

    scheduled = addon_cancel(sam, support["id"])
    assert (scheduled["status"], scheduled["cancel_at_period_end"]) == ("ACTIVE", True)
    again = sam.api.post(f"/api/v1/user/addons/{support['id']}/cancel", None, token=sam.token)
    assert (again.status, again.json) == (400, {"error": "Add-on subscription cannot be cancelled"})

    # The renewal leaves the scheduled add-on out; paying it renews the other one.
    manual_clock.set(manual_clock.now().replace(day=31))
    renewal = sam.invoice(open_renewal(sam.user_id, sub["id"]))
    assert [line[:2] for line in line_table(renewal)] == [("SUBSCRIPTION", "Pro"), ("ADD_ON", "Extra Storage 50 GB")]
    assert invoice_totals(renewal) == ("PENDING", "34.98", "6.65", "41.63")
    sam.pay(renewal["id"])
    addons = {a["id"]: a for a in sam.subscription(sub["id"])["add_ons"]}
    assert addons[storage["id"]]["expires_at"] == JUNE[1]
    assert (addons[support["id"]]["expires_at"], addons[support["id"]]["cancel_at_period_end"]) == (JUNE[0], True)


def test_a_pending_add_on_cancelled_voids_its_own_invoice(fresh_api: Api, manual_clock: ManualClock):
    tia = Holder(fresh_api, "tia")
    tia.subscribe("basic")
    manual_clock.advance(timedelta(days=1))
    bought = tia.checkout(addons=("dedicated-onboarding",))
    [addon] = bought["add_ons"]

    cancelled = addon_cancel(tia, addon["id"])

    assert (cancelled["status"], cancelled["cancel_at_period_end"]) == ("CANCELLED", False)
    assert tia.invoice(bought["invoice"]["id"])["status"] == "CANCELLED"


def test_cancel_then_cancel_immediately_ends_it_once(fresh_api: Api, manual_clock: ManualClock):
    uma = Holder(fresh_api, "uma")
    story = Story(uma.user_id)
    sub = uma.subscribe("basic")
    story.new()
    manual_clock.advance(timedelta(days=3))
    uma.ok(sub["id"], "cancel")
    manual_clock.advance(timedelta(days=3))

    body = uma.ok(sub["id"], "cancel", query="?immediately=true")

    assert (body["subscription"]["status"], body["subscription"]["cancelled_at"]) == (
        "CANCELLED",
        "2026-05-04T09:00:00Z",  # when it was first cancelled
    )
    assert story.new() == ["subscription.cancellation_scheduled", "subscription.cancelled"]
    refused = uma.post(sub["id"], "reactivate")
    assert refused.json == {"error": "Subscription is not scheduled for cancellation"}


def _addon(slug: str) -> str:
    from chalicelib.core.ids import seed_id

    return seed_id("addon", slug)
