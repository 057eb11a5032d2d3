"""Admin tariff plans (admin.md §4): list, create with every rule, detail, update, delete, states, copy, subscriber
count — and the catalog every instance reads sees each change on its next request."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.catalog.models import UniqueGuardItem
from chalicelib.core.clock import ManualClock
from chalicelib.core.ids import seed_id
from tests.integration.admin_catalog import (
    ADMIN_API,
    admin_token,
    delete,
    new_plan,
    observer_token,
    refusal,
    subscribe,
    unique,
)
from tests.integration.buyers import german_buyer
from tests.integration.conftest import Api

PLANS = f"{ADMIN_API}/tarif-plans"
BASIC = seed_id("plan", "basic")
ROOT = seed_id("category", "root")
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def token(api: Api) -> str:
    return admin_token(api)


@pytest.fixture(scope="module")
def customer(api: Api) -> str:
    return german_buyer(api, "nosy").token


@pytest.fixture(scope="module")
def observer(api: Api) -> str:
    return observer_token(api)


def test_a_created_plan_has_its_defaults_and_is_offered_at_once(api: Api, token: str) -> None:
    name = unique("Team Plan!")
    answer = api.post(f"{PLANS}/", {"name": name, "price": 12.5, "category_ids": [ROOT]}, token=token)

    assert answer.status == 201 and answer.json["message"] == "Plan created successfully"
    plan = answer.json["plan"]
    assert answer.json["plan_id"] == plan["id"]
    assert plan["slug"] == name.lower().replace(" ", "-").replace("!", "")
    assert (plan["price"]["price_decimal"], plan["currency"], plan["billing_period"]) == ("12.50", "EUR", "MONTHLY")
    assert (plan["features"], plan["trial_days"], plan["is_active"], plan["sort_order"]) == (
        {"default_tokens": 0},
        0,
        True,
        0,
    )
    assert [c["id"] for c in plan["categories"]] == [ROOT] and plan["subscriber_count"] == 0
    public = api.get(f"/api/v1/tarif-plans/{plan['slug']}")
    assert public.status == 200 and public.json["id"] == plan["id"]
    assert UniqueGuardItem.get(*UniqueGuardItem.key("PLAN_SLUG", plan["slug"])).owner_id == plan["id"]


def test_every_field_of_a_plan_can_be_given(api: Api, token: str) -> None:
    body = {
        "name": unique("Yearly"),
        "price": "99.90",
        "slug": unique("yearly").replace(" ", "-"),
        "description": "A year",
        "currency": "usd",
        "billing_period": "yearly",
        "features": ["api", "export"],
        "trial_days": 14,
        "is_active": False,
        "sort_order": 7,
    }
    plan = new_plan(api, token, **body)
    assert (plan["slug"], plan["description"], plan["currency"], plan["billing_period"]) == (
        body["slug"],
        "A year",
        "USD",
        "YEARLY",
    )
    assert (plan["features"], plan["trial_days"], plan["is_active"], plan["sort_order"]) == (
        ["api", "export"],
        14,
        False,
        7,
    )
    assert new_plan(api, token, features={"default_tokens": 50, "x": 1})["features"] == {"default_tokens": 50, "x": 1}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"price": 1}, "Name is required"),
        ({"name": "  ", "price": 1}, "Name is required"),
        ({"name": "x" * 101, "price": 1}, "Name must be at most 100 characters"),
        ({"name": "P"}, "Price is required"),
        ({"name": "P", "price": None}, "Price is required"),
        ({"name": "P", "price": "ten"}, "Invalid price"),
        ({"name": "P", "price": True}, "Invalid price"),
        ({"name": "P", "price": -1}, "Price cannot be negative"),
        ({"name": "P", "price": 1, "billing_period": "fortnightly"}, "Invalid billing period: fortnightly"),
        ({"name": "P", "price": 1, "currency": "xyz"}, "Unknown currency: XYZ"),
        ({"name": "P", "price": 1, "slug": "Not A Slug"}, "Invalid slug"),
        ({"name": "!!!", "price": 1}, "Invalid slug"),
        ({"name": "P", "price": 1, "slug": "basic"}, "Slug already exists"),
        ({"name": "P", "price": 1, "trial_days": -1}, "Trial days must be a non-negative integer"),
        ({"name": "P", "price": 1, "trial_days": "7"}, "Trial days must be a non-negative integer"),
        ({"name": "P", "price": 1, "features": "all"}, "Features must be an object or a list"),
        ({"name": "P", "price": 1, "category_ids": [MISSING]}, f"Category {MISSING} not found"),
        ({"name": "P", "price": 1, "category_ids": ["nope"]}, "Category nope not found"),
    ],
)
def test_a_plan_breaking_a_rule_is_refused(api: Api, token: str, body: dict[str, Any], message: str) -> None:
    assert refusal(api.post(f"{PLANS}/", body, token=token)) == (400, message)


def test_the_list_holds_archived_plans_unless_asked_not_to(api: Api, token: str) -> None:
    archived = new_plan(api, token, is_active=False)
    every = api.get(f"{PLANS}/", token=token).json
    active = api.get(f"{PLANS}/?include_archived=false", token=token).json

    assert archived["id"] in [p["id"] for p in every["plans"]] and every["total"] == len(every["plans"])
    assert archived["id"] not in [p["id"] for p in active["plans"]]
    assert all(p["is_active"] for p in active["plans"]) and active["total"] == len(active["plans"])
    assert api.get(f"{PLANS}?include_archived=true", token=token).json == every
    order = [(p["sort_order"], p["name"]) for p in every["plans"]]
    assert order == sorted(order)


def test_detail_and_its_404(api: Api, token: str) -> None:
    plan = new_plan(api, token)
    assert api.get(f"{PLANS}/{plan['id']}", token=token).json == {"plan": plan}
    assert refusal(api.get(f"{PLANS}/{MISSING}", token=token)) == (404, "Plan not found")
    assert refusal(api.get(f"{PLANS}/not-an-id", token=token)) == (400, "Invalid id")


def test_an_update_changes_the_fields_sent_and_moves_the_slug_guard(api: Api, token: str) -> None:
    plan = new_plan(api, token, description="old")
    new_slug = f"{plan['slug']}-renamed"
    answer = api.put(
        f"{PLANS}/{plan['id']}", {"slug": new_slug, "price": "11", "billing_period": "weekly"}, token=token
    )

    assert answer.status == 200
    changed = answer.json["plan"]
    assert (changed["slug"], changed["price"]["price_decimal"], changed["billing_period"]) == (
        new_slug,
        "11.00",
        "WEEKLY",
    )
    assert (changed["name"], changed["description"]) == (plan["name"], "old")
    assert UniqueGuardItem.get(*UniqueGuardItem.key("PLAN_SLUG", new_slug)).owner_id == plan["id"]
    assert UniqueGuardItem.count(f"UNIQUE#PLAN_SLUG#{plan['slug']}") == 0
    again = new_plan(api, token, slug=plan["slug"])  # the old slug is free again
    assert again["slug"] == plan["slug"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"name": ""}, 400, "Name is required"),
        ({"price": -3}, 400, "Price cannot be negative"),
        ({"billing_period": "sometimes"}, 400, "Invalid billing period: sometimes"),
        ({"currency": "ABC"}, 400, "Unknown currency: ABC"),
        ({"slug": "basic"}, 400, "Slug already exists"),
        ({"slug": "-x-"}, 400, "Invalid slug"),
        ({"trial_days": 1.5}, 400, "Trial days must be a non-negative integer"),
        ({"features": 3}, 400, "Features must be an object or a list"),
        ({"category_ids": [MISSING]}, 400, f"Category {MISSING} not found"),
    ],
)
def test_an_update_breaking_a_rule_is_refused(
    api: Api, token: str, body: dict[str, Any], status: int, message: str
) -> None:
    plan = new_plan(api, token)
    assert refusal(api.put(f"{PLANS}/{plan['id']}", body, token=token)) == (status, message)
    assert api.get(f"{PLANS}/{plan['id']}", token=token).json["plan"] == plan


def test_an_update_of_a_missing_plan_is_404(api: Api, token: str) -> None:
    assert refusal(api.put(f"{PLANS}/{MISSING}", {"name": "x"}, token=token)) == (404, "Plan not found")


def test_the_billing_period_of_a_plan_with_subscribers_stays(api: Api, token: str) -> None:
    plan = new_plan(api, token, trial_days=7)
    buyer = german_buyer(api, "period")
    subscribe(api, buyer.token, plan["id"])  # a trial: TRIALING at once

    answer = api.put(f"{PLANS}/{plan['id']}", {"billing_period": "YEARLY"}, token=token)
    assert refusal(answer) == (400, "Cannot change billing period of a plan with subscribers")
    same = api.put(f"{PLANS}/{plan['id']}", {"billing_period": "monthly", "name": "Renamed"}, token=token)
    assert same.status == 200 and same.json["plan"]["name"] == "Renamed"


def test_a_subscription_made_after_the_check_still_stops_a_period_change(
    api: Api, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The counter read before deciding may be stale (a checkout in between): the write's transaction checks it."""
    from chalicelib.subscriptions import repository

    plan = new_plan(api, token, trial_days=3)
    subscribe(api, german_buyer(api, "racing").token, plan["id"])
    monkeypatch.setattr(repository, "plan_subscribers", lambda plan_id: None)  # what a read before it saw

    answer = api.put(f"{PLANS}/{plan['id']}", {"billing_period": "YEARLY"}, token=token)
    assert refusal(answer) == (400, "Cannot change billing period of a plan with subscribers")
    monkeypatch.undo()
    assert api.get(f"{PLANS}/{plan['id']}", token=token).json["plan"]["billing_period"] == "MONTHLY"


