"""The user's subscription reads (contract subscriptions.md §1, §2.1–§2.3, §12.1; README §1.3, §1.6, §1.7).

GET /user/subscriptions (+ `status`), /user/subscriptions/active, /user/subscriptions/active-all and
/user/subscriptions/<id>. Shared seeded account: every test registers its own buyers and only reads the seeded ones.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta

from chalicelib.core import clock
from chalicelib.core.ids import seed_id
from chalicelib.subscriptions.models import SubscriptionItem
from tests.contract import ADDON_SUBSCRIPTION_FIELDS, INVALID_ID, SUBSCRIPTION_FIELDS, UNTOUCHED_LIFECYCLE
from tests.integration.buyers import (
    Buyer,
    assert_token_required,
    buy,
    paid,
    read,
    register_buyer,
    relogin,
    set_holding,
)

SUBSCRIPTIONS = "/api/v1/user/subscriptions"
ACTIVE = f"{SUBSCRIPTIONS}/active"
ACTIVE_ALL = f"{SUBSCRIPTIONS}/active-all"
SUBSCRIPTION_ID = seed_id("subscription", "test@example.com")
NOT_FOUND = {"error": "Subscription not found"}
ROOT = {"id": seed_id("category", "root"), "slug": "root", "name": "Root", "is_single": False}


def pay(api, buyer: Buyer, invoice_id: str) -> dict[str, Any]:
    answer = paid(api, buyer.token, invoice_id)
    assert answer["invoice"]["status"] == "PAID"
    return answer


def bought(api, buyer: Buyer, plan: str, addons: tuple[str, ...] = (), *, paid: bool = True) -> str:
    """Checkout (and pay) a plan; the new subscription's id."""
    answer = buy(api, buyer, plan, addons=addons)
    if paid:
        pay(api, buyer, answer["invoice"]["id"])
    return str(answer["subscription"]["id"])


def ids(subscriptions: list[dict[str, Any]]) -> list[str]:
    return [s["id"] for s in subscriptions]


def plan_summary(slug: str, name: str, price: float, period: str = "MONTHLY") -> dict[str, Any]:
    return {
        "id": seed_id("plan", slug),
        "name": name,
        "slug": slug,
        "price": price,
        "currency": "EUR",
        "billing_period": period,
        "categories": [ROOT],
    }


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- the seeded users ------------------------------------------------------------------------------------------


def test_the_seeded_test_user_has_one_active_test_data_basic_plan_subscription(api):
    test = Buyer("test@example.com", seed_id("user", "test@example.com"), api.token("test@example.com", "TestPass123@"))
    body = read(api, SUBSCRIPTIONS, test.token)
    assert set(body) == {"subscriptions", "total"}
    assert body["total"] == 1
    [sub] = body["subscriptions"]
    assert set(sub) == SUBSCRIPTION_FIELDS | {"plan", "pending_plan"}
    started = parse(sub["started_at"])
    assert sub["expires_at"] == (started + relativedelta(months=1)).isoformat().replace("+00:00", "Z")
    assert sub == {
        "id": seed_id("subscription", "test@example.com"),
        "user_id": test.user_id,
        "tarif_plan_id": seed_id("plan", "test-data-basic-plan"),
        "pending_plan_id": None,
        "status": "ACTIVE",
        "is_valid": True,
        "is_trialing": False,
        "days_remaining": sub["days_remaining"],
        "started_at": sub["started_at"],
        "current_period_start": sub["started_at"],
        "expires_at": sub["expires_at"],
        **UNTOUCHED_LIFECYCLE,
        "currency": "EUR",
        "payment_method_code": "invoice",
        "has_saved_payment_method": False,
        "pending_invoice_id": None,
        "provider_subscription_id": None,
        "created_at": sub["created_at"],
        "updated_at": sub["updated_at"],
        "plan": plan_summary("test-data-basic-plan", "TEST_DATA_Basic Plan", 9.99),
        "pending_plan": None,
    }
    assert sub["days_remaining"] in (27, 28, 29, 30)  # one calendar month from seed time, floored
    assert isinstance(sub["plan"]["price"], float)
    assert read(api, ACTIVE, test.token) == {"subscription": sub}
    assert read(api, ACTIVE_ALL, test.token) == {"subscriptions": [sub]}
    assert read(api, f"{SUBSCRIPTIONS}/{sub['id']}", test.token) == {"subscription": {**sub, "add_ons": []}}


