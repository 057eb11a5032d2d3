"""Pauses on a moving clock (contract subscriptions.md §9.3–§9.4, §10): a pause stops the subscription and its
add-ons; a resume moves their expiry on by the pause's length, and the anchor day follows.

The lifecycle job is being written in parallel: a renewal here is issued by `holders.open_renewal` (what the job
writes) and paid through the ordinary capture path.
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib.core.clock import ManualClock
from tests.contract import BASIC, ENTERPRISE
from tests.integration.conftest import Api
from tests.integration.holders import Holder, Story, line_table, open_renewal


def test_a_pause_across_the_renewal_date_then_resume_and_renew(fresh_api: Api, manual_clock: ManualClock):
    vic = Holder(fresh_api, "vic")
    story = Story(vic.user_id)
    sub = vic.subscribe("pro", addons=("priority-support",))  # until 1 June 09:00
    story.new()

    manual_clock.advance(timedelta(days=20))  # 21 May 09:00
    paused = vic.ok(sub["id"], "pause")["subscription"]
    assert (paused["status"], paused["is_valid"], paused["expires_at"]) == ("PAUSED", False, "2026-06-01T09:00:00Z")
    assert [a["status"] for a in vic.subscription(sub["id"])["add_ons"]] == ["PAUSED"]
    assert vic.stored(sub["id"]).due_at is None  # the job has nothing to do with it
    assert story.new() == ["subscription.paused"]

    manual_clock.set(manual_clock.now().replace(month=6, day=10, hour=15))  # 20 days 6 hours later
    resumed = vic.ok(sub["id"], "resume")["subscription"]
    assert (resumed["status"], resumed["expires_at"]) == ("ACTIVE", "2026-06-21T15:00:00Z")
    assert [a["expires_at"] for a in vic.subscription(sub["id"])["add_ons"]] == ["2026-06-21T15:00:00Z"]
    assert story.new() == ["subscription.resumed"]

    # The renewal bills the period from the moved expiry; the anchor day is now the 21st.
    manual_clock.set(manual_clock.now().replace(day=21, hour=1))
    renewal = vic.invoice(open_renewal(vic.user_id, sub["id"]))
    period = ("2026-06-21T15:00:00Z", "2026-07-21T15:00:00Z")
    assert line_table(renewal) == [
        ("SUBSCRIPTION", "Pro", "29.99", "29.99", "5.70", "35.69", *period),
        ("ADD_ON", "Priority Support", "9.99", "9.99", "1.90", "11.89", *period),
    ]
    vic.pay(renewal["id"])
    after = vic.subscription(sub["id"])
    assert (after["current_period_start"], after["expires_at"]) == period
    assert [a["expires_at"] for a in after["add_ons"]] == [period[1]]
    assert vic.balance() == 200 + 200


def test_a_pause_voids_the_open_renewal_and_the_resumed_period_is_billed_anew(
    fresh_api: Api, manual_clock: ManualClock
):
    wes = Holder(fresh_api, "wes")
    sub = wes.subscribe("basic")
    manual_clock.set(manual_clock.now().replace(day=31, hour=12))
    first = open_renewal(wes.user_id, sub["id"])

    wes.ok(sub["id"], "pause")
    assert wes.invoice(first)["status"] == "CANCELLED"

    manual_clock.advance(timedelta(days=3))  # 3 June 12:00
    resumed = wes.ok(sub["id"], "resume")["subscription"]
    assert resumed["expires_at"] == "2026-06-04T09:00:00Z"
    manual_clock.advance(timedelta(hours=1))
    second = wes.invoice(open_renewal(wes.user_id, sub["id"]))
    assert line_table(second) == [
        ("SUBSCRIPTION", "Basic", "9.99", "9.99", "1.90", "11.89", "2026-06-04T09:00:00Z", "2026-07-04T09:00:00Z")
    ]
    wes.pay(second["id"])
    assert wes.subscription(sub["id"])["expires_at"] == "2026-07-04T09:00:00Z"


def test_a_paused_subscription_cancelled_cannot_be_resumed(fresh_api: Api, manual_clock: ManualClock):
    xia = Holder(fresh_api, "xia")
    story = Story(xia.user_id)
    sub = xia.subscribe("pro", addons=("priority-support",))
    story.new()
    manual_clock.advance(timedelta(days=2))
    xia.ok(sub["id"], "pause")
    manual_clock.advance(timedelta(days=2))

    ended = xia.ok(sub["id"], "cancel")["subscription"]  # a paused one ends now

    assert ended["status"] == "CANCELLED"
    assert [a["status"] for a in xia.subscription(sub["id"])["add_ons"]] == ["CANCELLED"]
    refused = xia.post(sub["id"], "resume")
    assert (refused.status, refused.json) == (400, {"error": "Subscription is not paused"})
    assert story.new() == ["subscription.paused", "addon.cancelled", "subscription.cancelled"]


def test_a_paused_subscription_is_neither_upgraded_nor_downgraded(fresh_api: Api, manual_clock: ManualClock):
    yan = Holder(fresh_api, "yan")
    sub = yan.subscribe("pro")
    yan.ok(sub["id"], "pause")
    manual_clock.advance(timedelta(days=1))

    up = yan.post(sub["id"], "upgrade", {"plan_id": ENTERPRISE})
    down = yan.post(sub["id"], "downgrade", {"plan_id": BASIC})
    preview = yan.proration(sub["id"], f"?new_plan_id={ENTERPRISE}")

    assert up.json == {"error": "Only active subscriptions can be upgraded"}
    assert down.json == {"error": "Only active subscriptions can be downgraded"}
    assert preview.json == {"error": "Unable to calculate proration"}
    yan.ok(sub["id"], "resume")
    assert yan.ok(sub["id"], "upgrade", {"plan_id": ENTERPRISE})["proration"]["days_remaining"] == 31