def test_a_write_is_audited_with_its_target_and_fields(api: Api, token: str) -> None:
    from chalicelib.activity.models import ActivityItem

    plan = new_plan(api, token)
    api.put(f"{PLANS}/{plan['id']}", {"price": "3", "sort_order": 2}, token=token)

    [entry] = [e for e in ActivityItem.gsi1.query("SOURCE#admin") if e.subject_id == plan["id"]]
    assert (entry.type, entry.subject_type) == ("admin.update_plan", "plan")
    assert (entry.data["targets"], entry.data["fields"]) == ({"plan_id": plan["id"]}, ["price", "sort_order"])


def test_a_plan_without_subscriptions_is_deleted_with_its_guard(api: Api, token: str) -> None:
    plan = new_plan(api, token)
    answer = delete(api, f"{PLANS}/{plan['id']}", token)

    assert (answer.status, answer.json) == (200, {"message": "Plan deleted successfully"})
    assert refusal(api.get(f"{PLANS}/{plan['id']}", token=token)) == (404, "Plan not found")
    assert api.get(f"/api/v1/tarif-plans/{plan['slug']}").status == 404
    assert UniqueGuardItem.count(f"UNIQUE#PLAN_SLUG#{plan['slug']}") == 0
    assert refusal(delete(api, f"{PLANS}/{plan['id']}", token)) == (404, "Plan not found")