def test_the_seeded_pro_user_has_a_saved_sandbox_method(api):
    pro = Buyer(
        "user.pro@demo.local", seed_id("user", "user.pro@demo.local"), api.token("user.pro@demo.local", "DemoPass123!")
    )
    sub = read(api, ACTIVE, pro.token)["subscription"]
    assert sub["id"] == seed_id("subscription", "user.pro@demo.local")
    assert sub["status"] == "ACTIVE"
    assert sub["payment_method_code"] == "sandbox"
    assert sub["has_saved_payment_method"] is True
    assert sub["plan"] == plan_summary("pro", "Pro", 29.99)


def test_a_user_without_subscriptions(api):
    test2 = Buyer(
        "test2@example.com", seed_id("user", "test2@example.com"), api.token("test2@example.com", "TestPass123@")
    )
    assert read(api, SUBSCRIPTIONS, test2.token) == {"subscriptions": [], "total": 0}
    assert read(api, f"{SUBSCRIPTIONS}?status=active", test2.token) == {"subscriptions": [], "total": 0}
    assert read(api, ACTIVE, test2.token) == {"subscription": None}
    assert read(api, ACTIVE_ALL, test2.token) == {"subscriptions": []}


# --- every field, exactly --------------------------------------------------------------------------------------


def test_a_paid_subscription_every_field(api, manual_clock):
    buyer = register_buyer(api, "subs")
    answer = buy(api, buyer, "basic")
    subscription_id, invoice_id = answer["subscription"]["id"], answer["invoice"]["id"]
    manual_clock.advance(timedelta(minutes=1))
    buyer = relogin(api, buyer)
    pay(api, buyer, invoice_id)
    expected = {
        "id": subscription_id,
        "user_id": buyer.user_id,
        "tarif_plan_id": seed_id("plan", "basic"),
        "pending_plan_id": None,
        "status": "ACTIVE",
        "is_valid": True,
        "is_trialing": False,
        "days_remaining": 31,
        "started_at": "2026-05-01T09:01:00Z",
        "current_period_start": "2026-05-01T09:01:00Z",
        "expires_at": "2026-06-01T09:01:00Z",
        **UNTOUCHED_LIFECYCLE,
        "currency": "EUR",
        "payment_method_code": "sandbox",
        "has_saved_payment_method": True,
        "pending_invoice_id": None,
        "provider_subscription_id": None,
        "created_at": "2026-05-01T09:00:00Z",
        "updated_at": "2026-05-01T09:01:00Z",
        "plan": plan_summary("basic", "Basic", 9.99),
        "pending_plan": None,
    }
    assert read(api, SUBSCRIPTIONS, buyer.token) == {"subscriptions": [expected], "total": 1}
    assert read(api, ACTIVE, buyer.token) == {"subscription": expected}
    assert read(api, ACTIVE_ALL, buyer.token) == {"subscriptions": [expected]}
    assert read(api, f"{SUBSCRIPTIONS}/{subscription_id}", buyer.token) == {"subscription": {**expected, "add_ons": []}}
    manual_clock.advance(timedelta(days=30, seconds=-1))  # 2026-05-31T09:00:59Z: 1 day and 1 second left
    buyer = relogin(api, buyer)
    assert read(api, ACTIVE, buyer.token)["subscription"]["days_remaining"] == 1
    manual_clock.advance(timedelta(minutes=1, seconds=1))  # 2026-05-31T09:02:00Z: 23 h 59 min left
    buyer = relogin(api, buyer)
    assert read(api, ACTIVE, buyer.token)["subscription"]["days_remaining"] == 0


