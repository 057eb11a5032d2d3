"""Upgrades on a moving clock (contract subscriptions.md §8.1–§8.2, §5.2): every invoice line with its period, unit
and tax, the statuses, the token ledger and the user's events, step by step.

The lifecycle job's renewal is being written in parallel: a renewal here is issued by `holders.open_renewal` (what
the job writes) and paid through the ordinary capture path (`POST /user/invoices/<id>/pay`).
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib.core.clock import ManualClock
from tests.contract import BASIC, ENTERPRISE, FREE, PRO, PROFESSIONAL
from tests.integration.conftest import Api
from tests.integration.holders import Holder, Story, invoice_totals, ledger_lines, line_table, open_renewal

MINUTE = timedelta(minutes=1)
IS_SINGLE = (
    "User already has an active subscription in category 'Subscription plans'. Please upgrade or downgrade instead."
)


def test_basic_to_pro_mid_period_with_german_vat_then_a_renewal_at_pro(fresh_api: Api, manual_clock: ManualClock):
    ada = Holder(fresh_api, "ada")
    story = Story(ada.user_id)
    sub = ada.subscribe("basic")  # 1 May 09:00, paid at once: until 1 June 09:00
    story.new()

    # 17 May 09:00, 15 days left: the contract's example — credit 5.00, 24.99 due, German VAT on each line.
    manual_clock.advance(timedelta(days=16))
    body = ada.ok(sub["id"], "upgrade", {"plan_id": PRO})
    upgrade = body["invoice"]
    assert body["proration"] == {"credit": "5.00", "amount_due": "24.99", "days_remaining": 15, "currency": "EUR"}
    assert line_table(upgrade) == [
        ("SUBSCRIPTION", "Pro", "29.99", "29.99", "5.70", "35.69", None, None),
        ("CUSTOM", "Unused time on Basic", "-5.00", "-5.00", "-0.95", "-5.95", None, None),
    ]
    assert invoice_totals(upgrade) == ("PENDING", "24.99", "4.75", "29.74")
    assert story.new() == ["invoice.created"]
    assert ada.subscription(sub["id"])["tarif_plan_id"] == BASIC  # nothing changes until it is paid

    # Paid two hours later: Pro from then on, for a whole month; its plan tokens.
    manual_clock.advance(timedelta(hours=2))
    ada.pay(upgrade["id"])
    after = ada.subscription(sub["id"])
    assert (after["status"], after["tarif_plan_id"], after["pending_invoice_id"]) == ("ACTIVE", PRO, None)
    assert (after["current_period_start"], after["expires_at"]) == ("2026-05-17T11:00:00Z", "2026-06-17T11:00:00Z")
    assert ledger_lines(ada) == [(50, "SUBSCRIPTION", "Plan tokens: Basic"), (200, "SUBSCRIPTION", "Plan tokens: Pro")]
    assert story.new() == ["invoice.paid", "subscription.upgraded", "tokens.credited"]

    # The next period is Pro's, from the upgraded period's end.
    manual_clock.set(manual_clock.now().replace(month=6, day=16))
    renewal = ada.invoice(open_renewal(ada.user_id, sub["id"]))
    assert line_table(renewal) == [
        ("SUBSCRIPTION", "Pro", "29.99", "29.99", "5.70", "35.69", "2026-06-17T11:00:00Z", "2026-07-17T11:00:00Z")
    ]
    ada.pay(renewal["id"])
    assert ada.subscription(sub["id"])["expires_at"] == "2026-07-17T11:00:00Z"
    assert ada.balance() == 50 + 200 + 200


def test_pro_to_basic_with_10_days_left_is_paid_by_the_credit_and_switches_at_once(
    fresh_api: Api, manual_clock: ManualClock
):
    bo = Holder(fresh_api, "bo")
    story = Story(bo.user_id)
    sub = bo.subscribe("pro")
    story.new()

    manual_clock.advance(timedelta(days=21))  # 22 May 09:00: 10 days left
    body = bo.ok(sub["id"], "upgrade", {"plan_id": BASIC})

    invoice = body["invoice"]
    assert body["message"] == "Subscription upgraded successfully."
    assert line_table(invoice) == [
        ("SUBSCRIPTION", "Basic", "9.99", "9.99", "1.90", "11.89", "2026-05-22T09:00:00Z", "2026-06-22T09:00:00Z"),
        ("CUSTOM", "Unused time on Pro", "-9.99", "-9.99", "-1.90", "-11.89", None, None),
    ]
    assert invoice_totals(invoice) == ("PAID", "0.00", "0.00", "0.00")
    after = bo.subscription(sub["id"])
    assert (after["tarif_plan_id"], after["expires_at"]) == (BASIC, "2026-06-22T09:00:00Z")
    assert ledger_lines(bo)[-1] == (50, "SUBSCRIPTION", "Plan tokens: Basic")
    assert story.new() == ["invoice.created", "invoice.paid", "subscription.upgraded", "tokens.credited"]


def test_an_unpaid_upgrade_is_voided_by_the_renewal_and_can_be_asked_for_again(
    fresh_api: Api, manual_clock: ManualClock
):
    cy = Holder(fresh_api, "cy")
    sub = cy.subscribe("basic")
    manual_clock.advance(timedelta(days=20))
    upgrade = cy.ok(sub["id"], "upgrade", {"plan_id": PRO})["invoice"]

    manual_clock.set(manual_clock.now().replace(day=31))  # a day before the period end: the renewal is issued
    renewal = open_renewal(cy.user_id, sub["id"])
    assert cy.invoice(upgrade["id"])["status"] == "CANCELLED"
    blocked = cy.post(sub["id"], "upgrade", {"plan_id": PRO})
    assert (blocked.status, blocked.json["invoice_id"]) == (409, renewal)

    manual_clock.advance(MINUTE)
    cy.pay(renewal)
    renewed = cy.subscription(sub["id"])
    assert (renewed["tarif_plan_id"], renewed["expires_at"]) == (BASIC, "2026-07-01T09:00:00Z")

    # 1 June 09:01: 29 whole days left of the new period; 9.99 / 30 × 29 = 9.657 → 9.66.
    manual_clock.set(manual_clock.now().replace(month=6, day=1, hour=9, minute=1))
    again = cy.ok(sub["id"], "upgrade", {"plan_id": PRO})
    assert again["proration"] == {"credit": "9.66", "amount_due": "20.33", "days_remaining": 29, "currency": "EUR"}
    assert [line[3] for line in line_table(again["invoice"])] == ["29.99", "-9.66"]


def test_an_upgrade_with_a_downgrade_pending_clears_it_when_paid(fresh_api: Api, manual_clock: ManualClock):
    di = Holder(fresh_api, "di")
    sub = di.subscribe("pro")
    di.ok(sub["id"], "downgrade", {"plan_id": BASIC})
    manual_clock.advance(timedelta(days=5))

    upgrade = di.ok(sub["id"], "upgrade", {"plan_id": ENTERPRISE})["invoice"]
    # Pro 29.99 / 30 × 26 days = 25.99
    assert [line[1:4] for line in line_table(upgrade)] == [
        ("Enterprise", "99.99", "99.99"),
        ("Unused time on Pro", "-25.99", "-25.99"),
    ]
    manual_clock.advance(MINUTE)
    di.pay(upgrade["id"])

    after = di.subscription(sub["id"])
    assert (after["tarif_plan_id"], after["pending_plan_id"]) == (ENTERPRISE, None)
    manual_clock.set(manual_clock.now() + timedelta(days=29))
    renewal = di.invoice(open_renewal(di.user_id, sub["id"]))
    assert [line[1] for line in line_table(renewal)] == ["Enterprise"]


def test_an_upgrade_then_an_immediate_cancel_voids_the_upgrade(fresh_api: Api, manual_clock: ManualClock):
    ed = Holder(fresh_api, "ed")
    story = Story(ed.user_id)
    sub = ed.subscribe("basic")
    story.new()
    manual_clock.advance(timedelta(days=2))
    upgrade = ed.ok(sub["id"], "upgrade", {"plan_id": PRO})["invoice"]
    manual_clock.advance(MINUTE)

    body = ed.ok(sub["id"], "cancel", query="?immediately=true")

    assert (body["subscription"]["status"], body["subscription"]["pending_invoice_id"]) == ("CANCELLED", None)
    assert ed.invoice(upgrade["id"])["status"] == "CANCELLED"
    assert story.new() == ["invoice.created", "invoice.voided", "subscription.cancelled"]
    refused = ed.api.post(f"/api/v1/user/invoices/{upgrade['id']}/pay", {}, token=ed.token)
    assert refused.status == 400, refused.json
    assert ed.balance() == 50


def test_an_is_single_switch_is_an_upgrade_of_the_holder(fresh_api: Api, manual_clock: ManualClock):
    fay = Holder(fresh_api, "fay")
    starter = fay.subscribe("starter")  # the "Subscription plans" category is is_single
    basic = fay.subscribe("basic")  # "root" is not
    refused = fay.api.post("/api/v1/user/checkout", {"plan_id": PROFESSIONAL}, token=fay.token)
    assert (refused.status, refused.json) == (400, {"error": IS_SINGLE})  # a second one in the category

    manual_clock.advance(timedelta(days=10))
    into = fay.post(basic["id"], "upgrade", {"plan_id": PROFESSIONAL})
    assert (into.status, into.json) == (400, {"error": IS_SINGLE})  # another subscription holds the category
    body = fay.ok(starter["id"], "upgrade", {"plan_id": PROFESSIONAL})  # the holder may move within it
    # 11 May: 21 whole days to 1 June; Starter 4.99 / 30 × 21 = 3.493 → 3.49
    assert [line[1:4] for line in line_table(body["invoice"])] == [
        ("Professional", "19.99", "19.99"),
        ("Unused time on Starter", "-3.49", "-3.49"),
    ]
    manual_clock.advance(MINUTE)
    fay.pay(body["invoice"]["id"])

    switched = fay.subscription(starter["id"])
    assert (switched["tarif_plan_id"], switched["status"], switched["expires_at"]) == (
        PROFESSIONAL,
        "ACTIVE",
        "2026-06-11T09:01:00Z",
    )
    assert fay.subscription(basic["id"])["status"] == "ACTIVE"
    assert fay.balance() == 20 + 50 + 100


def test_an_upgrade_to_free_switches_now_without_tokens(fresh_api: Api, manual_clock: ManualClock):
    gus = Holder(fresh_api, "gus")
    sub = gus.subscribe("basic")
    manual_clock.advance(timedelta(days=30, hours=10))  # 31 May 19:00, 14 hours left: no credit

    body = gus.ok(sub["id"], "upgrade", {"plan_id": FREE})

    assert body["proration"] == {"credit": "0.00", "amount_due": "0.00", "days_remaining": 0, "currency": "EUR"}
    assert line_table(body["invoice"]) == [
        ("SUBSCRIPTION", "Free", "0.00", "0.00", "0.00", "0.00", "2026-05-31T19:00:00Z", "2026-06-30T19:00:00Z")
    ]
    assert gus.subscription(sub["id"])["tarif_plan_id"] == FREE
    assert ledger_lines(gus) == [(50, "SUBSCRIPTION", "Plan tokens: Basic")]


def test_an_upgrade_replayed_with_its_key_a_day_later_answers_what_it_did(fresh_api: Api, manual_clock: ManualClock):
    hal = Holder(fresh_api, "hal")
    sub = hal.subscribe("basic")
    key = {"Idempotency-Key": "hal-upgrade"}
    first = hal.post(sub["id"], "upgrade", {"plan_id": PRO}, headers=key)
    manual_clock.advance(timedelta(hours=20))

    again = hal.post(sub["id"], "upgrade", {"plan_id": PRO}, headers=key)

    assert (first.status, again.status, again.json) == (200, 200, first.json)
    hal.pay(first.json["invoice"]["id"])
    assert hal.subscription(sub["id"])["tarif_plan_id"] == PRO


def test_an_upgrade_with_add_ons_then_the_renewal_bills_them_together(fresh_api: Api, manual_clock: ManualClock):
    ivy = Holder(fresh_api, "ivy")
    sub = ivy.subscribe("pro", addons=("extra-storage-50gb", "priority-support"))
    manual_clock.advance(timedelta(days=16))  # 17 May 09:00, 15 days left

    upgrade = ivy.ok(sub["id"], "upgrade", {"plan_id": ENTERPRISE})["invoice"]
    # Pro 29.99 / 30 × 15 = 14.995 → 15.00 (half up)
    assert line_table(upgrade) == [
        ("SUBSCRIPTION", "Enterprise", "99.99", "99.99", "19.00", "118.99", None, None),
        ("CUSTOM", "Unused time on Pro", "-15.00", "-15.00", "-2.85", "-17.85", None, None),
    ]
    assert invoice_totals(upgrade) == ("PENDING", "84.99", "16.15", "101.14")
    manual_clock.advance(MINUTE)
    ivy.pay(upgrade["id"])

    period = ("2026-05-17T09:01:00Z", "2026-06-17T09:01:00Z")
    after = ivy.subscription(sub["id"])
    assert (after["current_period_start"], after["expires_at"]) == period
    # Both add-ons are sold with Enterprise too: they follow the new period.
    assert [(a["status"], a["expires_at"]) for a in after["add_ons"]] == [("ACTIVE", period[1])] * 2

    manual_clock.set(manual_clock.now().replace(month=6, day=16))
    renewal = ivy.invoice(open_renewal(ivy.user_id, sub["id"]))
    june = ("2026-06-17T09:01:00Z", "2026-07-17T09:01:00Z")
    assert sorted(line_table(renewal)) == [
        ("ADD_ON", "Extra Storage 50 GB", "4.99", "4.99", "0.95", "5.94", *june),
        ("ADD_ON", "Priority Support", "9.99", "9.99", "1.90", "11.89", *june),
        ("SUBSCRIPTION", "Enterprise", "99.99", "99.99", "19.00", "118.99", *june),
    ]
    ivy.pay(renewal["id"])
    renewed = ivy.subscription(sub["id"])
    assert [a["expires_at"] for a in renewed["add_ons"]] == [june[1]] * 2
    assert ivy.balance() == 200 + 1000 + 1000
