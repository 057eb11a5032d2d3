"""Upgrades and the proration preview (contract subscriptions.md §8.1, §8.2, §8.4; checkout-and-payments.md §3.3,
§6.2).

An upgrade issues an UPGRADE invoice — the new plan at its price, less a credit for the unused days of the current
one — and the plan switches when it is paid, or at once when nothing is due. Every test holds a clock (bought on
1 May 09:00, so a MONTHLY period ends on 1 June 09:00) and registers its own holders.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.core.clock import ManualClock
from tests.contract import (
    BASIC,
    BASIC_USD,
    ENTERPRISE,
    EXTRA_STORAGE,
    FREE,
    LEGACY_PLAN,
    ONBOARDING,
    PRIORITY_SUPPORT,
    PRO,
    PROFESSIONAL,
    STARTER,
)
from tests.integration.buyers import ledger_of
from tests.integration.conftest import Api
from tests.integration.holders import NOT_FOUND, Holder, addon_events, events, invoice_events, open_renewal

PENDING_MESSAGE = "Upgrade invoice created. The plan changes when it is paid."
SWITCHED_MESSAGE = "Subscription upgraded successfully."
IS_SINGLE = (
    "User already has an active subscription in category 'Subscription plans'. Please upgrade or downgrade instead."
)


def lines(invoice: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            line["item_type"],
            line["description"],
            line["unit_price"],
            line["net_amount"],
            line["tax_amount"],
            line["gross_amount"],
        )
        for line in invoice["line_items"]
    ]


def totals(invoice: dict[str, Any]) -> tuple[str, str, str]:
    return invoice["subtotal"], invoice["tax_amount"], invoice["total_amount"]


@pytest.fixture
def holder(api: Api, manual_clock: ManualClock) -> Holder:
    return Holder(api, "upgrade")


# --- the proration preview (§8.4) ------------------------------------------------------------------------------


def test_the_preview_of_basic_with_15_days_left_to_pro_is_the_contracts_example(holder, manual_clock):
    sub = holder.subscribe("basic")
    manual_clock.advance(timedelta(days=16))  # 17 May 09:00: 15 days to 1 June 09:00

    answer = holder.proration(sub["id"], f"?new_plan_id={PRO}")

    assert answer.status == 200, answer.json
    assert answer.json == {
        "proration": {
            "credit": "5.00",
            "amount_due": "24.99",
            "days_remaining": 15,
            "currency": "EUR",
            "daily_rate": "0.333000",
            "new_plan_price": "29.99",
        }
    }
    assert holder.subscription(sub["id"]) == {**sub, "days_remaining": 15}  # nothing is written


def test_the_preview_of_pro_with_10_days_left_to_basic_is_the_contracts_example(holder, manual_clock):
    sub = holder.subscribe("pro")
    manual_clock.advance(timedelta(days=21))  # 22 May: 10 days left

    answer = holder.proration(sub["id"], f"?new_plan_id={BASIC.upper()}")

    assert answer.status == 200, answer.json
    assert answer.json["proration"] == {
        "credit": "10.00",
        "amount_due": "0.00",
        "days_remaining": 10,
        "currency": "EUR",
        "daily_rate": "0.999667",
        "new_plan_price": "9.99",
    }


def test_the_preview_prices_both_plans_in_the_subscriptions_currency(api, manual_clock):
    holder = Holder(api, "usd", country=None)
    sub = holder.subscribe("basic-usd")  # 10.99 USD
    manual_clock.advance(timedelta(days=16))

    answer = holder.proration(sub["id"], f"?new_plan_id={PRO}")

    # Pro 29.99 EUR × 1.08 = 32.39 USD; 10.99 / 30 × 15 = 5.495 → 5.50 (half up).
    assert answer.json["proration"] == {
        "credit": "5.50",
        "amount_due": "26.89",
        "days_remaining": 15,
        "currency": "USD",
        "daily_rate": "0.366333",
        "new_plan_price": "32.39",
    }


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "new_plan_id query parameter is required"),
        ("?new_plan_id=", "new_plan_id query parameter is required"),
        ("?new_plan_id=pro", "Invalid new_plan_id format"),
        ("?new_plan_id=12345678-1234-1234-1234-1234567890ab", "Plan not found"),
    ],
)
def test_the_preview_refuses_a_missing_malformed_or_unknown_plan(holder, query, message):
    sub = holder.subscribe("basic")
    answer = holder.proration(sub["id"], query)
    assert (answer.status, answer.json) == (400, {"error": message})


def test_the_preview_needs_an_active_subscription_with_an_end(api, holder):
    pending = holder.checkout("basic")["subscription"]
    lifetime = holder.subscribe("lifetime")  # ONE_TIME: never expires
    for sub in (pending, lifetime):
        answer = holder.proration(sub["id"], f"?new_plan_id={PRO}")
        assert (answer.status, answer.json) == (400, {"error": "Unable to calculate proration"})


def test_the_preview_of_another_users_subscription_is_not_found(api, holder):
    sub = holder.subscribe("basic")
    other = Holder(api, "other")
    for subscription_id in (sub["id"], "12345678-1234-1234-1234-1234567890ab"):
        answer = other.proration(subscription_id, f"?new_plan_id={PRO}")
        assert (answer.status, answer.json) == (404, NOT_FOUND)
    answer = other.proration("not-a-uuid", f"?new_plan_id={PRO}")
    assert (answer.status, answer.json) == (400, {"error": "Invalid id"})


# --- an upgrade that waits for its payment -----------------------------------------------------------------------


def test_basic_to_pro_with_15_days_left_bills_24_99_plus_german_vat_and_switches_when_paid(holder, manual_clock):
    sub = holder.subscribe("basic")
    manual_clock.advance(timedelta(days=16))  # 17 May 09:00

    body = holder.ok(sub["id"], "upgrade", {"plan_id": PRO})

    invoice = body["invoice"]
    assert set(body) == {"subscription", "invoice", "proration", "message"}
    assert body["message"] == PENDING_MESSAGE
    assert body["proration"] == {"credit": "5.00", "amount_due": "24.99", "days_remaining": 15, "currency": "EUR"}
    assert (invoice["billing_reason"], invoice["status"], invoice["currency"]) == ("UPGRADE", "PENDING", "EUR")
    assert (invoice["subscription_id"], invoice["tarif_plan_id"]) == (sub["id"], PRO)
    assert (invoice["tax_code"], invoice["tax_rate"], invoice["payment_method"]) == ("VAT_DE", "19.00", "sandbox")
    assert (invoice["invoiced_at"], invoice["due_date"]) == ("2026-05-17T09:00:00Z", "2026-06-16T09:00:00Z")
    assert lines(invoice) == [
        ("SUBSCRIPTION", "Pro", "29.99", "29.99", "5.70", "35.69"),
        ("CUSTOM", "Unused time on Basic", "-5.00", "-5.00", "-0.95", "-5.95"),
    ]
    assert totals(invoice) == ("24.99", "4.75", "29.74")
    plan_line, credit_line = invoice["line_items"]
    assert (plan_line["item_id"], plan_line["catalog_item_id"], plan_line["type"]) == (sub["id"], PRO, "SUBSCRIPTION")
    assert plan_line["metadata"] == {
        "billing_reason": "UPGRADE",
        "plan_id": PRO,
        "plan_slug": "pro",
        "billing_period": "MONTHLY",
        "period_start": None,  # known when it is paid: the new period starts then
        "period_end": None,
    }
    assert (credit_line["item_id"], credit_line["catalog_item_id"], credit_line["type"]) == (sub["id"], None, "CUSTOM")
    assert credit_line["metadata"] == {
        "kind": "proration_credit",
        "from_plan_id": BASIC,
        "days_remaining": 15,
        "daily_rate": "0.333000",
    }
    # Nothing changes until it is paid.
    before = {key: value for key, value in sub.items() if key != "add_ons"}
    assert body["subscription"] == before | {
        "days_remaining": 15,
        "pending_invoice_id": invoice["id"],
        "updated_at": "2026-05-17T09:00:00Z",
    }
    assert holder.subscription(sub["id"])["tarif_plan_id"] == BASIC
    assert [e["billing_reason"] for e in invoice_events("invoice.created", invoice["id"])] == ["UPGRADE"]
    assert events("subscription.upgraded", sub["id"]) == []

    manual_clock.advance(timedelta(hours=2))
    holder.pay(invoice["id"])

    after = holder.subscription(sub["id"])
    assert (after["tarif_plan_id"], after["plan"]["slug"], after["pending_invoice_id"]) == (PRO, "pro", None)
    assert (after["current_period_start"], after["expires_at"]) == ("2026-05-17T11:00:00Z", "2026-06-17T11:00:00Z")
    assert holder.balance() == 50 + 200
    assert ledger_of(holder.api, holder.token)[0]["description"] == "Plan tokens: Pro"
    [upgraded] = events("subscription.upgraded", sub["id"])
    assert (upgraded["from_plan_id"], upgraded["to_plan_id"], upgraded["invoice_id"]) == (BASIC, PRO, invoice["id"])


def test_a_second_upgrade_while_one_is_unpaid_is_a_conflict_naming_the_invoice(holder):
    sub = holder.subscribe("basic")
    first = holder.ok(sub["id"], "upgrade", {"plan_id": PRO})["invoice"]

    for target in (ENTERPRISE, PRO):
        answer = holder.post(sub["id"], "upgrade", {"plan_id": target})
        assert (answer.status, answer.json) == (
            409,
            {"error": "An upgrade invoice is already pending for this subscription", "invoice_id": first["id"]},
        )


def test_an_upgrade_while_the_renewal_is_unpaid_is_a_conflict_naming_the_renewal(holder):
    sub = holder.subscribe("basic")
    renewal = open_renewal(holder.user_id, sub["id"])

    answer = holder.post(sub["id"], "upgrade", {"plan_id": PRO})

    assert (answer.status, answer.json) == (
        409,
        {"error": "A renewal invoice is pending; pay it first", "invoice_id": renewal},
    )


def test_once_the_renewal_voided_an_unpaid_upgrade_the_renewal_blocks_upgrades(holder):
    """An unpaid upgrade invoice is voided when the renewal invoice of the period is created (§8.2)."""
    sub = holder.subscribe("basic")
    upgrade = holder.ok(sub["id"], "upgrade", {"plan_id": PRO})["invoice"]
    renewal = open_renewal(holder.user_id, sub["id"])

    assert holder.invoice(upgrade["id"])["status"] == "CANCELLED"
    assert holder.subscription(sub["id"])["pending_invoice_id"] == renewal
    answer = holder.post(sub["id"], "upgrade", {"plan_id": PRO})
    assert (answer.status, answer.json["invoice_id"]) == (409, renewal)


def test_an_upgrade_from_a_plan_that_never_expires_has_no_credit(holder, manual_clock):
    sub = holder.subscribe("lifetime")
    manual_clock.advance(timedelta(days=3))

    body = holder.ok(sub["id"], "upgrade", {"plan_id": PRO})

    assert body["proration"] == {"credit": "0.00", "amount_due": "29.99", "days_remaining": 0, "currency": "EUR"}
    assert lines(body["invoice"]) == [("SUBSCRIPTION", "Pro", "29.99", "29.99", "5.70", "35.69")]
    holder.pay(body["invoice"]["id"])
    after = holder.subscription(sub["id"])
    assert (after["tarif_plan_id"], after["expires_at"]) == (PRO, "2026-06-04T09:00:00Z")


def test_an_upgrade_bills_in_the_subscriptions_currency(api, manual_clock):
    holder = Holder(api, "usd", country=None)
    sub = holder.subscribe("basic-usd")
    manual_clock.advance(timedelta(days=16))

    body = holder.ok(sub["id"], "upgrade", {"plan_id": PRO})

    invoice = body["invoice"]
    assert (invoice["currency"], invoice["tax_rate"]) == ("USD", None)
    assert lines(invoice) == [
        ("SUBSCRIPTION", "Pro", "32.39", "32.39", "0.00", "32.39"),
        ("CUSTOM", "Unused time on Basic (USD)", "-5.50", "-5.50", "0.00", "-5.50"),
    ]
    assert invoice["line_items"][0]["metadata"] == {
        "billing_reason": "UPGRADE",
        "plan_id": PRO,
        "plan_slug": "pro",
        "billing_period": "MONTHLY",
        "period_start": None,
        "period_end": None,
        "original_currency": "EUR",
        "original_unit_price": "29.99",
        "exchange_rate": "1.080000",
    }
    assert totals(invoice) == ("26.89", "0.00", "26.89")
    assert body["proration"]["currency"] == "USD"
    assert sub["tarif_plan_id"] == BASIC_USD


def test_a_paid_upgrade_clears_a_scheduled_downgrade(holder):
    sub = holder.subscribe("pro")
    holder.ok(sub["id"], "downgrade", {"plan_id": BASIC})

    invoice = holder.ok(sub["id"], "upgrade", {"plan_id": ENTERPRISE})["invoice"]
    assert holder.subscription(sub["id"])["pending_plan_id"] == BASIC  # until the upgrade is paid
    holder.pay(invoice["id"])

    after = holder.subscription(sub["id"])
    assert (after["tarif_plan_id"], after["pending_plan_id"], after["pending_plan"]) == (ENTERPRISE, None, None)


def test_an_upgrade_answers_its_idempotency_key_once(holder):
    sub = holder.subscribe("basic")
    key = {"Idempotency-Key": "upgrade-once"}

    first = holder.post(sub["id"], "upgrade", {"plan_id": PRO}, headers=key)
    again = holder.post(sub["id"], "upgrade", {"plan_id": PRO}, headers=key)

    assert (first.status, again.status) == (200, 200)
    assert again.json == first.json
    assert again.headers.get("idempotent-replayed") == "true"
    assert first.headers.get("idempotent-replayed") is None
    assert len(invoice_events("invoice.created", first.json["invoice"]["id"])) == 1
    assert sorted(e["billing_reason"] for e in events("invoice.created", sub["id"])) == [
        "SUBSCRIPTION_CREATE",
        "UPGRADE",
    ]


# --- an upgrade with nothing to pay switches at once -------------------------------------------------------------


def test_pro_with_10_days_left_to_basic_is_paid_by_the_credit_and_switches_now(holder, manual_clock):
    sub = holder.subscribe("pro")
    manual_clock.advance(timedelta(days=21))  # 22 May 09:00

    body = holder.ok(sub["id"], "upgrade", {"plan_id": BASIC})

    invoice = body["invoice"]
    assert body["message"] == SWITCHED_MESSAGE
    assert body["proration"] == {"credit": "10.00", "amount_due": "0.00", "days_remaining": 10, "currency": "EUR"}
    assert lines(invoice) == [
        ("SUBSCRIPTION", "Basic", "9.99", "9.99", "1.90", "11.89"),
        ("CUSTOM", "Unused time on Pro", "-9.99", "-9.99", "-1.90", "-11.89"),  # never more than the new price
    ]
    assert totals(invoice) == ("0.00", "0.00", "0.00")
    assert (invoice["status"], invoice["payment_ref"], invoice["payment_method"]) == ("PAID", "zero-price", "none")
    assert invoice["paid_at"] == "2026-05-22T09:00:00Z"
    assert invoice["line_items"][0]["metadata"]["period_start"] == "2026-05-22T09:00:00Z"
    assert invoice["line_items"][0]["metadata"]["period_end"] == "2026-06-22T09:00:00Z"
    switched = body["subscription"]
    assert (switched["tarif_plan_id"], switched["plan"]["slug"], switched["pending_invoice_id"]) == (
        BASIC,
        "basic",
        None,
    )
    assert (switched["current_period_start"], switched["expires_at"]) == (
        "2026-05-22T09:00:00Z",
        "2026-06-22T09:00:00Z",
    )
    assert holder.subscription(sub["id"]) == {**switched, "add_ons": []}
    assert holder.balance() == 200 + 50
    [upgraded] = events("subscription.upgraded", sub["id"])
    assert (upgraded["from_plan_id"], upgraded["to_plan_id"], upgraded["invoice_id"]) == (PRO, BASIC, invoice["id"])
    assert [e["payment_reference"] for e in invoice_events("invoice.paid", invoice["id"])] == ["zero-price"]


def test_an_upgrade_to_a_free_plan_switches_now(holder):
    sub = holder.subscribe("basic")

    body = holder.ok(sub["id"], "upgrade", {"plan_id": FREE})

    assert body["message"] == SWITCHED_MESSAGE
    assert body["invoice"]["status"] == "PAID"
    assert body["subscription"]["tarif_plan_id"] == FREE


def test_a_replayed_free_upgrade_answers_what_it_did(holder):
    sub = holder.subscribe("basic")
    key = {"Idempotency-Key": "free-upgrade"}

    first = holder.post(sub["id"], "upgrade", {"plan_id": FREE}, headers=key)
    again = holder.post(sub["id"], "upgrade", {"plan_id": FREE}, headers=key)

    assert again.json == first.json
    assert first.json["message"] == SWITCHED_MESSAGE
    assert len(events("subscription.upgraded", sub["id"])) == 1


# --- refusals (§8.2, in the contract's order) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "plan_id is required"),
        ({"plan_id": None}, "plan_id is required"),
        ({"plan_id": ""}, "plan_id is required"),
        ({"plan_id": "pro"}, "Invalid plan_id format"),
        ({"plan_id": 5}, "Invalid plan_id format"),
        ({"plan_id": 1.5}, "Invalid plan_id format"),
        ({"plan_id": {"id": PRO}}, "Invalid plan_id format"),
        ({"plan_id": [PRO]}, "Invalid plan_id format"),
        ({"plan_id": "x" * 100_000}, "Invalid plan_id format"),
        ({"plan_id": "12345678-1234-1234-1234-1234567890ab"}, "Plan not found"),
        ({"plan_id": LEGACY_PLAN}, "Plan is not active"),
        ({"plan_id": BASIC}, "Already subscribed to this plan"),
    ],
)
def test_an_upgrade_refuses_a_missing_malformed_unknown_inactive_or_same_plan(holder, body, message):
    sub = holder.subscribe("basic")
    answer = holder.post(sub["id"], "upgrade", body)
    assert (answer.status, answer.json) == (400, {"error": message})


def test_only_active_subscriptions_can_be_upgraded(holder):
    pending = holder.checkout("basic")["subscription"]
    paused = holder.subscribe("basic")
    holder.ok(paused["id"], "pause")
    past_due = holder.subscribe("basic")
    holder.set(past_due["id"], status="PAST_DUE")
    ended = holder.subscribe("basic")
    holder.ok(ended["id"], "cancel", query="?immediately=true")
    for sub in (pending, paused, past_due, ended):
        answer = holder.post(sub["id"], "upgrade", {"plan_id": PRO})
        assert (answer.status, answer.json) == (400, {"error": "Only active subscriptions can be upgraded"})


def test_a_trialing_subscription_cannot_be_upgraded(holder):
    trial = holder.subscribe("starter", trial=True)
    assert trial["status"] == "TRIALING"
    answer = holder.post(trial["id"], "upgrade", {"plan_id": PROFESSIONAL})
    assert (answer.status, answer.json) == (400, {"error": "Only active subscriptions can be upgraded"})


def test_a_subscription_scheduled_for_cancellation_must_be_reactivated_first(holder):
    sub = holder.subscribe("basic")
    holder.ok(sub["id"], "cancel")
    answer = holder.post(sub["id"], "upgrade", {"plan_id": PRO})
    assert (answer.status, answer.json) == (400, {"error": "Subscription is scheduled for cancellation"})


def test_an_upgrade_into_an_is_single_category_held_by_another_subscription_is_refused(holder):
    starter = holder.subscribe("starter")
    basic = holder.subscribe("basic")

    refused = holder.post(basic["id"], "upgrade", {"plan_id": PROFESSIONAL})
    allowed = holder.post(starter["id"], "upgrade", {"plan_id": PROFESSIONAL})  # the holder is the one upgraded

    assert (refused.status, refused.json) == (400, {"error": IS_SINGLE})
    assert allowed.status == 200, allowed.json
    assert starter["tarif_plan_id"] == STARTER


def test_another_users_subscription_is_not_found(api, holder):
    sub = holder.subscribe("basic")
    other = Holder(api, "other")
    for subscription_id in (sub["id"], "12345678-1234-1234-1234-1234567890ab"):
        answer = other.post(subscription_id, "upgrade", {"plan_id": PRO})
        assert (answer.status, answer.json) == (404, NOT_FOUND)
    assert holder.subscription(sub["id"])["pending_invoice_id"] is None


# --- add-ons after an upgrade (§10) --------------------------------------------------------------------------------


def test_after_an_upgrade_add_ons_bound_to_the_old_plan_end_and_the_others_follow_the_new_period(holder, manual_clock):
    sub = holder.subscribe("pro", addons=("priority-support", "extra-storage-50gb", "dedicated-onboarding"))
    by_addon = {a["addon_id"]: a for a in sub["add_ons"]}
    manual_clock.advance(timedelta(days=21))  # 22 May 09:00

    body = holder.ok(sub["id"], "upgrade", {"plan_id": BASIC})  # paid by the credit: switches now

    assert body["subscription"]["expires_at"] == "2026-06-22T09:00:00Z", (
        body["proration"],
        body["message"],
        body["invoice"]["line_items"],
    )
    after = {a["addon_id"]: a for a in holder.subscription(sub["id"])["add_ons"]}
    support, storage, onboarding = (after[seed] for seed in (PRIORITY_SUPPORT, EXTRA_STORAGE, ONBOARDING))
    # Priority Support is sold with Pro and Enterprise only: it ends when its paid period does.
    assert (support["status"], support["cancel_at_period_end"], support["expires_at"]) == (
        "ACTIVE",
        True,
        by_addon[PRIORITY_SUPPORT]["expires_at"],
    )
    # Any plan's add-on stays co-terminous with the subscription: the new period's end.
    assert (storage["cancel_at_period_end"], storage["expires_at"]) == (False, "2026-06-22T09:00:00Z")
    assert (onboarding["cancel_at_period_end"], onboarding["expires_at"]) == (False, None)  # one-time: untouched
    assert len(addon_events("addon.cancellation_scheduled", support["id"])) == 1
    assert addon_events("addon.cancellation_scheduled", storage["id"]) == []


# --- an upgrade with a saved off-session method is charged at once (§8.2) ------------------------------------------


def test_an_upgrade_with_a_saved_method_is_charged_at_once_and_switches_now(holder, manual_clock):
    sub = holder.subscribe("basic", saved=True)
    assert sub["has_saved_payment_method"] is True
    manual_clock.advance(timedelta(days=16))

    body = holder.ok(sub["id"], "upgrade", {"plan_id": PRO})

    assert body["message"] == SWITCHED_MESSAGE
    assert (body["invoice"]["status"], body["invoice"]["total_amount"]) == ("PAID", "29.74")
    after = body["subscription"]
    assert (after["tarif_plan_id"], after["pending_invoice_id"], after["expires_at"]) == (
        PRO,
        None,
        "2026-06-17T09:00:00Z",
    )
    assert holder.subscription(sub["id"]) == {**after, "add_ons": []}
    assert len(events("subscription.upgraded", sub["id"])) == 1


def test_a_declined_charge_leaves_the_upgrade_invoice_for_the_user_to_pay(holder, manual_clock):
    sub = holder.subscribe("basic", saved=True)
    failing = holder.api.put("/api/v1/plugins/sandbox/outcome", {"outcome": "fail"}, token=holder.token)
    assert failing.status == 200, failing.json
    manual_clock.advance(timedelta(days=16))

    body = holder.ok(sub["id"], "upgrade", {"plan_id": PRO})

    assert body["message"] == PENDING_MESSAGE
    assert (body["invoice"]["status"], body["subscription"]["tarif_plan_id"]) == ("PENDING", BASIC)
    assert body["subscription"]["pending_invoice_id"] == body["invoice"]["id"]
    assert events("subscription.upgraded", sub["id"]) == []
    holder.api.put("/api/v1/plugins/sandbox/outcome", {"outcome": "succeed"}, token=holder.token)
    holder.pay(body["invoice"]["id"])
    assert holder.subscription(sub["id"])["tarif_plan_id"] == PRO