def test_a_pending_subscription_is_not_valid_and_not_active(api):
    buyer = register_buyer(api, "subs")
    answer = buy(api, buyer, "basic")
    invoice_id = answer["invoice"]["id"]
    [sub] = read(api, SUBSCRIPTIONS, buyer.token)["subscriptions"]
    assert sub["id"] == answer["subscription"]["id"]
    assert sub["status"] == "PENDING"
    assert sub["is_valid"] is False
    assert sub["is_trialing"] is False
    assert sub["days_remaining"] is None
    assert sub["started_at"] is None
    assert sub["current_period_start"] is None
    assert sub["expires_at"] is None
    assert sub["pending_invoice_id"] == invoice_id
    assert sub["payment_method_code"] == "sandbox"
    assert sub["has_saved_payment_method"] is False
    assert read(api, ACTIVE, buyer.token) == {"subscription": None}
    assert read(api, ACTIVE_ALL, buyer.token) == {"subscriptions": []}
    pay(api, buyer, invoice_id)
    active = read(api, ACTIVE, buyer.token)["subscription"]
    assert active["id"] == sub["id"]
    assert active["status"] == "ACTIVE"
    assert active["is_valid"] is True
    assert active["pending_invoice_id"] is None


# --- list, order, filter ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def three(api) -> tuple[Buyer, dict[str, str]]:
    """A buyer with, oldest first: basic ACTIVE (with an add-on), pro TRIALING (with an add-on), quarterly PENDING."""
    buyer = register_buyer(api, "subs")
    subs = {
        "basic": bought(api, buyer, "basic", ("extra-storage-50gb",)),
        "pro": bought(api, buyer, "pro", ("priority-support",), paid=False),
        "quarterly": bought(api, buyer, "quarterly", paid=False),
    }
    return buyer, subs


def test_the_list_is_newest_first_with_its_total(api, three):
    buyer, subs = three
    body = read(api, SUBSCRIPTIONS, buyer.token)
    assert set(body) == {"subscriptions", "total"}
    assert ids(body["subscriptions"]) == [subs["quarterly"], subs["pro"], subs["basic"]]
    assert body["total"] == 3
    assert [s["status"] for s in body["subscriptions"]] == ["PENDING", "TRIALING", "ACTIVE"]
    created = [s["created_at"] for s in body["subscriptions"]]
    assert created == sorted(created, reverse=True)
    for sub in body["subscriptions"]:
        assert set(sub) == SUBSCRIPTION_FIELDS | {"plan", "pending_plan"}
        assert sub["user_id"] == buyer.user_id
        assert sub["pending_plan"] is None
    assert [s["plan"] for s in body["subscriptions"]] == [
        plan_summary("quarterly", "Quarterly", 27.99, "QUARTERLY"),
        plan_summary("pro", "Pro", 29.99),
        plan_summary("basic", "Basic", 9.99),
    ]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("ACTIVE", ["basic"]),
        ("active", ["basic"]),
        ("Trialing", ["pro"]),
        ("pending", ["quarterly"]),
        ("PENDING", ["quarterly"]),
        ("cancelled", []),
        ("EXPIRED", []),
        ("past_due", []),
        ("paused", []),
    ],
)
def test_the_status_filter_is_case_insensitive(api, three, status, expected):
    buyer, subs = three
    body = read(api, f"{SUBSCRIPTIONS}?status={status}", buyer.token)
    assert ids(body["subscriptions"]) == [subs[name] for name in expected]
    assert body["total"] == len(expected)
    assert all(s["status"] == status.upper() for s in body["subscriptions"])


@pytest.mark.parametrize("status", ["foo", "ACTIVATED", "active,pending", "1"])
def test_an_unknown_status_filter_is_400(api, three, status):
    buyer, _ = three
    answer = api.get(f"{SUBSCRIPTIONS}?status={status}", token=buyer.token)
    assert answer.status == 400
    assert answer.json == {"error": f"Invalid status: {status}"}
    assert answer.headers["content-type"].startswith("application/json")


