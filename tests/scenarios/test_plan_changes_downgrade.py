"""Downgrades on a moving clock (contract subscriptions.md §8.3, §7.1): nothing is charged when one is asked for;
the next renewal bills the pending plan and its payment switches it.

The lifecycle job's renewal is being written in parallel: a renewal here is issued by `holders.open_renewal` (what
the job writes) and paid through the ordinary capture path (`POST /user/invoices/<id>/pay`).
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib.core.clock import ManualClock
from tests.contract import BASIC, ENTERPRISE, PRO
from tests.integration.conftest import Api
from tests.integration.holders import Holder, Story, invoice_totals, ledger_lines, line_table, open_renewal

JUNE = ("2026-06-01T09:00:00Z", "2026-07-01T09:00:00Z")
JULY = ("2026-07-01T09:00:00Z", "2026-08-01T09:00:00Z")


def test_pro_to_basic_is_applied_at_the_renewal(fresh_api: Api, manual_clock: ManualClock):
    ida = Holder(fresh_api, "ida")
    story = Story(ida.user_id)
    sub = ida.subscribe("pro")
    story.new()

    manual_clock.advance(timedelta(days=10))
    body = ida.ok(sub["id"], "downgrade", {"plan_id": BASIC})
    assert (body["subscription"]["tarif_plan_id"], body["subscription"]["pending_plan_id"]) == (PRO, BASIC)
    assert story.new() == ["subscription.downgrade_scheduled"]

    manual_clock.set(manual_clock.now().replace(day=31))
    renewal = ida.invoice(open_renewal(ida.user_id, sub["id"]))
    assert line_table(renewal) == [("SUBSCRIPTION", "Basic", "9.99", "9.99", "1.90", "11.89", *JUNE)]
    assert invoice_totals(renewal) == ("PENDING", "9.99", "1.90", "11.89")
    assert ida.subscription(sub["id"])["tarif_plan_id"] == PRO  # Pro until its period ends

    manual_clock.advance(timedelta(hours=1))
    ida.pay(renewal["id"])
    after = ida.subscription(sub["id"])
    assert (after["tarif_plan_id"], after["pending_plan_id"], after["status"]) == (BASIC, None, "ACTIVE")
    assert (after["current_period_start"], after["expires_at"]) == JUNE
    assert ledger_lines(ida) == [(200, "SUBSCRIPTION", "Plan tokens: Pro"), (50, "SUBSCRIPTION", "Plan tokens: Basic")]
    assert story.new() == [
        "invoice.created",
        "subscription.renewal_upcoming",  # the renewal names the plan it bills: Basic
        "invoice.paid",
        "subscription.renewed",
        "subscription.downgraded",
        "tokens.credited",
    ]

    # The renewal after bills Basic again.
    manual_clock.set(manual_clock.now().replace(month=6, day=30))
    assert line_table(ida.invoice(open_renewal(ida.user_id, sub["id"])))[0][1:3] == ("Basic", "9.99")


def test_a_later_downgrade_replaces_the_pending_one(fresh_api: Api, manual_clock: ManualClock):
    jo = Holder(fresh_api, "jo")
    sub = jo.subscribe("enterprise")
    jo.ok(sub["id"], "downgrade", {"plan_id": PRO})
    manual_clock.advance(timedelta(days=3))

    body = jo.ok(sub["id"], "downgrade", {"plan_id": BASIC})

    assert body["subscription"]["pending_plan"] == {"id": BASIC, "name": "Basic", "slug": "basic"}
    manual_clock.set(manual_clock.now().replace(day=31))
    renewal = jo.invoice(open_renewal(jo.user_id, sub["id"]))
    assert [line[1] for line in line_table(renewal)] == ["Basic"]
    jo.pay(renewal["id"])
    assert jo.subscription(sub["id"])["tarif_plan_id"] == BASIC


def test_a_downgrade_after_the_renewal_was_issued_reissues_it_with_the_add_on(
    fresh_api: Api, manual_clock: ManualClock
):
    kit = Holder(fresh_api, "kit")
    story = Story(kit.user_id)
    sub = kit.subscribe("pro", addons=("extra-storage-50gb",))
    [addon] = sub["add_ons"]
    manual_clock.set(manual_clock.now().replace(day=31))
    old = kit.invoice(open_renewal(kit.user_id, sub["id"]))
    assert line_table(old) == [
        ("SUBSCRIPTION", "Pro", "29.99", "29.99", "5.70", "35.69", *JUNE),
        ("ADD_ON", "Extra Storage 50 GB", "4.99", "4.99", "0.95", "5.94", *JUNE),
    ]
    story.new()

    manual_clock.advance(timedelta(hours=2))
    body = kit.ok(sub["id"], "downgrade", {"plan_id": BASIC})

    new = kit.invoice(body["subscription"]["pending_invoice_id"])
    assert kit.invoice(old["id"])["status"] == "CANCELLED"
    assert line_table(new) == [
        ("SUBSCRIPTION", "Basic", "9.99", "9.99", "1.90", "11.89", *JUNE),
        ("ADD_ON", "Extra Storage 50 GB", "4.99", "4.99", "0.95", "5.94", *JUNE),
    ]
    assert invoice_totals(new) == ("PENDING", "14.98", "2.85", "17.83")
    assert story.new() == [
        "subscription.downgrade_scheduled",
        "invoice.voided",
        "invoice.created",
        "subscription.renewal_upcoming",
    ]

    manual_clock.advance(timedelta(hours=2))
    kit.pay(new["id"])
    after = kit.subscription(sub["id"])
    assert (after["tarif_plan_id"], after["expires_at"]) == (BASIC, JUNE[1])
    assert [(a["id"], a["status"], a["expires_at"]) for a in after["add_ons"]] == [(addon["id"], "ACTIVE", JUNE[1])]


def test_a_downgrade_then_a_scheduled_cancel_ends_without_a_renewal(fresh_api: Api, manual_clock: ManualClock):
    lu = Holder(fresh_api, "lu")
    sub = lu.subscribe("pro")
    lu.ok(sub["id"], "downgrade", {"plan_id": BASIC})
    manual_clock.advance(timedelta(days=1))

    after = lu.ok(sub["id"], "cancel")["subscription"]

    assert (after["cancel_at_period_end"], after["pending_plan_id"], after["status"]) == (True, BASIC, "ACTIVE")
    stored = lu.stored(sub["id"])
    assert (stored.due_step, stored.due_at.isoformat()) == ("period_end", "2026-06-01T09:00:00+00:00")
    refused = lu.post(sub["id"], "downgrade", {"plan_id": ENTERPRISE})
    assert refused.json == {"error": "Subscription is scheduled for cancellation"}


def test_an_upgrade_after_a_downgrade_wins_when_paid_and_the_renewal_bills_it(
    fresh_api: Api, manual_clock: ManualClock
):
    max_ = Holder(fresh_api, "max")
    sub = max_.subscribe("pro")
    max_.ok(sub["id"], "downgrade", {"plan_id": BASIC})
    manual_clock.advance(timedelta(days=14))  # 15 May: 17 days left

    upgrade = max_.ok(sub["id"], "upgrade", {"plan_id": ENTERPRISE})["invoice"]
    # Pro 29.99 / 30 × 17 = 16.994… → 16.99
    assert [line[1:4] for line in line_table(upgrade)] == [
        ("Enterprise", "99.99", "99.99"),
        ("Unused time on Pro", "-16.99", "-16.99"),
    ]
    assert invoice_totals(upgrade) == ("PENDING", "83.00", "15.77", "98.77")
    max_.pay(upgrade["id"])

    after = max_.subscription(sub["id"])
    assert (after["tarif_plan_id"], after["pending_plan_id"], after["expires_at"]) == (
        ENTERPRISE,
        None,
        "2026-06-15T09:00:00Z",
    )
    manual_clock.set(manual_clock.now().replace(month=6, day=14))
    renewal = max_.invoice(open_renewal(max_.user_id, sub["id"]))
    assert line_table(renewal)[0][:3] == ("SUBSCRIPTION", "Enterprise", "99.99")
    assert ledger_lines(max_) == [
        (200, "SUBSCRIPTION", "Plan tokens: Pro"),
        (1000, "SUBSCRIPTION", "Plan tokens: Enterprise"),
    ]


def test_two_months_on_the_downgraded_plan(fresh_api: Api, manual_clock: ManualClock):
    nia = Holder(fresh_api, "nia")
    sub = nia.subscribe("pro")
    nia.ok(sub["id"], "downgrade", {"plan_id": BASIC})
    for month, period in ((5, JUNE), (6, JULY)):
        manual_clock.set(manual_clock.now().replace(month=month, day=30))
        renewal = nia.invoice(open_renewal(nia.user_id, sub["id"]))
        assert line_table(renewal) == [("SUBSCRIPTION", "Basic", "9.99", "9.99", "1.90", "11.89", *period)]
        nia.pay(renewal["id"])
        assert nia.subscription(sub["id"])["expires_at"] == period[1]
    assert nia.balance() == 200 + 50 + 50