def test_a_plan_with_a_subscription_of_any_status_is_not_deleted(api: Api, token: str) -> None:
    plan = new_plan(api, token)
    subscribe(api, german_buyer(api, "keeper").token, plan["id"])  # PENDING: unpaid

    answer = delete(api, f"{PLANS}/{plan['id']}", token)
    assert refusal(answer) == (400, "Cannot delete plan with existing subscriptions. Deactivate instead.")
    assert api.get(f"{PLANS}/{plan['id']}", token=token).status == 200


@pytest.mark.parametrize(
    ("action", "active", "message"),
    [
        ("deactivate", False, "Plan deactivated"),
        ("archive", False, "Plan archived"),
        ("activate", True, "Plan activated"),
    ],
)
def test_activate_deactivate_archive(api: Api, token: str, action: str, active: bool, message: str) -> None:
    plan = new_plan(api, token, is_active=not active)
    answer = api.post(f"{PLANS}/{plan['id']}/{action}", token=token)

    assert answer.status == 200 and answer.json["message"] == message
    assert answer.json["plan"]["is_active"] is active
    listed = [p["id"] for p in api.get("/api/v1/tarif-plans").json["plans"]]
    assert (plan["id"] in listed) is active
    assert refusal(api.post(f"{PLANS}/{MISSING}/{action}", token=token)) == (404, "Plan not found")