def test_active_is_the_most_recent_valid_subscription(api, three):
    buyer, subs = three
    active = read(api, ACTIVE, buyer.token)
    assert set(active) == {"subscription"}
    assert active["subscription"]["id"] == subs["pro"]  # the PENDING quarterly one is newer but not valid
    assert active["subscription"]["status"] == "TRIALING"
    assert active["subscription"]["plan"] == plan_summary("pro", "Pro", 29.99)
    assert active["subscription"]["pending_plan"] is None
    assert "add_ons" not in active["subscription"]


def test_two_active_reads_answer_identical_json(api, three):
    buyer, _ = three
    first = api.get(ACTIVE, token=buyer.token)
    second = api.get(ACTIVE, token=buyer.token)
    assert first.status == second.status == 200
    assert first.body == second.body


def test_active_all_lists_every_valid_subscription_newest_first(api, three):
    buyer, subs = three
    body = read(api, ACTIVE_ALL, buyer.token)
    assert set(body) == {"subscriptions"}
    assert ids(body["subscriptions"]) == [subs["pro"], subs["basic"]]
    assert all(s["is_valid"] is True for s in body["subscriptions"])
    listed = {s["id"]: s for s in read(api, SUBSCRIPTIONS, buyer.token)["subscriptions"]}
    assert body["subscriptions"] == [listed[subs["pro"]], listed[subs["basic"]]]


# --- detail ----------------------------------------------------------------------------------------------------


def test_the_detail_carries_its_add_ons(api, three):
    buyer, subs = three
    body = read(api, f"{SUBSCRIPTIONS}/{subs['basic']}", buyer.token)
    assert set(body) == {"subscription"}
    sub = body["subscription"]
    assert set(sub) == SUBSCRIPTION_FIELDS | {"plan", "pending_plan", "add_ons"}
    assert sub["id"] == subs["basic"]
    assert sub["plan"] == plan_summary("basic", "Basic", 9.99)
    [addon] = sub["add_ons"]
    assert set(addon) == ADDON_SUBSCRIPTION_FIELDS
    assert addon["addon_id"] == seed_id("addon", "extra-storage-50gb")
    assert addon["subscription_id"] == subs["basic"]
    assert addon["user_id"] == buyer.user_id
    assert addon["status"] == "ACTIVE"
    assert addon["is_valid"] is True
    assert addon["expires_at"] == sub["expires_at"]  # co-terminous with its parent
    assert addon["cancel_at_period_end"] is False
    assert addon["cancelled_at"] is None
    listed = {s["id"]: s for s in read(api, SUBSCRIPTIONS, buyer.token)["subscriptions"]}
    assert {k: v for k, v in sub.items() if k != "add_ons"} == listed[subs["basic"]]


def test_the_detail_of_a_trialing_subscription_shows_its_trialing_add_on(api, three):
    buyer, subs = three
    sub = read(api, f"{SUBSCRIPTIONS}/{subs['pro']}", buyer.token)["subscription"]
    assert sub["status"] == "TRIALING"
    [addon] = sub["add_ons"]
    assert addon["addon_id"] == seed_id("addon", "priority-support")
    assert addon["status"] == "TRIALING"
    assert addon["subscription_id"] == subs["pro"]
    quarterly = read(api, f"{SUBSCRIPTIONS}/{subs['quarterly']}", buyer.token)["subscription"]
    assert quarterly["add_ons"] == []
    assert quarterly["plan"]["billing_period"] == "QUARTERLY"


def test_the_detail_accepts_an_upper_case_id(api, three):
    buyer, subs = three
    answer = api.get(f"{SUBSCRIPTIONS}/{subs['basic'].upper()}", token=buyer.token)
    assert answer.status == 200
    assert answer.json["subscription"]["id"] == subs["basic"]


