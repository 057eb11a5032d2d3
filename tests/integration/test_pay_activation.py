"""The activation rules a capture applies (checkout-and-payments.md §6.2; subscriptions.md §3, §5, §6, §10).

Add-on periods, trials paid early, is_single switches, and add-ons cancelled before the invoice was paid.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.core.clock import ManualClock
from tests.contract import (
    API_BOOST,
    BASIC,
    EXTRA_SEATS_YEARLY,
    EXTRA_STORAGE,
    ONBOARDING,
    PRIORITY_SUPPORT,
    PRO,
    PROFESSIONAL,
    STARTER,
    TOKENS_100,
    UUID_PATTERN,
)
from tests.integration.buyers import (
    balance_of,
    checkout,
    events_about,
    german_buyer,
    invoice_of,
    paid,
    read,
    relogin,
)
from tests.integration.conftest import ADMIN, Api


class Shopper:
    """A new user with a German billing country who buys (with the sandbox) and pays through the API."""

    def __init__(self, api: Api, name: str) -> None:
        self.api = api
        self.buyer = german_buyer(api, name)

    @property
    def token(self) -> str:
        return self.buyer.token

    @property
    def user_id(self) -> str:
        return self.buyer.user_id

    def relogin(self) -> None:
        """After the clock moved past the access token's lifetime."""
        self.buyer = relogin(self.api, self.buyer)

    def checkout(self, **body: Any) -> dict[str, Any]:
        return checkout(self.api, self.token, {"payment_method_code": "sandbox", **body})

    def pay(self, invoice_id: str) -> dict[str, Any]:
        return paid(self.api, self.token, invoice_id)

    def subscription(self, subscription_id: str) -> dict[str, Any]:
        path = f"/api/v1/user/subscriptions/{subscription_id}"
        return read(self.api, path, self.token)["subscription"]  # type: ignore[no-any-return]

    def addon(self, addon_subscription_id: str) -> dict[str, Any]:
        path = f"/api/v1/user/addons/{addon_subscription_id}"
        return read(self.api, path, self.token)["addon_subscription"]  # type: ignore[no-any-return]

    def invoice(self, invoice_id: str) -> dict[str, Any]:
        return invoice_of(self.api, self.token, invoice_id)

    def balance(self) -> int:
        return balance_of(self.api, self.token)


# --- add-on periods (subscriptions.md §10) -------------------------------------------------------------------------


def test_add_ons_bought_with_the_plan_end_with_the_subscription(api: Api, manual_clock: ManualClock) -> None:
    manual_clock.set(datetime(2026, 1, 31, 10, 0, tzinfo=UTC))
    buyer = Shopper(api, "with-plan")
    bought = buyer.checkout(plan_id=BASIC, add_on_ids=[EXTRA_STORAGE])
    subscription_id = bought["subscription"]["id"]
    [addon] = bought["add_ons"]
    assert addon["subscription_id"] == subscription_id and addon["status"] == "PENDING"

    buyer.pay(bought["invoice"]["id"])

    sub = buyer.subscription(subscription_id)
    assert sub["expires_at"] == "2026-02-28T10:00:00Z"
    active = buyer.addon(addon["id"])
    assert active["status"] == "ACTIVE" and active["is_valid"] is True
    assert active["starts_at"] == "2026-01-31T10:00:00Z"
    assert active["expires_at"] == sub["expires_at"]
    [event] = events_about("addon.activated", "addon_subscription_id", addon["id"])
    assert event["data"] == {
        "addon_subscription_id": addon["id"],
        "addon_id": EXTRA_STORAGE,
        "addon_slug": "extra-storage-50gb",
        "user_id": buyer.user_id,
        "subscription_id": subscription_id,
        "starts_at": "2026-01-31T10:00:00Z",
        "expires_at": "2026-02-28T10:00:00Z",
    }
    assert [a["id"] for a in sub["add_ons"]] == [addon["id"]]


def test_an_independent_monthly_add_on_bought_alone_runs_one_month_from_payment(
    api: Api, manual_clock: ManualClock
) -> None:
    manual_clock.set(datetime(2026, 1, 29, 10, 0, tzinfo=UTC))
    buyer = Shopper(api, "alone")
    bought = buyer.checkout(add_on_ids=[EXTRA_STORAGE])
    [addon] = bought["add_ons"]
    assert addon["subscription_id"] is None
    assert bought["invoice"]["billing_reason"] == "PURCHASE" and bought["invoice"]["total_amount"] == "5.94"
    manual_clock.set(datetime(2026, 1, 31, 10, 0, tzinfo=UTC))
    buyer.relogin()

    buyer.pay(bought["invoice"]["id"])

    active = buyer.addon(addon["id"])
    assert active["status"] == "ACTIVE"
    assert active["starts_at"] == "2026-01-31T10:00:00Z"
    assert active["expires_at"] == "2026-02-28T10:00:00Z"
    assert active["subscription_id"] is None