def test_a_deactivated_plan_cannot_be_bought(api: Api, token: str) -> None:
    plan = new_plan(api, token)
    api.post(f"{PLANS}/{plan['id']}/deactivate", token=token)
    buyer = german_buyer(api, "late")
    answer = api.post("/api/v1/user/checkout", {"plan_id": plan["id"]}, token=buyer.token)
    assert answer.status == 400


def test_a_copy_is_a_new_active_plan_without_categories(api: Api, manual_clock: ManualClock) -> None:
    token = admin_token(api)  # minted on the test's clock
    source = new_plan(
        api, token, price="7.77", billing_period="QUARTERLY", trial_days=3, features=["a"], is_active=False
    )
    api.post(f"/api/v1/admin/tarif-plan-categories/{ROOT}/attach-plans", {"plan_ids": [source["id"]]}, token=token)

    answer = api.post(f"{PLANS}/{source['id']}/copy", token=token)

    assert answer.status == 201 and answer.json["message"] == "Plan copied successfully"
    copy = answer.json["plan"]
    assert answer.json["plan_id"] == copy["id"] != source["id"]
    assert copy["name"] == f"{source['name']} (copy)"
    assert copy["slug"] == f"{source['slug']}-copy-{manual_clock.now():%Y%m%d%H%M%S}"
    same = ("price", "currency", "billing_period", "features", "trial_days")
    assert {k: copy[k] for k in same} == {k: source[k] for k in same}
    assert (copy["is_active"], copy["categories"], copy["subscriber_count"]) == (True, [], 0)
    assert refusal(api.post(f"{PLANS}/{MISSING}/copy", token=token)) == (404, "Plan not found")


def test_the_subscriber_count_is_by_status(api: Api, token: str) -> None:
    plan = new_plan(api, token, trial_days=5)
    for tag in ("count-a", "count-b"):
        subscribe(api, german_buyer(api, tag).token, plan["id"])

    answer = api.get(f"{PLANS}/{plan['id']}/subscribers/count", token=token)

    assert answer.status == 200
    assert answer.json == {
        "plan_id": plan["id"],
        "count": 2,
        "by_status": {"TRIALING": 2, "ACTIVE": 0, "PAST_DUE": 0, "PAUSED": 0},
    }
    assert api.get(f"{PLANS}/{plan['id']}", token=token).json["plan"]["subscriber_count"] == 2
    assert refusal(api.get(f"{PLANS}/{MISSING}/subscribers/count", token=token)) == (404, "Plan not found")


READS = [("GET", f"{PLANS}/"), ("GET", f"{PLANS}/{BASIC}"), ("GET", f"{PLANS}/{BASIC}/subscribers/count")]
WRITES = [
    ("POST", f"{PLANS}/"),
    ("PUT", f"{PLANS}/{BASIC}"),
    ("DELETE", f"{PLANS}/{BASIC}"),
    ("POST", f"{PLANS}/{BASIC}/activate"),
    ("POST", f"{PLANS}/{BASIC}/deactivate"),
    ("POST", f"{PLANS}/{BASIC}/archive"),
    ("POST", f"{PLANS}/{BASIC}/copy"),
]


@pytest.mark.parametrize(("method", "path"), READS)
def test_the_observer_reads_plans(api: Api, observer: str, method: str, path: str) -> None:
    assert api.request(method, path, token=observer).status == 200


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_the_observer_and_a_customer_are_refused_every_plan_write(
    api: Api, observer: str, customer: str, method: str, path: str
) -> None:
    observed = api.request(method, path, json_body={"name": "x"}, token=observer)
    assert (observed.status, observed.json) == (
        403,
        {"error": "Permission denied", "required": "subscription.plans.manage"},
    )
    refused = api.request(method, path, json_body={}, token=customer)
    assert refusal(refused) == (403, "Admin access required")
    assert api.request(method, path, json_body={}).status == 401