def test_an_unknown_subscription_is_404(api, three):
    buyer, _ = three
    answer = api.get(f"{SUBSCRIPTIONS}/{uuid.uuid4()}", token=buyer.token)
    assert answer.status == 404
    assert answer.json == NOT_FOUND


def test_another_users_subscription_is_404(api, three):
    buyer, subs = three
    answer = api.get(f"{SUBSCRIPTIONS}/{seed_id('subscription', 'test@example.com')}", token=buyer.token)
    assert answer.status == 404
    assert answer.json == NOT_FOUND
    stranger = register_buyer(api, "subs")
    for subscription_id in subs.values():
        answer = api.get(f"{SUBSCRIPTIONS}/{subscription_id}", token=stranger.token)
        assert answer.status == 404
        assert answer.json == NOT_FOUND


@pytest.mark.parametrize(
    "bad", ["not-a-uuid", "12345", "0f8fad5b-d9cb-469f-a165-70867728950", "0f8fad5bd9cb469fa16570867728950e"]
)
def test_a_malformed_id_is_400(api, three, bad):
    buyer, _ = three
    answer = api.get(f"{SUBSCRIPTIONS}/{bad}", token=buyer.token)
    assert answer.status == 400
    assert answer.json == INVALID_ID


# --- trials and the clock --------------------------------------------------------------------------------------


def test_a_trial_counts_down_and_stops_being_valid_at_its_end(api, manual_clock):
    buyer = register_buyer(api, "subs")
    answer = buy(api, buyer, "pro")
    assert answer["trial_applied"] is True
    sub = read(api, ACTIVE, buyer.token)["subscription"]
    assert sub["id"] == answer["subscription"]["id"]
    assert sub["status"] == "TRIALING"
    assert sub["is_trialing"] is True
    assert sub["is_valid"] is True
    assert sub["days_remaining"] == 3
    assert sub["started_at"] == "2026-05-01T09:00:00Z"
    assert sub["trial_end_at"] == "2026-05-04T09:00:00Z"
    assert sub["expires_at"] == "2026-05-04T09:00:00Z"
    assert sub["current_period_start"] is None
    assert sub["pending_invoice_id"] == answer["invoice"]["id"]

    manual_clock.advance(timedelta(hours=12))  # 2 days 12 hours left
    buyer = relogin(api, buyer)
    sub = read(api, ACTIVE, buyer.token)["subscription"]
    assert (sub["status"], sub["is_trialing"], sub["is_valid"], sub["days_remaining"]) == ("TRIALING", True, True, 2)

    manual_clock.advance(timedelta(days=2, hours=11, minutes=59, seconds=59))  # one second left
    buyer = relogin(api, buyer)
    sub = read(api, ACTIVE, buyer.token)["subscription"]
    assert (sub["is_trialing"], sub["is_valid"], sub["days_remaining"]) == (True, True, 0)

    manual_clock.advance(timedelta(seconds=1))  # the trial's end: expires_at is no longer in the future
    buyer = relogin(api, buyer)
    assert read(api, ACTIVE, buyer.token) == {"subscription": None}
    assert read(api, ACTIVE_ALL, buyer.token) == {"subscriptions": []}
    [listed] = read(api, SUBSCRIPTIONS, buyer.token)["subscriptions"]
    assert (listed["is_valid"], listed["days_remaining"]) == (False, 0)


def test_a_trial_paid_early_keeps_its_trial_days(api, manual_clock):
    buyer = register_buyer(api, "subs")
    answer = buy(api, buyer, "pro")
    manual_clock.advance(timedelta(hours=12))
    buyer = relogin(api, buyer)
    pay(api, buyer, answer["invoice"]["id"])
    sub = read(api, ACTIVE, buyer.token)["subscription"]
    assert sub["status"] == "ACTIVE"
    assert sub["is_trialing"] is False
    assert sub["started_at"] == "2026-05-01T09:00:00Z"
    assert sub["trial_end_at"] == "2026-05-04T09:00:00Z"
    assert sub["current_period_start"] == "2026-05-04T09:00:00Z"
    assert sub["expires_at"] == "2026-06-04T09:00:00Z"
    assert sub["days_remaining"] == 33  # 2026-05-01T21:00Z → 2026-06-04T09:00Z is 33.5 days