def test_an_independent_yearly_add_on_runs_twelve_calendar_months(api: Api, manual_clock: ManualClock) -> None:
    manual_clock.set(datetime(2026, 5, 15, 9, 0, tzinfo=UTC))
    buyer = Shopper(api, "yearly")
    bought = buyer.checkout(add_on_ids=[EXTRA_SEATS_YEARLY])
    [addon] = bought["add_ons"]

    buyer.pay(bought["invoice"]["id"])

    active = buyer.addon(addon["id"])
    assert (active["status"], active["starts_at"], active["expires_at"]) == (
        "ACTIVE",
        "2026-05-15T09:00:00Z",
        "2027-05-15T09:00:00Z",
    )


def test_a_one_time_add_on_never_expires(api: Api, manual_clock: ManualClock) -> None:
    buyer = Shopper(api, "one-time")
    bought = buyer.checkout(add_on_ids=[ONBOARDING])
    [addon] = bought["add_ons"]

    buyer.pay(bought["invoice"]["id"])

    active = buyer.addon(addon["id"])
    assert active["status"] == "ACTIVE" and active["is_valid"] is True
    assert active["starts_at"] == "2026-05-01T09:00:00Z"
    assert active["expires_at"] is None
    [event] = events_about("addon.activated", "addon_subscription_id", addon["id"])
    assert event["data"]["expires_at"] is None


def test_a_one_time_add_on_bought_with_a_plan_never_expires_either(api: Api, manual_clock: ManualClock) -> None:
    buyer = Shopper(api, "one-time-plan")
    bought = buyer.checkout(plan_id=BASIC, add_on_ids=[ONBOARDING, EXTRA_STORAGE])
    addons = {a["addon_id"]: a for a in bought["add_ons"]}

    buyer.pay(bought["invoice"]["id"])

    assert buyer.addon(addons[ONBOARDING]["id"])["expires_at"] is None
    assert buyer.addon(addons[EXTRA_STORAGE]["id"])["expires_at"] == "2026-06-01T09:00:00Z"


# --- trials (subscriptions.md §6) ----------------------------------------------------------------------------------


def test_a_trial_paid_early_keeps_its_trial_days(api: Api, manual_clock: ManualClock) -> None:
    buyer = Shopper(api, "trial")
    bought = buyer.checkout(plan_id=PRO, add_on_ids=[PRIORITY_SUPPORT])
    assert bought["trial_applied"] is True
    trialing = bought["subscription"]
    assert trialing["status"] == "TRIALING"
    assert trialing["trial_end_at"] == "2026-05-04T09:00:00Z"
    assert bought["invoice"]["due_date"] == "2026-05-04T09:00:00Z"
    [addon] = bought["add_ons"]
    assert addon["status"] == "TRIALING"
    manual_clock.set(datetime(2026, 5, 2, 15, 0, tzinfo=UTC))
    buyer.relogin()

    buyer.pay(bought["invoice"]["id"])

    sub = buyer.subscription(trialing["id"])
    assert sub["status"] == "ACTIVE" and sub["is_trialing"] is False
    assert sub["started_at"] == "2026-05-01T09:00:00Z"
    assert sub["trial_end_at"] == "2026-05-04T09:00:00Z"
    assert sub["current_period_start"] == "2026-05-04T09:00:00Z"
    assert sub["expires_at"] == "2026-06-04T09:00:00Z"
    assert buyer.balance() == 200  # pro's plan tokens, credited at payment
    active = buyer.addon(addon["id"])
    assert active["status"] == "ACTIVE"
    # starts_at is set on activation, unless the add-on already had one from its trial (kept then).
    assert active["starts_at"] == (addon["starts_at"] or "2026-05-02T15:00:00Z")
    assert active["expires_at"] == "2026-06-04T09:00:00Z"
    [activated] = events_about("subscription.activated", "subscription_id", trialing["id"])
    assert activated["data"]["started_at"] == "2026-05-01T09:00:00Z"
    assert activated["data"]["expires_at"] == "2026-06-04T09:00:00Z"
    assert activated["occurred_at"] == "2026-05-02T15:00:00Z"


