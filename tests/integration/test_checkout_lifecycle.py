"""POST /api/v1/user/checkout: what a checkout starts — trials, zero totals, add-on states, events, all or nothing.

Contract checkout-and-payments.md §5.1 (transaction, zero total, events), §6.2 (capture of a zero total);
subscriptions.md §2.1/§2.3 (objects), §5.2 (is_single), §6 (trials), §10 (add-ons); events.md §2.
Shared seeded account: every test buys as a user it registered, except where a seeded user is the point.
"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.subscriptions.models import SubscriptionItem
from tests.contract import (
    BASIC,
    ENTERPRISE,
    EXTRA_STORAGE,
    FREE,
    LEGACY_ADDON,
    LEGACY_BUNDLE,
    LEGACY_PLAN,
    LIFETIME,
    ONBOARDING,
    PRIORITY_SUPPORT,
    PRO,
    STARTER,
    TOKENS_100,
)
from tests.integration.buyers import CHECKOUT, SUBSCRIBE, checkout, paid, read, register_buyer, set_holding
from tests.integration.conftest import outbox_events

NOW = "2026-05-01T09:00:00Z"
IN_3_DAYS = "2026-05-04T09:00:00Z"
IN_30_DAYS = "2026-05-31T09:00:00Z"
NEXT_MONTH = "2026-06-01T09:00:00Z"
BILLING_EVENTS = {
    "invoice.created",
    "invoice.paid",
    "payment.captured",
    "subscription.created",
    "subscription.trial_started",
    "subscription.activated",
    "tokens.credited",
    "addon.activated",
}


def events_of(user_id: str, *invoice_ids: str) -> list[dict[str, Any]]:
    """The billing, subscription and token events about this user or these invoices (`payment.captured` names the
    invoice only); the outbox holds the events of every test of the module."""
    return [
        e
        for e in outbox_events()
        if e["type"] in BILLING_EVENTS
        and (e["data"].get("user_id") == user_id or e["data"].get("invoice_id") in invoice_ids)
    ]


def event_types(user_id: str) -> list[str]:
    return sorted(e["type"] for e in events_of(user_id))


def pay_with_sandbox(api, token: str, invoice_id: str) -> dict[str, Any]:
    answer = paid(api, token, invoice_id, payment_method_code="sandbox")
    assert answer["invoice"]["status"] == "PAID"
    return answer


def subscriptions_of(api, token: str) -> list[dict[str, Any]]:
    return read(api, "/api/v1/user/subscriptions", token)["subscriptions"]  # type: ignore[no-any-return]


def invoices_of(api, token: str) -> list[dict[str, Any]]:
    return read(api, "/api/v1/user/invoices", token)["invoices"]  # type: ignore[no-any-return]


# --- trials (subscriptions.md §6) ---------------------------------------------------------------------------------


def test_a_trial_for_a_new_user(api, manual_clock):
    buyer = register_buyer(api, "checkout-life")
    body = checkout(api, buyer.token, {"plan_id": PRO})
    assert body["trial_applied"] is True
    assert body["message"] == "Checkout created. Awaiting payment."
    subscription, invoice = body["subscription"], body["invoice"]
    assert {k: subscription[k] for k in ("status", "is_trialing", "is_valid", "days_remaining")} == {
        "status": "TRIALING",
        "is_trialing": True,
        "is_valid": True,
        "days_remaining": 3,
    }
    assert (subscription["started_at"], subscription["trial_end_at"], subscription["expires_at"]) == (
        NOW,
        IN_3_DAYS,
        IN_3_DAYS,
    )
    assert subscription["current_period_start"] is None
    assert subscription["pending_invoice_id"] == invoice["id"]
    assert (invoice["status"], invoice["is_payable"], invoice["total_amount"]) == ("PENDING", True, "29.99")
    assert (invoice["due_date"], invoice["expires_at"], invoice["invoiced_at"]) == (IN_3_DAYS, IN_3_DAYS, NOW)
    assert invoice["line_items"][0]["metadata"] == {
        "billing_reason": "SUBSCRIPTION_CREATE",
        "plan_id": PRO,
        "plan_slug": "pro",
        "billing_period": "MONTHLY",
        "period_start": None,
        "period_end": None,
        "trial_end_at": IN_3_DAYS,
    }
    assert invoice["line_items"][0]["extra_data"] == invoice["line_items"][0]["metadata"]

    events = {e["type"]: e for e in events_of(buyer.user_id)}
    assert sorted(events) == ["invoice.created", "subscription.created", "subscription.trial_started"]
    common = {
        "subscription_id": subscription["id"],
        "user_id": buyer.user_id,
        "plan_id": PRO,
        "plan_slug": "pro",
        "plan_name": "Pro",
        "status": "TRIALING",
    }
    assert events["subscription.created"]["data"] == {**common, "invoice_id": invoice["id"], "trial_end_at": IN_3_DAYS}
    assert events["subscription.trial_started"]["data"] == {**common, "trial_end_at": IN_3_DAYS}
    assert events["invoice.created"]["data"] == {
        "invoice_id": invoice["id"],
        "invoice_number": invoice["invoice_number"],
        "user_id": buyer.user_id,
        "billing_reason": "SUBSCRIPTION_CREATE",
        "subscription_id": subscription["id"],
        "currency": "EUR",
        "total_amount": "29.99",
        "due_date": IN_3_DAYS,
    }
    for event in events.values():
        assert event["actor"] == {"type": "user", "id": buyer.user_id}
        assert event["occurred_at"] == NOW


def test_a_second_trial_on_another_plan_is_refused(api, manual_clock):
    buyer = register_buyer(api, "checkout-life")
    assert checkout(api, buyer.token, {"plan_id": PRO})["trial_applied"] is True
    body = checkout(api, buyer.token, {"plan_id": ENTERPRISE})
    assert body["trial_applied"] is False
    subscription, invoice = body["subscription"], body["invoice"]
    assert subscription["status"] == "PENDING"
    assert (subscription["started_at"], subscription["trial_end_at"], subscription["expires_at"]) == (None, None, None)
    assert (invoice["due_date"], invoice["total_amount"]) == (IN_30_DAYS, "99.99")
    assert "trial_end_at" not in invoice["line_items"][0]["metadata"]
    created = [e for e in events_of(buyer.user_id) if e["data"].get("subscription_id") == subscription["id"]]
    assert sorted(e["type"] for e in created) == ["invoice.created", "subscription.created"]
    assert [e["data"]["trial_end_at"] for e in created if e["type"] == "subscription.created"] == [None]


def test_a_second_trial_after_the_first_was_cancelled_is_refused(api):
    buyer = register_buyer(api, "checkout-life")
    first = checkout(api, buyer.token, {"plan_id": PRO})
    set_holding(SubscriptionItem, buyer.user_id, first["subscription"]["id"], status="CANCELLED")
    again = checkout(api, buyer.token, {"plan_id": PRO})
    assert (again["trial_applied"], again["subscription"]["status"]) == (False, "PENDING")


def test_a_user_who_has_used_a_trial_never_gets_one(api):
    token = api.token("user.pro@demo.local", "DemoPass123!")
    body = checkout(api, token, {"plan_id": ENTERPRISE})
    assert (body["trial_applied"], body["subscription"]["status"]) == (False, "PENDING")
    assert body["subscription"]["trial_end_at"] is None


def test_a_refused_trial_checkout_does_not_use_the_trial(api):
    buyer = register_buyer(api, "checkout-life")
    answer = api.post(CHECKOUT, {"plan_id": PRO, "add_on_ids": [LEGACY_ADDON]}, token=buyer.token)
    assert answer.json == {"error": "Add-on Legacy Add-on is not active"}
    answer = api.post(CHECKOUT, {"plan_id": PRO, "payment_method_code": "nope"}, token=buyer.token)
    assert answer.json == {"error": "Payment method not available: nope"}
    assert checkout(api, buyer.token, {"plan_id": PRO})["trial_applied"] is True


def test_plans_without_trial_days_start_pending(api):
    buyer = register_buyer(api, "checkout-life")
    for plan in (BASIC, LIFETIME):
        body = checkout(api, buyer.token, {"plan_id": plan})
        assert (body["trial_applied"], body["subscription"]["status"]) == (False, "PENDING")
    # the user never trialled, so a plan with trial days still trials
    assert checkout(api, buyer.token, {"plan_id": STARTER})["trial_applied"] is True


# --- zero totals (§5.1, §6.2) -------------------------------------------------------------------------------------


def test_the_free_plan_is_captured_at_once(api, manual_clock):
    buyer = register_buyer(api, "checkout-life")
    answer = api.post(CHECKOUT, {"plan_id": FREE}, token=buyer.token)
    assert answer.status == 201, answer.json
    body = answer.json
    assert body["message"] == "Checkout complete. Free plan activated."
    assert body["trial_applied"] is False
    invoice, subscription = body["invoice"], body["subscription"]
    assert {k: invoice[k] for k in ("status", "payment_ref", "payment_method", "paid_at", "is_payable")} == {
        "status": "PAID",
        "payment_ref": "zero-price",
        "payment_method": "none",
        "paid_at": NOW,
        "is_payable": False,
    }
    assert (invoice["subtotal"], invoice["tax_amount"], invoice["total_amount"], invoice["amount"]) == (
        "0.00",
        "0.00",
        "0.00",
        "0.00",
    )
    assert invoice["billing_reason"] == "SUBSCRIPTION_CREATE"
    assert {k: subscription[k] for k in ("status", "is_valid", "started_at", "current_period_start", "expires_at")} == {
        "status": "ACTIVE",
        "is_valid": True,
        "started_at": NOW,
        "current_period_start": NOW,
        "expires_at": NEXT_MONTH,
    }
    assert (subscription["trial_end_at"], subscription["pending_invoice_id"]) == (None, None)
    assert subscription["plan"] == {"id": FREE, "name": "Free", "slug": "free"}

    # what the answer shows is what is stored
    (stored_invoice,) = invoices_of(api, buyer.token)
    assert stored_invoice == invoice
    (stored,) = subscriptions_of(api, buyer.token)
    assert (stored["id"], stored["status"], stored["expires_at"]) == (subscription["id"], "ACTIVE", NEXT_MONTH)

    events = {e["type"]: e for e in events_of(buyer.user_id, invoice["id"])}
    assert sorted(events) == [
        "invoice.created",
        "invoice.paid",
        "payment.captured",
        "subscription.activated",
        "subscription.created",
    ]
    assert events["payment.captured"]["data"]["payment_reference"] == "zero-price"
    assert events["payment.captured"]["data"]["amount"] == "0.00"
    assert events["invoice.paid"]["data"]["provider"] == "none"
    assert events["subscription.activated"]["data"]["expires_at"] == NEXT_MONTH


def test_a_zero_total_records_no_payment_method_even_when_one_is_chosen(api):
    buyer = register_buyer(api, "checkout-life")
    body = checkout(api, buyer.token, {"plan_id": FREE, "payment_method_code": "sandbox"})
    assert (body["invoice"]["status"], body["invoice"]["payment_method"]) == ("PAID", "none")
    assert body["message"] == "Checkout complete. Free plan activated."


def test_the_free_plan_with_a_bundle_awaits_payment(api):
    buyer = register_buyer(api, "checkout-life")
    body = checkout(api, buyer.token, {"plan_id": FREE, "token_bundle_ids": [TOKENS_100]})
    assert body["message"] == "Checkout created. Awaiting payment."
    assert (body["invoice"]["status"], body["invoice"]["total_amount"]) == ("PENDING", "3.00")
    assert body["subscription"]["status"] == "PENDING"
    assert body["token_bundles"][0]["status"] == "PENDING"


# --- add-ons (subscriptions.md §10) -------------------------------------------------------------------------------


def test_add_ons_bought_with_a_trialing_plan_trial_too(api):
    buyer = register_buyer(api, "checkout-life")
    body = checkout(api, buyer.token, {"plan_id": PRO, "add_on_ids": [PRIORITY_SUPPORT, EXTRA_STORAGE]})
    assert body["subscription"]["status"] == "TRIALING"
    assert [(a["addon_id"], a["status"], a["subscription_id"]) for a in body["add_ons"]] == [
        (PRIORITY_SUPPORT, "TRIALING", body["subscription"]["id"]),
        (EXTRA_STORAGE, "TRIALING", body["subscription"]["id"]),
    ]
    assert [a["is_valid"] for a in body["add_ons"]] == [True, True]
    assert [a["invoice_id"] for a in body["add_ons"]] == [body["invoice"]["id"]] * 2


def test_add_ons_bought_with_a_plain_plan_are_pending(api):
    buyer = register_buyer(api, "checkout-life")
    body = checkout(api, buyer.token, {"plan_id": BASIC, "add_on_ids": [EXTRA_STORAGE]})
    assert [(a["status"], a["subscription_id"]) for a in body["add_ons"]] == [("PENDING", body["subscription"]["id"])]


def test_an_independent_add_on_bought_alone_has_no_parent(api):
    buyer = register_buyer(api, "checkout-life")
    checkout(api, buyer.token, {"plan_id": BASIC})  # a subscription the independent add-on is not linked to
    body = checkout(api, buyer.token, {"add_on_ids": [EXTRA_STORAGE]})
    assert [(a["status"], a["subscription_id"]) for a in body["add_ons"]] == [("PENDING", None)]
    assert body["invoice"]["subscription_id"] is None


def test_a_plan_bound_add_on_bought_alone_joins_the_most_recent_valid_subscription(api):
    buyer = register_buyer(api, "checkout-life")
    trialing = checkout(api, buyer.token, {"plan_id": PRO})["subscription"]
    later = checkout(api, buyer.token, {"plan_id": PRO})
    assert later["subscription"]["status"] == "PENDING"
    body = checkout(api, buyer.token, {"add_on_ids": [PRIORITY_SUPPORT]})
    assert body["add_ons"][0]["subscription_id"] == trialing["id"]  # the PENDING one is not valid
    pay_with_sandbox(api, buyer.token, later["invoice"]["id"])
    body = checkout(api, buyer.token, {"add_on_ids": [PRIORITY_SUPPORT]})
    assert body["add_ons"][0]["subscription_id"] == later["subscription"]["id"]


def test_a_recurring_add_on_already_active_is_refused(api):
    buyer = register_buyer(api, "checkout-life")
    first = checkout(api, buyer.token, {"add_on_ids": [EXTRA_STORAGE]})
    pay_with_sandbox(api, buyer.token, first["invoice"]["id"])
    answer = api.post(CHECKOUT, {"add_on_ids": [EXTRA_STORAGE]}, token=buyer.token)
    assert (answer.status, answer.json) == (400, {"error": "Add-on Extra Storage 50 GB is already active"})
    answer = api.post(CHECKOUT, {"token_bundle_ids": [TOKENS_100], "add_on_ids": [EXTRA_STORAGE]}, token=buyer.token)
    assert (answer.status, answer.json) == (400, {"error": "Add-on Extra Storage 50 GB is already active"})
    # with a new plan it belongs to a new parent: accepted
    body = checkout(api, buyer.token, {"plan_id": BASIC, "add_on_ids": [EXTRA_STORAGE]})
    assert body["add_ons"][0]["subscription_id"] == body["subscription"]["id"]


def test_an_add_on_active_under_another_parent_does_not_block(api):
    buyer = register_buyer(api, "checkout-life")
    with_plan = checkout(api, buyer.token, {"plan_id": BASIC, "add_on_ids": [EXTRA_STORAGE]})
    pay_with_sandbox(api, buyer.token, with_plan["invoice"]["id"])
    (active,) = api.get("/api/v1/user/addons", token=buyer.token).json["addon_subscriptions"]
    assert (active["status"], active["subscription_id"]) == ("ACTIVE", with_plan["subscription"]["id"])
    # bought alone, the independent add-on has no parent: not the same one as the active add-on
    alone = checkout(api, buyer.token, {"add_on_ids": [EXTRA_STORAGE]})
    assert [(a["status"], a["subscription_id"]) for a in alone["add_ons"]] == [("PENDING", None)]


def test_a_pending_add_on_does_not_block_another_purchase(api):
    buyer = register_buyer(api, "checkout-life")
    first = checkout(api, buyer.token, {"add_on_ids": [EXTRA_STORAGE]})
    second = checkout(api, buyer.token, {"add_on_ids": [EXTRA_STORAGE]})
    assert first["add_ons"][0]["id"] != second["add_ons"][0]["id"]


def test_a_one_time_add_on_can_be_bought_again(api):
    buyer = register_buyer(api, "checkout-life")
    first = checkout(api, buyer.token, {"add_on_ids": [ONBOARDING]})
    pay_with_sandbox(api, buyer.token, first["invoice"]["id"])
    again = checkout(api, buyer.token, {"add_on_ids": [ONBOARDING]})
    assert again["add_ons"][0]["status"] == "PENDING"


def test_a_plan_bound_add_on_for_a_subscriber_once_active_is_refused(api):
    token = api.token("user.pro@demo.local", "DemoPass123!")
    (pro,) = [s for s in subscriptions_of(api, token) if s["plan"]["slug"] == "pro" and s["status"] == "ACTIVE"]
    first = checkout(api, token, {"add_on_ids": [PRIORITY_SUPPORT]})
    assert first["add_ons"][0]["subscription_id"] == pro["id"]
    assert first["invoice"]["subscription_id"] is None
    assert first["invoice"]["billing_reason"] == "PURCHASE"
    assert first["invoice"]["total_amount"] == "11.89"  # user.pro is billed in DE
    pay_with_sandbox(api, token, first["invoice"]["id"])
    answer = api.post(CHECKOUT, {"add_on_ids": [PRIORITY_SUPPORT]}, token=token)
    assert (answer.status, answer.json) == (400, {"error": "Add-on Priority Support is already active"})


# --- all or nothing (§5.1) ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"plan_id": PRO, "token_bundle_ids": ["x"]},
        {"plan_id": PRO, "currency": "XXX"},
        {"plan_id": LEGACY_PLAN},
        {"plan_id": PRO, "token_bundle_ids": [TOKENS_100, LEGACY_BUNDLE]},
        {"plan_id": PRO, "token_bundle_ids": [TOKENS_100], "add_on_ids": [EXTRA_STORAGE, LEGACY_ADDON]},
        {"plan_id": BASIC, "add_on_ids": [PRIORITY_SUPPORT]},
        {"plan_id": PRO, "token_bundle_ids": [TOKENS_100], "add_on_ids": [EXTRA_STORAGE], "payment_method_code": "x"},
    ],
)
def test_a_refused_checkout_writes_nothing(api, body):
    buyer = register_buyer(api, "checkout-life")
    assert api.post(CHECKOUT, body, token=buyer.token).status == 400
    if "token_bundle_ids" not in body:  # POST /subscriptions ignores bundles
        assert api.post(SUBSCRIBE, body, token=buyer.token).status == 400
    assert api.get("/api/v1/user/invoices", token=buyer.token).json == {"invoices": [], "total": 0}
    assert api.get("/api/v1/user/subscriptions", token=buyer.token).json == {"subscriptions": [], "total": 0}
    assert api.get("/api/v1/user/addons", token=buyer.token).json == {"addon_subscriptions": []}
    assert events_of(buyer.user_id) == []
    # nor was the trial used up
    assert checkout(api, buyer.token, {"plan_id": PRO})["trial_applied"] is True


def test_a_refused_is_single_checkout_leaves_the_first_subscription_alone(api):
    buyer = register_buyer(api, "checkout-life")
    first = checkout(api, buyer.token, {"plan_id": STARTER, "add_on_ids": [EXTRA_STORAGE]})
    before = (invoices_of(api, buyer.token), subscriptions_of(api, buyer.token), sorted(event_types(buyer.user_id)))
    answer = api.post(CHECKOUT, {"plan_id": STARTER, "token_bundle_ids": [TOKENS_100]}, token=buyer.token)
    assert answer.status == 400
    after = (invoices_of(api, buyer.token), subscriptions_of(api, buyer.token), sorted(event_types(buyer.user_id)))
    assert after == before
    assert [s["id"] for s in after[1]] == [first["subscription"]["id"]]