def test_a_one_time_plan_never_expires(api):
    buyer = register_buyer(api, "subs")
    subscription_id = bought(api, buyer, "lifetime")
    sub = read(api, ACTIVE, buyer.token)["subscription"]
    assert sub["id"] == subscription_id
    assert (sub["status"], sub["is_valid"], sub["expires_at"], sub["days_remaining"]) == ("ACTIVE", True, None, None)
    assert sub["plan"] == {
        "id": seed_id("plan", "lifetime"),
        "name": "Lifetime",
        "slug": "lifetime",
        "price": 499.99,
        "currency": "EUR",
        "billing_period": "ONE_TIME",
        "categories": [],
    }


@pytest.mark.parametrize(
    ("status", "expires_in", "valid", "days"),
    [
        ("PAST_DUE", timedelta(days=3, hours=1), True, 3),
        ("PAST_DUE", timedelta(days=-2), True, 0),  # grace: access continues past expires_at
        ("PAUSED", timedelta(days=10, hours=1), False, 10),
        ("CANCELLED", timedelta(days=10, hours=1), False, 10),
        ("EXPIRED", timedelta(days=-1), False, 0),
        ("ACTIVE", timedelta(seconds=-1), False, 0),
        ("ACTIVE", timedelta(minutes=5), True, 0),
        ("TRIALING", timedelta(seconds=-1), False, 0),
    ],
)
def test_is_valid_by_status_and_expiry(api, status, expires_in, valid, days):
    buyer = register_buyer(api, "subs")
    subscription_id = bought(api, buyer, "basic")
    set_holding(SubscriptionItem, buyer.user_id, subscription_id, status=status, expires_at=clock.now() + expires_in)
    [sub] = read(api, SUBSCRIPTIONS, buyer.token)["subscriptions"]
    assert (sub["status"], sub["is_valid"], sub["days_remaining"]) == (status, valid, days)
    assert sub["is_trialing"] is (status == "TRIALING")
    assert read(api, ACTIVE, buyer.token) == {"subscription": sub if valid else None}
    assert read(api, ACTIVE_ALL, buyer.token) == {"subscriptions": [sub] if valid else []}
    assert ids(read(api, f"{SUBSCRIPTIONS}?status={status.lower()}", buyer.token)["subscriptions"]) == [subscription_id]


def test_active_skips_a_newer_subscription_that_lost_its_validity(api):
    buyer = register_buyer(api, "subs")
    older = bought(api, buyer, "basic")
    newer = bought(api, buyer, "quarterly")
    assert read(api, ACTIVE, buyer.token)["subscription"]["id"] == newer
    set_holding(SubscriptionItem, buyer.user_id, newer, status="PAUSED", paused_at=clock.now())
    assert read(api, ACTIVE, buyer.token)["subscription"]["id"] == older
    assert ids(read(api, ACTIVE_ALL, buyer.token)["subscriptions"]) == [older]
    paused = read(api, f"{SUBSCRIPTIONS}/{newer}", buyer.token)["subscription"]
    assert paused["paused_at"] is not None
    assert paused["is_valid"] is False


# --- authentication --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [SUBSCRIPTIONS, ACTIVE, ACTIVE_ALL, f"{SUBSCRIPTIONS}/{SUBSCRIPTION_ID}"])
def test_reads_need_a_token(api, path):
    assert_token_required(api, path)


def test_reads_are_not_cached(api, three):
    buyer, subs = three
    for path in (SUBSCRIPTIONS, ACTIVE, ACTIVE_ALL, f"{SUBSCRIPTIONS}/{subs['basic']}"):
        answer = api.get(path, token=buyer.token)
        assert answer.status == 200
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["content-type"].startswith("application/json")