def test_trial_plan_tokens_are_not_credited_before_payment(api: Api, manual_clock: ManualClock) -> None:
    buyer = Shopper(api, "trial-tokens")
    bought = buyer.checkout(plan_id=PRO)
    assert buyer.balance() == 0
    buyer.pay(bought["invoice"]["id"])
    ledger = api.get("/api/v1/user/tokens/transactions", token=buyer.token).json["transactions"]
    assert [(t["transaction_type"], t["amount"], t["description"]) for t in ledger] == [
        ("SUBSCRIPTION", 200, "Plan tokens: Pro")
    ]


# --- is_single (subscriptions.md §5.2) -----------------------------------------------------------------------------


def test_activating_a_plan_cancels_the_other_subscription_of_its_exclusive_category(
    api: Api, manual_clock: ManualClock
) -> None:
    buyer = Shopper(api, "switch")
    # Use up the one trial on a plan of the non-exclusive root category, so that the exclusive plans are
    # bought without trial (PENDING, which the is_single checkout rule does not count).
    trial = buyer.checkout(plan_id=PRO)["subscription"]
    assert trial["status"] == "TRIALING"
    professional = buyer.checkout(plan_id=PROFESSIONAL, add_on_ids=[API_BOOST])
    starter = buyer.checkout(plan_id=STARTER)
    assert professional["trial_applied"] is False and starter["trial_applied"] is False
    assert professional["subscription"]["status"] == starter["subscription"]["status"] == "PENDING"
    [boost] = professional["add_ons"]
    buyer.pay(professional["invoice"]["id"])
    assert buyer.subscription(professional["subscription"]["id"])["status"] == "ACTIVE"
    assert buyer.addon(boost["id"])["status"] == "ACTIVE"
    manual_clock.advance(timedelta(minutes=5))

    buyer.pay(starter["invoice"]["id"])

    assert buyer.subscription(starter["subscription"]["id"])["status"] == "ACTIVE"
    switched = buyer.subscription(professional["subscription"]["id"])
    assert switched["status"] == "CANCELLED"
    assert switched["cancel_reason"] == "is_single_switch"
    assert switched["cancelled_at"] == "2026-05-01T09:05:00Z"
    assert switched["is_valid"] is False
    cancelled_boost = buyer.addon(boost["id"])
    assert cancelled_boost["status"] == "CANCELLED" and cancelled_boost["cancelled_at"] == "2026-05-01T09:05:00Z"
    # A subscription outside the exclusive category is untouched.
    assert buyer.subscription(trial["id"])["status"] == "TRIALING"
    [event] = events_about("subscription.cancelled", "subscription_id", professional["subscription"]["id"])
    assert event["data"] == {
        "subscription_id": professional["subscription"]["id"],
        "user_id": buyer.user_id,
        "plan_id": PROFESSIONAL,
        "plan_slug": "professional",
        "plan_name": "Professional",
        "status": "CANCELLED",
        "reason": "is_single_switch",
    }
    [addon_event] = events_about("addon.cancelled", "addon_subscription_id", boost["id"])
    assert addon_event["data"]["reason"] == "is_single_switch"
    # Both paid periods' plan tokens stay credited (professional 100, starter 20; the pro trial is unpaid).
    assert buyer.balance() == 120


# --- an add-on cancelled before payment (subscriptions.md §12.2, checkout-and-payments.md §6.2) ---------------------


