"""The user's add-on subscriptions: reads and cancel (contract subscriptions.md §2.3–§2.4, §10, §12.2;
checkout-and-payments.md §4.2, §6.2; events.md §2).

Shared seeded account: every test registers its own buyers and only reads the seeded ones.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.core import clock
from chalicelib.core.ids import seed_id
from chalicelib.subscriptions.models import AddonSubscriptionItem, SubscriptionItem
from tests.contract import ACCESS_DENIED, ADDON_SUBSCRIPTION_FIELDS, INVALID_ID, NO_CREDENTIAL
from tests.integration.buyers import (
    Buyer,
    buy,
    events_about,
    invoice_of,
    paid,
    read,
    register_buyer,
    relogin,
    set_holding,
)

ADDONS = "/api/v1/user/addons"
NOT_FOUND = {"error": "Add-on subscription not found"}
CANNOT_CANCEL = {"error": "Add-on subscription cannot be cancelled"}
CANCELLED_MESSAGE = "Add-on cancelled successfully"
SUMMARIES = {
    "extra-storage-50gb": {
        "name": "Extra Storage 50 GB",
        "slug": "extra-storage-50gb",
        "description": "50 GB more storage",
        "price": "4.99",
        "currency": "EUR",
        "billing_period": "MONTHLY",
    },
}


def detail(api, buyer: Buyer, addon_subscription_id: str) -> dict[str, Any]:
    body = read(api, f"{ADDONS}/{addon_subscription_id}", buyer.token)
    assert set(body) == {"addon_subscription"}
    return body["addon_subscription"]  # type: ignore[no-any-return]


def cancel(api, buyer: Buyer, addon_subscription_id: str) -> Any:
    return api.post(f"{ADDONS}/{addon_subscription_id}/cancel", token=buyer.token)


def cancelled(api, buyer: Buyer, addon_subscription_id: str) -> dict[str, Any]:
    answer = cancel(api, buyer, addon_subscription_id)
    assert answer.status == 200, answer.json
    assert set(answer.json) == {"addon_subscription", "message"}
    assert answer.json["message"] == CANCELLED_MESSAGE
    return answer.json["addon_subscription"]  # type: ignore[no-any-return]


def summary(slug: str) -> dict[str, Any]:
    return SUMMARIES[slug]


# --- reads -----------------------------------------------------------------------------------------------------


def test_a_user_without_add_ons(api):
    token = api.token("test2@example.com", "TestPass123@")
    answer = api.get(ADDONS, token=token)
    assert answer.status == 200
    assert answer.json == {"addon_subscriptions": []}
    assert api.get(ADDONS, token=api.token("test@example.com", "TestPass123@")).json == {"addon_subscriptions": []}


def test_an_independent_add_on_every_field_and_its_scheduled_cancel(api, manual_clock):
    buyer = register_buyer(api, "addon")
    answer = buy(api, buyer, addons=("extra-storage-50gb",))
    [pending] = answer["add_ons"]
    invoice_id, number = answer["invoice"]["id"], answer["invoice"]["invoice_number"]
    addon_id = seed_id("addon", "extra-storage-50gb")
    base = {
        "id": pending["id"],
        "user_id": buyer.user_id,
        "addon_id": addon_id,
        "subscription_id": None,
        "invoice_id": invoice_id,
        "status": "PENDING",
        "is_valid": False,
        "starts_at": None,
        "expires_at": None,
        "cancel_at_period_end": False,
        "cancelled_at": None,
        "created_at": "2026-05-01T09:00:00Z",
        "updated_at": "2026-05-01T09:00:00Z",
        "addon": summary("extra-storage-50gb"),
    }
    invoice_summary = {
        "id": invoice_id,
        "invoice_number": number,
        "status": "PENDING",
        "amount": "4.99",
        "currency": "EUR",
    }
    assert detail(api, buyer, pending["id"]) == {**base, "invoice": invoice_summary}
    assert read(api, ADDONS, buyer.token) == {"addon_subscriptions": [base]}

    manual_clock.advance(timedelta(minutes=1))
    buyer = relogin(api, buyer)
    paid(api, buyer.token, invoice_id)
    active = {
        **base,
        "status": "ACTIVE",
        "is_valid": True,
        "starts_at": "2026-05-01T09:01:00Z",
        "expires_at": "2026-06-01T09:01:00Z",  # independent and recurring: its own period
        "updated_at": "2026-05-01T09:01:00Z",
    }
    assert detail(api, buyer, pending["id"]) == {**active, "invoice": {**invoice_summary, "status": "PAID"}}
    assert read(api, ADDONS, buyer.token) == {"addon_subscriptions": [active]}

    manual_clock.advance(timedelta(minutes=1))
    buyer = relogin(api, buyer)
    scheduled = {**active, "cancel_at_period_end": True, "cancelled_at": "2026-05-01T09:02:00Z"}
    scheduled["updated_at"] = "2026-05-01T09:02:00Z"
    assert cancelled(api, buyer, pending["id"]) == scheduled
    assert detail(api, buyer, pending["id"]) == {**scheduled, "invoice": {**invoice_summary, "status": "PAID"}}
    assert scheduled["status"] == "ACTIVE"
    assert scheduled["is_valid"] is True  # access continues until expires_at

    [event] = events_about("addon.cancellation_scheduled", "addon_subscription_id", pending["id"])
    assert event["source"] == "vbwd.subscriptions"
    assert event["actor"] == {"type": "user", "id": buyer.user_id}
    assert event["occurred_at"] == "2026-05-01T09:02:00Z"
    assert event["data"] == {
        "addon_subscription_id": pending["id"],
        "addon_id": addon_id,
        "addon_slug": "extra-storage-50gb",
        "user_id": buyer.user_id,
        "subscription_id": None,
        "starts_at": "2026-05-01T09:01:00Z",
        "expires_at": "2026-06-01T09:01:00Z",
    }
    assert events_about("addon.cancelled", "addon_subscription_id", pending["id"]) == []

    again = cancel(api, buyer, pending["id"])
    assert again.status == 400
    assert again.json == CANNOT_CANCEL
    assert len(events_about("addon.cancellation_scheduled", "addon_subscription_id", pending["id"])) == 1


@pytest.fixture(scope="module")
def holder(api) -> tuple[Buyer, dict[str, Any]]:
    """A buyer with, oldest first: basic + extra storage (paid), dedicated onboarding (pending)."""
    buyer = register_buyer(api, "addon")
    first = buy(api, buyer, addons=("extra-storage-50gb",), plan="basic")
    paid(api, buyer.token, first["invoice"]["id"])
    second = buy(api, buyer, addons=("dedicated-onboarding",))
    return buyer, {
        "subscription": first["subscription"]["id"],
        "storage": first["add_ons"][0]["id"],
        "storage_invoice": first["invoice"],
        "onboarding": second["add_ons"][0]["id"],
        "onboarding_invoice": second["invoice"],
    }


def test_the_list_is_newest_first_with_add_on_summaries(api, holder):
    buyer, held = holder
    body = read(api, ADDONS, buyer.token)
    assert set(body) == {"addon_subscriptions"}
    onboarding, storage = body["addon_subscriptions"]
    assert [onboarding["id"], storage["id"]] == [held["onboarding"], held["storage"]]
    for item in (onboarding, storage):
        assert set(item) == ADDON_SUBSCRIPTION_FIELDS | {"addon"}
        assert item["user_id"] == buyer.user_id
    assert onboarding["addon"] == {
        "name": "Dedicated Onboarding",
        "slug": "dedicated-onboarding",
        "description": onboarding["addon"]["description"],
        "price": "199.00",
        "currency": "EUR",
        "billing_period": "ONE_TIME",
    }
    assert storage["addon"] == summary("extra-storage-50gb")
    assert (onboarding["status"], onboarding["is_valid"], onboarding["subscription_id"]) == ("PENDING", False, None)
    assert (storage["status"], storage["is_valid"], storage["subscription_id"]) == (
        "ACTIVE",
        True,
        held["subscription"],
    )
    parent = read(api, f"/api/v1/user/subscriptions/{held['subscription']}", buyer.token)["subscription"]
    assert storage["expires_at"] == parent["expires_at"]  # linked: co-terminous with the parent


def test_the_detail_carries_its_invoice(api, holder):
    buyer, held = holder
    storage = detail(api, buyer, held["storage"])
    assert set(storage) == ADDON_SUBSCRIPTION_FIELDS | {"addon", "invoice"}
    paid = held["storage_invoice"]
    assert storage["invoice"] == {
        "id": paid["id"],
        "invoice_number": paid["invoice_number"],
        "status": "PAID",
        "amount": "14.98",
        "currency": "EUR",
    }
    listed = {a["id"]: a for a in read(api, ADDONS, buyer.token)["addon_subscriptions"]}
    assert {k: v for k, v in storage.items() if k != "invoice"} == listed[held["storage"]]
    onboarding = detail(api, buyer, held["onboarding"])
    assert onboarding["invoice"] == {
        "id": held["onboarding_invoice"]["id"],
        "invoice_number": held["onboarding_invoice"]["invoice_number"],
        "status": "PENDING",
        "amount": "199.00",
        "currency": "EUR",
    }


def test_another_users_add_on_is_403(api, holder):
    _, held = holder
    stranger = register_buyer(api, "addon")
    for addon_subscription_id in (held["storage"], held["onboarding"]):
        for answer in (
            api.get(f"{ADDONS}/{addon_subscription_id}", token=stranger.token),
            cancel(api, stranger, addon_subscription_id),
        ):
            assert answer.status == 403
            assert answer.json == ACCESS_DENIED
    assert read(api, ADDONS, stranger.token) == {"addon_subscriptions": []}


def test_an_unknown_add_on_is_404(api, holder):
    buyer, _ = holder
    unknown = uuid.uuid4()
    for answer in (api.get(f"{ADDONS}/{unknown}", token=buyer.token), cancel(api, buyer, str(unknown))):
        assert answer.status == 404
        assert answer.json == NOT_FOUND


@pytest.mark.parametrize("bad", ["not-a-uuid", "42", "0f8fad5b-d9cb-469f-a165-70867728950g"])
def test_a_malformed_id_is_400(api, holder, bad):
    buyer, _ = holder
    for answer in (api.get(f"{ADDONS}/{bad}", token=buyer.token), cancel(api, buyer, bad)):
        assert answer.status == 400
        assert answer.json == INVALID_ID


UNKNOWN = "5f0c1d2e-0000-4000-8000-000000000001"  # fixed: xdist needs the same test ids on every worker


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", ADDONS), ("GET", f"{ADDONS}/{UNKNOWN}"), ("POST", f"{ADDONS}/{UNKNOWN}/cancel")],
)
def test_add_on_routes_need_a_token(api, method, path):
    answer = api.request(method, path)
    assert answer.status == 401
    assert answer.json == NO_CREDENTIAL


# --- cancel (§12.2) --------------------------------------------------------------------------------------------


def test_cancelling_a_linked_recurring_add_on_schedules_it(api):
    buyer = register_buyer(api, "addon")
    answer = buy(api, buyer, addons=("extra-storage-50gb",), plan="basic")
    paid(api, buyer.token, answer["invoice"]["id"])
    addon_sub_id = answer["add_ons"][0]["id"]
    result = cancelled(api, buyer, addon_sub_id)
    assert (result["status"], result["cancel_at_period_end"], result["is_valid"]) == ("ACTIVE", True, True)
    assert result["cancelled_at"] is not None
    assert result["cancelled_at"] == result["updated_at"]
    assert result["subscription_id"] == answer["subscription"]["id"]
    assert result["addon"] == summary("extra-storage-50gb")
    [event] = events_about("addon.cancellation_scheduled", "addon_subscription_id", addon_sub_id)
    assert event["data"]["subscription_id"] == answer["subscription"]["id"]
    assert event["data"]["expires_at"] == result["expires_at"]
    # the parent is untouched
    parent = read(api, f"/api/v1/user/subscriptions/{answer['subscription']['id']}", buyer.token)["subscription"]
    assert (parent["status"], parent["cancel_at_period_end"]) == ("ACTIVE", False)
    assert parent["add_ons"][0]["cancel_at_period_end"] is True
    assert cancel(api, buyer, addon_sub_id).json == CANNOT_CANCEL


def test_cancelling_an_active_one_time_add_on_ends_it_now(api):
    buyer = register_buyer(api, "addon")
    answer = buy(api, buyer, addons=("dedicated-onboarding",))
    paid(api, buyer.token, answer["invoice"]["id"])
    addon_sub_id = answer["add_ons"][0]["id"]
    before = detail(api, buyer, addon_sub_id)
    assert (before["status"], before["expires_at"], before["is_valid"]) == ("ACTIVE", None, True)
    result = cancelled(api, buyer, addon_sub_id)
    assert result["status"] == "CANCELLED"
    assert result["is_valid"] is False
    assert result["cancel_at_period_end"] is False
    assert result["cancelled_at"] is not None
    assert result["starts_at"] == before["starts_at"]
    assert detail(api, buyer, addon_sub_id)["invoice"]["status"] == "PAID"  # a paid invoice is never voided
    [event] = events_about("addon.cancelled", "addon_subscription_id", addon_sub_id)
    assert event["source"] == "vbwd.subscriptions"
    assert event["actor"] == {"type": "user", "id": buyer.user_id}
    assert event["data"] == {
        "addon_subscription_id": addon_sub_id,
        "addon_id": seed_id("addon", "dedicated-onboarding"),
        "addon_slug": "dedicated-onboarding",
        "user_id": buyer.user_id,
        "subscription_id": None,
        "starts_at": before["starts_at"],
        "expires_at": None,
        "reason": "user",
    }
    assert events_about("addon.cancellation_scheduled", "addon_subscription_id", addon_sub_id) == []
    again = cancel(api, buyer, addon_sub_id)
    assert again.status == 400
    assert again.json == CANNOT_CANCEL


def test_cancelling_a_pending_add_on_voids_an_invoice_that_bills_nothing_else(api):
    buyer = register_buyer(api, "addon")
    answer = buy(api, buyer, addons=("extra-storage-50gb",))
    addon_sub_id, invoice_id = answer["add_ons"][0]["id"], answer["invoice"]["id"]
    result = cancelled(api, buyer, addon_sub_id)
    assert (result["status"], result["cancel_at_period_end"], result["is_valid"]) == ("CANCELLED", False, False)
    assert result["cancelled_at"] is not None
    voided = invoice_of(api, buyer.token, invoice_id)
    assert (voided["status"], voided["is_payable"]) == ("CANCELLED", False)
    assert detail(api, buyer, addon_sub_id)["invoice"]["status"] == "CANCELLED"
    [event] = events_about("invoice.voided", "invoice_id", invoice_id)
    assert event["source"] == "vbwd.billing"
    assert event["data"] == {
        "invoice_id": invoice_id,
        "invoice_number": answer["invoice"]["invoice_number"],
        "user_id": buyer.user_id,
        "reason": "items_cancelled",
    }
    [cancelled_event] = events_about("addon.cancelled", "addon_subscription_id", addon_sub_id)
    assert cancelled_event["data"]["reason"] == "user"
    assert cancelled_event["data"]["starts_at"] is None
    pay_again = api.post(f"/api/v1/user/invoices/{invoice_id}/pay", {}, token=buyer.token)
    assert pay_again.status == 400
    assert pay_again.json == {"error": "Invoice is CANCELLED, expected PENDING"}
    assert cancel(api, buyer, addon_sub_id).json == CANNOT_CANCEL


def test_cancelling_a_pending_add_on_keeps_an_invoice_that_bills_other_lines(api):
    buyer = register_buyer(api, "addon")
    answer = buy(api, buyer, addons=("extra-storage-50gb",), bundles=("100 Tokens",))
    addon_sub_id, invoice_id = answer["add_ons"][0]["id"], answer["invoice"]["id"]
    assert cancelled(api, buyer, addon_sub_id)["status"] == "CANCELLED"
    still = invoice_of(api, buyer.token, invoice_id)
    assert (still["status"], still["is_payable"], still["total_amount"]) == ("PENDING", True, "7.99")
    assert events_about("invoice.voided", "invoice_id", invoice_id) == []
    assert len(events_about("addon.cancelled", "addon_subscription_id", addon_sub_id)) == 1
    # paid later: the bundle is delivered, the cancelled add-on stays cancelled and its line is refunded
    settled = paid(api, buyer.token, invoice_id)["invoice"]
    assert settled["status"] == "PAID"
    assert detail(api, buyer, addon_sub_id)["status"] == "CANCELLED"
    assert read(api, "/api/v1/user/tokens/balance", buyer.token) == {"balance": 100}
    refunded = invoice_of(api, buyer.token, invoice_id)
    assert refunded["amount_refunded"] == "4.99"
    [note] = refunded["credit_notes"]
    assert (note["amount"], note["reason"], note["full_refund"]) == ("4.99", "add-on cancelled", False)


def test_cancelling_a_pending_add_on_beside_a_plan_keeps_the_invoice(api):
    buyer = register_buyer(api, "addon")
    answer = buy(api, buyer, addons=("extra-storage-50gb",), plan="basic")
    addon_sub_id, invoice_id = answer["add_ons"][0]["id"], answer["invoice"]["id"]
    result = cancelled(api, buyer, addon_sub_id)
    assert (result["status"], result["subscription_id"]) == ("CANCELLED", answer["subscription"]["id"])
    assert invoice_of(api, buyer.token, invoice_id)["status"] == "PENDING"
    sub = read(api, f"/api/v1/user/subscriptions/{answer['subscription']['id']}", buyer.token)["subscription"]
    assert sub["status"] == "PENDING"
    assert [a["status"] for a in sub["add_ons"]] == ["CANCELLED"]


def test_the_invoice_is_voided_when_its_last_wanted_line_is_cancelled(api):
    buyer = register_buyer(api, "addon")
    answer = buy(api, buyer, addons=("extra-storage-50gb", "dedicated-onboarding"))
    storage, onboarding = (a["id"] for a in answer["add_ons"])
    invoice_id = answer["invoice"]["id"]
    cancelled(api, buyer, storage)
    assert invoice_of(api, buyer.token, invoice_id)["status"] == "PENDING"
    assert events_about("invoice.voided", "invoice_id", invoice_id) == []
    cancelled(api, buyer, onboarding)
    assert invoice_of(api, buyer.token, invoice_id)["status"] == "CANCELLED"
    [event] = events_about("invoice.voided", "invoice_id", invoice_id)
    assert event["data"]["reason"] == "items_cancelled"


def test_cancelling_a_trialing_add_on_ends_it_now(api):
    buyer = register_buyer(api, "addon")
    answer = buy(api, buyer, addons=("priority-support",), plan="pro")
    addon_sub_id, invoice_id = answer["add_ons"][0]["id"], answer["invoice"]["id"]
    assert detail(api, buyer, addon_sub_id)["status"] == "TRIALING"
    result = cancelled(api, buyer, addon_sub_id)
    assert (result["status"], result["cancel_at_period_end"], result["is_valid"]) == ("CANCELLED", False, False)
    assert result["cancelled_at"] is not None
    assert invoice_of(api, buyer.token, invoice_id)["status"] == "PENDING"  # it still bills the trialing plan
    sub = read(api, "/api/v1/user/subscriptions/active", buyer.token)["subscription"]
    assert (sub["id"], sub["status"]) == (answer["subscription"]["id"], "TRIALING")
    assert len(events_about("addon.cancelled", "addon_subscription_id", addon_sub_id)) == 1
    assert cancel(api, buyer, addon_sub_id).json == CANNOT_CANCEL


# --- is_valid (§2.3) -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("addon_status", "parent_status", "expires_in", "valid"),
    [
        ("PAST_DUE", "PAST_DUE", timedelta(days=5), True),
        ("PAST_DUE", "ACTIVE", timedelta(days=5), False),
        ("ACTIVE", "ACTIVE", timedelta(seconds=-1), False),
        ("TRIALING", "TRIALING", timedelta(days=2), True),
        ("PAUSED", "PAUSED", timedelta(days=5), False),
        ("EXPIRED", "EXPIRED", timedelta(days=-1), False),
    ],
)
def test_is_valid_by_status_parent_and_expiry(api, addon_status, parent_status, expires_in, valid):
    buyer = register_buyer(api, "addon")
    answer = buy(api, buyer, addons=("extra-storage-50gb",), plan="basic")
    paid(api, buyer.token, answer["invoice"]["id"])
    addon_sub_id, subscription_id = answer["add_ons"][0]["id"], answer["subscription"]["id"]
    set_holding(SubscriptionItem, buyer.user_id, subscription_id, status=parent_status)
    set_holding(
        AddonSubscriptionItem, buyer.user_id, addon_sub_id, status=addon_status, expires_at=clock.now() + expires_in
    )
    item = detail(api, buyer, addon_sub_id)
    assert (item["status"], item["is_valid"]) == (addon_status, valid)
    [listed] = read(api, ADDONS, buyer.token)["addon_subscriptions"]
    assert listed["is_valid"] is valid


@pytest.mark.parametrize("status", ["PAUSED", "PAST_DUE"])
def test_cancelling_a_paused_or_past_due_add_on_ends_it_now(api, status):
    buyer = register_buyer(api, "addon")
    answer = buy(api, buyer, addons=("extra-storage-50gb",), plan="basic")
    paid(api, buyer.token, answer["invoice"]["id"])
    addon_sub_id = answer["add_ons"][0]["id"]
    set_holding(SubscriptionItem, buyer.user_id, answer["subscription"]["id"], status=status)
    set_holding(AddonSubscriptionItem, buyer.user_id, addon_sub_id, status=status)
    result = cancelled(api, buyer, addon_sub_id)
    assert (result["status"], result["cancel_at_period_end"], result["is_valid"]) == ("CANCELLED", False, False)
    assert detail(api, buyer, addon_sub_id)["invoice"]["status"] == "PAID"
    assert len(events_about("addon.cancelled", "addon_subscription_id", addon_sub_id)) == 1


def test_an_expired_add_on_cannot_be_cancelled(api):
    buyer = register_buyer(api, "addon")
    answer = buy(api, buyer, addons=("extra-storage-50gb",))
    paid(api, buyer.token, answer["invoice"]["id"])
    addon_sub_id = answer["add_ons"][0]["id"]
    set_holding(AddonSubscriptionItem, buyer.user_id, addon_sub_id, status="EXPIRED")
    again = cancel(api, buyer, addon_sub_id)
    assert again.status == 400
    assert again.json == CANNOT_CANCEL
    assert detail(api, buyer, addon_sub_id)["status"] == "EXPIRED"
