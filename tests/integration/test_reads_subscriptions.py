"""The user's subscription reads (contract subscriptions.md §1, §2.1–§2.3, §12.1; README §1.3, §1.6, §1.7).

GET /user/subscriptions (+ `status`), /user/subscriptions/active, /user/subscriptions/active-all and
/user/subscriptions/<id>. Shared seeded account: every test registers its own buyers and only reads the seeded ones.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta

from chalicelib.core import clock
from chalicelib.core.ids import seed_id
from chalicelib.store.transactions import Transaction
from chalicelib.subscriptions.models import SubscriptionItem

SUBSCRIPTIONS = "/api/v1/user/subscriptions"
ACTIVE = f"{SUBSCRIPTIONS}/active"
ACTIVE_ALL = f"{SUBSCRIPTIONS}/active-all"
SUBSCRIPTION_ID = seed_id("subscription", "test@example.com")
PASSWORD = "Abcdef1!"
NOT_FOUND = {"error": "Subscription not found"}
INVALID_ID = {"error": "Invalid id"}
ROOT = {"id": seed_id("category", "root"), "slug": "root", "name": "Root", "is_single": False}
SUBSCRIPTION_FIELDS = {
    "id",
    "user_id",
    "tarif_plan_id",
    "pending_plan_id",
    "status",
    "is_valid",
    "is_trialing",
    "days_remaining",
    "started_at",
    "current_period_start",
    "expires_at",
    "trial_end_at",
    "cancel_at_period_end",
    "cancelled_at",
    "cancel_reason",
    "paused_at",
    "payment_failed_at",
    "past_due_since",
    "next_retry_at",
    "dunning_attempts",
    "currency",
    "payment_method_code",
    "has_saved_payment_method",
    "pending_invoice_id",
    "provider_subscription_id",
    "created_at",
    "updated_at",
}
ADDON_SUBSCRIPTION_FIELDS = {
    "id",
    "user_id",
    "addon_id",
    "subscription_id",
    "invoice_id",
    "status",
    "is_valid",
    "starts_at",
    "expires_at",
    "cancel_at_period_end",
    "cancelled_at",
    "created_at",
    "updated_at",
}


@dataclass
class Buyer:
    email: str
    user_id: str
    token: str


def register(api) -> Buyer:
    email = f"subs-{uuid.uuid4().hex[:12]}@example.com"
    answer = api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD})
    assert answer.status == 200, answer.json
    return Buyer(email, answer.json["user_id"], answer.json["token"])


def relogin(api, buyer: Buyer) -> Buyer:
    """A fresh access token (after the manual clock moved past the old one's lifetime)."""
    return Buyer(buyer.email, buyer.user_id, api.token(buyer.email, PASSWORD))


def checkout(api, buyer: Buyer, plan: str | None = None, addons: tuple[str, ...] = ()) -> dict[str, Any]:
    body: dict[str, Any] = {"payment_method_code": "sandbox"}
    if plan is not None:
        body["plan_id"] = seed_id("plan", plan)
    if addons:
        body["add_on_ids"] = [seed_id("addon", slug) for slug in addons]
    answer = api.post("/api/v1/user/checkout", body, token=buyer.token)
    assert answer.status == 201, answer.json
    return answer.json  # type: ignore[no-any-return]


def pay(api, buyer: Buyer, invoice_id: str) -> dict[str, Any]:
    answer = api.post(f"/api/v1/user/invoices/{invoice_id}/pay", {}, token=buyer.token)
    assert answer.status == 200, answer.json
    assert answer.json["invoice"]["status"] == "PAID"
    return answer.json  # type: ignore[no-any-return]


def bought(api, buyer: Buyer, plan: str, addons: tuple[str, ...] = (), *, paid: bool = True) -> str:
    """Checkout (and pay) a plan; the new subscription's id."""
    answer = checkout(api, buyer, plan, addons)
    if paid:
        pay(api, buyer, answer["invoice"]["id"])
    return str(answer["subscription"]["id"])


def get(api, path: str, buyer: Buyer) -> Any:
    answer = api.get(path, token=buyer.token)
    assert answer.status == 200, answer.json
    return answer.json


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


def set_state(buyer: Buyer, subscription_id: str, **values: Any) -> None:
    """Put a subscription the test bought into a state the routes under test cannot reach (as the lifecycle job or
    an admin would leave it)."""
    item = SubscriptionItem.get(*SubscriptionItem.key(buyer.user_id, subscription_id), consistent_read=True)
    for name, value in values.items():
        setattr(item, name, value)
    Transaction().put(item).commit()


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- the seeded users ------------------------------------------------------------------------------------------


def test_the_seeded_test_user_has_one_active_test_data_basic_plan_subscription(api):
    test = Buyer("test@example.com", seed_id("user", "test@example.com"), api.token("test@example.com", "TestPass123@"))
    body = get(api, SUBSCRIPTIONS, test)
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
        "trial_end_at": None,
        "cancel_at_period_end": False,
        "cancelled_at": None,
        "cancel_reason": None,
        "paused_at": None,
        "payment_failed_at": None,
        "past_due_since": None,
        "next_retry_at": None,
        "dunning_attempts": 0,
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
    assert get(api, ACTIVE, test) == {"subscription": sub}
    assert get(api, ACTIVE_ALL, test) == {"subscriptions": [sub]}
    assert get(api, f"{SUBSCRIPTIONS}/{sub['id']}", test) == {"subscription": {**sub, "add_ons": []}}


def test_the_seeded_pro_user_has_a_saved_sandbox_method(api):
    pro = Buyer(
        "user.pro@demo.local", seed_id("user", "user.pro@demo.local"), api.token("user.pro@demo.local", "DemoPass123!")
    )
    sub = get(api, ACTIVE, pro)["subscription"]
    assert sub["id"] == seed_id("subscription", "user.pro@demo.local")
    assert sub["status"] == "ACTIVE"
    assert sub["payment_method_code"] == "sandbox"
    assert sub["has_saved_payment_method"] is True
    assert sub["plan"] == plan_summary("pro", "Pro", 29.99)


def test_a_user_without_subscriptions(api):
    test2 = Buyer(
        "test2@example.com", seed_id("user", "test2@example.com"), api.token("test2@example.com", "TestPass123@")
    )
    assert get(api, SUBSCRIPTIONS, test2) == {"subscriptions": [], "total": 0}
    assert get(api, f"{SUBSCRIPTIONS}?status=active", test2) == {"subscriptions": [], "total": 0}
    assert get(api, ACTIVE, test2) == {"subscription": None}
    assert get(api, ACTIVE_ALL, test2) == {"subscriptions": []}


# --- every field, exactly --------------------------------------------------------------------------------------


def test_a_paid_subscription_every_field(api, manual_clock):
    buyer = register(api)
    answer = checkout(api, buyer, "basic")
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
        "trial_end_at": None,
        "cancel_at_period_end": False,
        "cancelled_at": None,
        "cancel_reason": None,
        "paused_at": None,
        "payment_failed_at": None,
        "past_due_since": None,
        "next_retry_at": None,
        "dunning_attempts": 0,
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
    assert get(api, SUBSCRIPTIONS, buyer) == {"subscriptions": [expected], "total": 1}
    assert get(api, ACTIVE, buyer) == {"subscription": expected}
    assert get(api, ACTIVE_ALL, buyer) == {"subscriptions": [expected]}
    assert get(api, f"{SUBSCRIPTIONS}/{subscription_id}", buyer) == {"subscription": {**expected, "add_ons": []}}
    manual_clock.advance(timedelta(days=30, seconds=-1))  # 2026-05-31T09:00:59Z: 1 day and 1 second left
    buyer = relogin(api, buyer)
    assert get(api, ACTIVE, buyer)["subscription"]["days_remaining"] == 1
    manual_clock.advance(timedelta(minutes=1, seconds=1))  # 2026-05-31T09:02:00Z: 23 h 59 min left
    buyer = relogin(api, buyer)
    assert get(api, ACTIVE, buyer)["subscription"]["days_remaining"] == 0


def test_a_pending_subscription_is_not_valid_and_not_active(api):
    buyer = register(api)
    answer = checkout(api, buyer, "basic")
    invoice_id = answer["invoice"]["id"]
    [sub] = get(api, SUBSCRIPTIONS, buyer)["subscriptions"]
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
    assert get(api, ACTIVE, buyer) == {"subscription": None}
    assert get(api, ACTIVE_ALL, buyer) == {"subscriptions": []}
    pay(api, buyer, invoice_id)
    active = get(api, ACTIVE, buyer)["subscription"]
    assert active["id"] == sub["id"]
    assert active["status"] == "ACTIVE"
    assert active["is_valid"] is True
    assert active["pending_invoice_id"] is None


# --- list, order, filter ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def three(api) -> tuple[Buyer, dict[str, str]]:
    """A buyer with, oldest first: basic ACTIVE (with an add-on), pro TRIALING (with an add-on), quarterly PENDING."""
    buyer = register(api)
    subs = {
        "basic": bought(api, buyer, "basic", ("extra-storage-50gb",)),
        "pro": bought(api, buyer, "pro", ("priority-support",), paid=False),
        "quarterly": bought(api, buyer, "quarterly", paid=False),
    }
    return buyer, subs


def test_the_list_is_newest_first_with_its_total(api, three):
    buyer, subs = three
    body = get(api, SUBSCRIPTIONS, buyer)
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
    body = get(api, f"{SUBSCRIPTIONS}?status={status}", buyer)
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
    active = get(api, ACTIVE, buyer)
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
    body = get(api, ACTIVE_ALL, buyer)
    assert set(body) == {"subscriptions"}
    assert ids(body["subscriptions"]) == [subs["pro"], subs["basic"]]
    assert all(s["is_valid"] is True for s in body["subscriptions"])
    listed = {s["id"]: s for s in get(api, SUBSCRIPTIONS, buyer)["subscriptions"]}
    assert body["subscriptions"] == [listed[subs["pro"]], listed[subs["basic"]]]


# --- detail ----------------------------------------------------------------------------------------------------


def test_the_detail_carries_its_add_ons(api, three):
    buyer, subs = three
    body = get(api, f"{SUBSCRIPTIONS}/{subs['basic']}", buyer)
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
    listed = {s["id"]: s for s in get(api, SUBSCRIPTIONS, buyer)["subscriptions"]}
    assert {k: v for k, v in sub.items() if k != "add_ons"} == listed[subs["basic"]]


def test_the_detail_of_a_trialing_subscription_shows_its_trialing_add_on(api, three):
    buyer, subs = three
    sub = get(api, f"{SUBSCRIPTIONS}/{subs['pro']}", buyer)["subscription"]
    assert sub["status"] == "TRIALING"
    [addon] = sub["add_ons"]
    assert addon["addon_id"] == seed_id("addon", "priority-support")
    assert addon["status"] == "TRIALING"
    assert addon["subscription_id"] == subs["pro"]
    quarterly = get(api, f"{SUBSCRIPTIONS}/{subs['quarterly']}", buyer)["subscription"]
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
    stranger = register(api)
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
    buyer = register(api)
    answer = checkout(api, buyer, "pro")
    assert answer["trial_applied"] is True
    sub = get(api, ACTIVE, buyer)["subscription"]
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
    sub = get(api, ACTIVE, buyer)["subscription"]
    assert (sub["status"], sub["is_trialing"], sub["is_valid"], sub["days_remaining"]) == ("TRIALING", True, True, 2)

    manual_clock.advance(timedelta(days=2, hours=11, minutes=59, seconds=59))  # one second left
    buyer = relogin(api, buyer)
    sub = get(api, ACTIVE, buyer)["subscription"]
    assert (sub["is_trialing"], sub["is_valid"], sub["days_remaining"]) == (True, True, 0)

    manual_clock.advance(timedelta(seconds=1))  # the trial's end: expires_at is no longer in the future
    buyer = relogin(api, buyer)
    assert get(api, ACTIVE, buyer) == {"subscription": None}
    assert get(api, ACTIVE_ALL, buyer) == {"subscriptions": []}
    [listed] = get(api, SUBSCRIPTIONS, buyer)["subscriptions"]
    assert (listed["is_valid"], listed["days_remaining"]) == (False, 0)


def test_a_trial_paid_early_keeps_its_trial_days(api, manual_clock):
    buyer = register(api)
    answer = checkout(api, buyer, "pro")
    manual_clock.advance(timedelta(hours=12))
    buyer = relogin(api, buyer)
    pay(api, buyer, answer["invoice"]["id"])
    sub = get(api, ACTIVE, buyer)["subscription"]
    assert sub["status"] == "ACTIVE"
    assert sub["is_trialing"] is False
    assert sub["started_at"] == "2026-05-01T09:00:00Z"
    assert sub["trial_end_at"] == "2026-05-04T09:00:00Z"
    assert sub["current_period_start"] == "2026-05-04T09:00:00Z"
    assert sub["expires_at"] == "2026-06-04T09:00:00Z"
    assert sub["days_remaining"] == 33  # 2026-05-01T21:00Z → 2026-06-04T09:00Z is 33.5 days


def test_a_one_time_plan_never_expires(api):
    buyer = register(api)
    subscription_id = bought(api, buyer, "lifetime")
    sub = get(api, ACTIVE, buyer)["subscription"]
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
    buyer = register(api)
    subscription_id = bought(api, buyer, "basic")
    set_state(buyer, subscription_id, status=status, expires_at=clock.now() + expires_in)
    [sub] = get(api, SUBSCRIPTIONS, buyer)["subscriptions"]
    assert (sub["status"], sub["is_valid"], sub["days_remaining"]) == (status, valid, days)
    assert sub["is_trialing"] is (status == "TRIALING")
    assert get(api, ACTIVE, buyer) == {"subscription": sub if valid else None}
    assert get(api, ACTIVE_ALL, buyer) == {"subscriptions": [sub] if valid else []}
    assert ids(get(api, f"{SUBSCRIPTIONS}?status={status.lower()}", buyer)["subscriptions"]) == [subscription_id]


def test_active_skips_a_newer_subscription_that_lost_its_validity(api):
    buyer = register(api)
    older = bought(api, buyer, "basic")
    newer = bought(api, buyer, "quarterly")
    assert get(api, ACTIVE, buyer)["subscription"]["id"] == newer
    set_state(buyer, newer, status="PAUSED", paused_at=clock.now())
    assert get(api, ACTIVE, buyer)["subscription"]["id"] == older
    assert ids(get(api, ACTIVE_ALL, buyer)["subscriptions"]) == [older]
    paused = get(api, f"{SUBSCRIPTIONS}/{newer}", buyer)["subscription"]
    assert paused["paused_at"] is not None
    assert paused["is_valid"] is False


# --- authentication --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [SUBSCRIPTIONS, ACTIVE, ACTIVE_ALL, f"{SUBSCRIPTIONS}/{SUBSCRIPTION_ID}"])
def test_reads_need_a_token(api, path):
    answer = api.get(path)
    assert answer.status == 401
    assert answer.json == {"error": "Authorization header is required"}
    answer = api.get(path, token="not-a-jwt")
    assert answer.status == 401
    assert answer.json == {"error": "Invalid or expired token"}


def test_reads_are_not_cached(api, three):
    buyer, subs = three
    for path in (SUBSCRIPTIONS, ACTIVE, ACTIVE_ALL, f"{SUBSCRIPTIONS}/{subs['basic']}"):
        answer = api.get(path, token=buyer.token)
        assert answer.status == 200
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["content-type"].startswith("application/json")