def test_an_add_on_cancelled_before_payment_is_refunded_with_a_credit_note(api: Api, manual_clock: ManualClock) -> None:
    buyer = Shopper(api, "cancelled-addon")
    bought = buyer.checkout(plan_id=BASIC, token_bundle_ids=[TOKENS_100], add_on_ids=[EXTRA_STORAGE])
    invoice_id = bought["invoice"]["id"]
    [addon] = bought["add_ons"]
    [addon_line] = [ln for ln in bought["invoice"]["line_items"] if ln["item_type"] == "ADD_ON"]
    assert addon_line["gross_amount"] == "5.94"
    assert bought["invoice"]["total_amount"] == "21.40"
    cancelled = api.post(f"/api/v1/user/addons/{addon['id']}/cancel", {}, token=buyer.token)
    assert cancelled.status == 200, cancelled.json
    assert cancelled.json["addon_subscription"]["status"] == "CANCELLED"
    assert buyer.invoice(invoice_id)["status"] == "PENDING"  # it still bills the plan and the bundle

    paid = buyer.pay(invoice_id)

    assert paid["invoice"]["status"] == "PAID"
    assert paid["invoice"]["amount_refunded"] == "5.94"
    assert buyer.addon(addon["id"])["status"] == "CANCELLED"
    assert buyer.subscription(bought["subscription"]["id"])["status"] == "ACTIVE"
    assert buyer.balance() == 150
    invoice = buyer.invoice(invoice_id)
    assert invoice["status"] == "PAID" and invoice["amount_refunded"] == "5.94" and invoice["total_amount"] == "21.40"
    [note] = invoice["credit_notes"]
    assert re.fullmatch(r"CN-2026-\d{6}", note["credit_note_number"])
    assert note["invoice_id"] == invoice_id and note["invoice_number"] == invoice["invoice_number"]
    assert note["user_id"] == buyer.user_id and note["currency"] == "EUR"
    assert (note["amount"], note["net_amount"], note["tax_amount"]) == ("5.94", "4.99", "0.95")
    assert note["full_refund"] is False
    assert note["reason"] == "add-on cancelled"
    assert note["provider"] == "sandbox"
    assert re.fullmatch(f"sandbox_refund_{UUID_PATTERN}", note["refund_reference"])
    assert paid["invoice"]["credit_notes"] == invoice["credit_notes"]
    [created] = events_about("credit_note.created", "invoice_id", invoice_id)
    assert created["data"] == {
        "credit_note_id": note["id"],
        "credit_note_number": note["credit_note_number"],
        "invoice_id": invoice_id,
        "user_id": buyer.user_id,
        "amount": "5.94",
        "currency": "EUR",
        "reason": "add-on cancelled",
    }
    [refunded] = events_about("payment.refunded", "invoice_id", invoice_id)
    assert refunded["data"] == {
        "invoice_id": invoice_id,
        "amount": "5.94",
        "currency": "EUR",
        "provider": "sandbox",
        "refund_reference": note["refund_reference"],
    }
    [invoice_refunded] = events_about("invoice.refunded", "invoice_id", invoice_id)
    assert invoice_refunded["data"] == {
        "invoice_id": invoice_id,
        "invoice_number": invoice["invoice_number"],
        "user_id": buyer.user_id,
        "amount": "5.94",
        "currency": "EUR",
        "refund_reference": note["refund_reference"],
        "credit_note_id": note["id"],
        "full": False,
    }
    assert events_about("addon.activated", "addon_subscription_id", addon["id"]) == []


def test_mark_paid_also_refunds_an_add_on_cancelled_before_payment(api: Api, manual_clock: ManualClock) -> None:
    buyer = Shopper(api, "cancelled-addon-manual")
    bought = buyer.checkout(plan_id=BASIC, add_on_ids=[EXTRA_STORAGE], payment_method_code="invoice")
    invoice_id = bought["invoice"]["id"]
    [addon] = bought["add_ons"]
    assert api.post(f"/api/v1/user/addons/{addon['id']}/cancel", {}, token=buyer.token).status == 200

    answer = api.post(f"/api/v1/admin/invoices/{invoice_id}/mark-paid", {}, token=api.token(*ADMIN))

    assert answer.status == 200, answer.json
    assert answer.json["items_activated"] == {
        "subscription": bought["subscription"]["id"],
        "token_bundles": [],
        "add_ons": [],
        "tokens_credited": 50,
        "bookings": [],
    }
    invoice = answer.json["invoice"]
    assert invoice["status"] == "PAID" and invoice["amount_refunded"] == "5.94"
    [note] = invoice["credit_notes"]
    assert (note["amount"], note["reason"], note["full_refund"], note["provider"]) == (
        "5.94",
        "add-on cancelled",
        False,
        "manual",
    )
    assert note["refund_reference"] is None  # settled outside the system: no provider call
    [refunded] = events_about("invoice.refunded", "invoice_id", invoice_id)
    assert (refunded["data"]["refund_reference"], refunded["data"]["credit_note_id"]) == (None, note["id"])
    assert buyer.invoice(invoice_id)["credit_notes"] == invoice["credit_notes"]
    assert buyer.addon(addon["id"])["status"] == "CANCELLED"


def test_cancelling_the_only_pending_add_on_voids_its_invoice(api: Api) -> None:
    buyer = Shopper(api, "void")
    bought = buyer.checkout(add_on_ids=[EXTRA_STORAGE])
    [addon] = bought["add_ons"]

    assert api.post(f"/api/v1/user/addons/{addon['id']}/cancel", {}, token=buyer.token).status == 200

    assert buyer.invoice(bought["invoice"]["id"])["status"] == "CANCELLED"
    [voided] = events_about("invoice.voided", "invoice_id", bought["invoice"]["id"])
    assert voided["data"]["reason"] == "items_cancelled"
