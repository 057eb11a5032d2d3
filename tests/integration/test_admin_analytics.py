"""GET /api/v1/admin/analytics/… (admin.md §17): the refusals, the access rules and the activity log, on the
module's shared account. The figures themselves are held to a recompute from the raw items in
`test_admin_analytics_recompute.py`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from chalicelib.activity import consumer as activity_consumer
from chalicelib.activity import repository as activity_store
from chalicelib.activity.models import ActivityItem
from chalicelib.analytics import consumer, schemas
from chalicelib.core.clock import ManualClock
from chalicelib.events import catalog as event_catalog
from chalicelib.events.consumers import BY_NAME
from tests.contract import BASIC
from tests.integration.buyers import register_buyer
from tests.integration.conftest import ADMIN, Api, drain_events, outbox_events
from tests.integration.test_invoice_list_paging import Calls, counted  # noqa: F401 (the fixture)

BASE = "/api/v1/admin/analytics"
RANGED = ("dashboard", "mrr", "revenue", "users/growth", "churn")
ROUTES = (*RANGED, "plans/distribution", "activity")
OBSERVER = ("observer@example.com", "ObserverPass123@")


def get(api: Api, path: str, credentials: tuple[str, str] = ADMIN) -> Any:
    answer = api.get(f"{BASE}/{path}", token=api.token(*credentials))
    assert answer.status == 200, answer.json
    return answer.json


# --- errors and access --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", RANGED)
@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("from=2026-13-01", "Invalid date: 2026-13-01"),
        ("to=yesterday", "Invalid date: yesterday"),
        ("from=2026-5-1", "Invalid date: 2026-5-1"),
        ("from=2026-05-02&to=2026-05-01", "from must not be after to"),
        ("from=2025-01-01&to=2026-01-02", "Date range too large (max 366 days)"),
    ],
)
def test_a_bad_range_is_refused(api: Api, route: str, query: str, error: str) -> None:
    answer = api.get(f"{BASE}/{route}?{query}", token=api.token(*ADMIN))
    assert (answer.status, answer.json) == (400, {"error": error})


def test_a_range_of_366_days_is_allowed(api: Api) -> None:
    body = get(api, "revenue?from=2024-01-01&to=2024-12-31")  # a leap year: 366 days
    assert len(body["by_day"]) == 366 and (body["from"], body["to"]) == ("2024-01-01", "2024-12-31")


@pytest.mark.parametrize(
    ("path", "error"),
    [("mrr?interval=week", "Invalid interval: week"), ("activity?source=robots", "Invalid source: robots")],
)
def test_bad_choices_are_refused(api: Api, path: str, error: str) -> None:
    answer = api.get(f"{BASE}/{path}", token=api.token(*ADMIN))
    assert (answer.status, answer.json) == (400, {"error": error})


@pytest.mark.parametrize("route", ROUTES)
def test_the_observer_reads_analytics_and_a_user_may_not(api: Api, route: str) -> None:
    assert api.get(f"{BASE}/{route}", token=api.token(*OBSERVER)).status == 200
    user = register_buyer(api, "nosy")
    answer = api.get(f"{BASE}/{route}", token=user.token)
    assert (answer.status, answer.json) == (403, {"error": "Admin access required"})
    assert api.get(f"{BASE}/{route}").status == 401


def test_the_default_range_is_the_30_days_ending_today(api: Api, manual_clock: ManualClock) -> None:
    body = get(api, "revenue")
    assert (body["from"], body["to"]) == ("2026-04-02", "2026-05-01")
    assert len(body["by_day"]) == 30


def test_the_consumer_hears_what_it_handles() -> None:
    assert BY_NAME["analytics"].event_types == consumer.EVENT_TYPES


# --- the activity log (§17.7) -------------------------------------------------------------------------------------


def _entry(kind: str, source: str, user_id: str, at: datetime) -> str:
    entry = ActivityItem.new(
        type=kind,
        source=source,
        description=f"{kind} of {user_id}",
        actor=("user", user_id, None) if source == "client" else ("system", None, None),
        subject=("user", user_id),
        now=at,
    )
    activity_store.add(entry)
    return entry.id


@pytest.fixture(scope="module")
def logged(stack: dict[str, object]) -> dict[str, Any]:
    """Entries over two month partitions, newest last: a user's, another's, of each source."""
    someone, other = str(uuid.uuid4()), str(uuid.uuid4())
    start = datetime(2026, 4, 28, 12, 0, tzinfo=UTC)
    kinds = [
        ("invoice.paid", "domain", someone),
        ("invoice.created", "domain", other),
        ("page.viewed", "client", someone),
        ("subscription.activated", "domain", someone),
        ("admin.suspend_user", "admin", other),
        ("invoice.paid", "domain", other),
    ]
    ids = [_entry(kind, source, user, start + timedelta(days=n)) for n, (kind, source, user) in enumerate(kinds)]
    return {"ids": ids, "someone": someone, "other": other, "counts": activity_store.counts()}


def test_the_activity_log_is_newest_first_across_months_and_pages_by_cursor(
    api: Api, manual_clock: ManualClock, logged: dict[str, Any]
) -> None:
    total = int(logged["counts"].total)
    first = get(api, "activity?limit=4")
    assert [e["id"] for e in first["activity"]][:4] == list(reversed(logged["ids"]))[:4]
    assert (first["total"], first["limit"], first["offset"], first["page"]) == (total, 4, 0, 1)
    assert first["pages"] == -(-total // 4) and first["next_cursor"]
    second = get(api, f"activity?limit=4&cursor={first['next_cursor']}")
    assert [e["id"] for e in second["activity"]][:2] == list(reversed(logged["ids"]))[4:]  # into April's partition
    assert second["offset"] == 4
    newest = first["activity"][0]
    assert newest == {
        "id": logged["ids"][-1],
        "type": "invoice.paid",
        "source": "domain",
        "description": f"invoice.paid of {logged['other']}",
        "actor": {"type": "system", "id": None, "email": None},
        "subject": {"type": "user", "id": logged["other"]},
        "created_at": "2026-05-03T12:00:00Z",
    }


@pytest.mark.parametrize(
    ("query", "wanted"),
    [
        ("source=client", [2]),
        ("source=admin", [4]),
        ("source=domain&type=invoice.", [5, 1, 0]),
        ("type=subscription.", [3]),
        ("user_id={someone}", [3, 2, 0]),
        ("user_id={other}&type=invoice.paid", [5]),
    ],
)
def test_the_activity_log_filters(
    api: Api, manual_clock: ManualClock, logged: dict[str, Any], query: str, wanted: list[int]
) -> None:
    body = get(api, "activity?" + query.format(someone=logged["someone"], other=logged["other"]))
    found = [e["id"] for e in body["activity"] if e["id"] in logged["ids"]]
    assert found == [logged["ids"][n] for n in wanted]


def test_the_total_of_a_source_is_its_maintained_count(
    api: Api, manual_clock: ManualClock, logged: dict[str, Any]
) -> None:
    assert get(api, "activity?source=admin")["total"] == int(logged["counts"].admin)
    assert get(api, "activity?source=client&limit=1")["total"] == int(logged["counts"].client)


# --- round trips (docs/performance.md) ----------------------------------------------------------------------------


@pytest.fixture
def calls(counted: list[Calls]) -> list[Calls]:  # noqa: F811
    return counted


# Every admin route starts with the rate limit, the catalog version (the plugin's state; the snapshot itself is held)
# and the authentication; then the route's own reads.
EDGE = ["UpdateItem", "GetItem", "BatchGetItem"]
ROUND_TRIPS = {
    "dashboard": ["Query", "Query"],  # the current totals, the days of the range (one Query per calendar year)
    "mrr": ["Query", "Query"],  # the current totals, the snapshots of the range
    "revenue": ["Query", "Query"],
    "users/growth": ["Query", "Query"],
    "churn": ["Query", "Query"],
    "plans/distribution": ["Query"],
    "activity": ["Query", "GetItem"],  # the source's index partition, its maintained count
}


@pytest.mark.parametrize("route", list(ROUND_TRIPS))
def test_an_analytics_request_is_a_handful_of_reads(
    api: Api, manual_clock: ManualClock, calls: list[Calls], route: str
) -> None:
    token = api.token(*ADMIN)
    path = f"{BASE}/{route}?from=2026-04-01&to=2026-04-30&limit=5&source=admin"
    assert api.get(path, token=token).status == 200  # the instance holds the catalog snapshot from here on
    calls.append(Calls())
    assert api.get(path, token=token).status == 200
    actions = [action for action, _ in calls[-1].made]
    assert actions == EDGE + ROUND_TRIPS[route]


@pytest.mark.parametrize("route", ["revenue", "users/growth", "churn"])
def test_a_range_over_new_year_costs_one_query_more(
    api: Api, manual_clock: ManualClock, calls: list[Calls], route: str
) -> None:
    token = api.token(*ADMIN)
    counts = []
    for span in ("from=2026-01-01&to=2026-04-30", "from=2025-12-01&to=2026-04-30"):  # today: 1 May 2026
        calls.append(Calls())
        assert api.get(f"{BASE}/{route}?{span}", token=token).status == 200
        counts.append(sum(1 for action, _ in calls[-1].made if action == "Query"))
    assert counts[1] == counts[0] + 1


@pytest.mark.parametrize(
    ("route", "model"),
    [
        ("dashboard", schemas.DashboardAnswer),
        ("mrr", schemas.MrrAnswer),
        ("revenue", schemas.RevenueAnswer),
        ("users/growth", schemas.GrowthAnswer),
        ("churn", schemas.ChurnAnswer),
        ("plans/distribution", schemas.DistributionAnswer),
        ("activity", schemas.ActivityAnswer),
    ],
)
def test_every_answer_has_the_documented_shape(api: Api, route: str, model: type[BaseModel]) -> None:
    buyer = register_buyer(api, "shaped")
    api.post("/api/v1/user/checkout", {"plan_id": BASIC, "payment_method_code": "sandbox"}, token=buyer.token)
    drain_events()
    model.model_validate(get(api, route))


def test_the_activity_consumer_hears_every_domain_event() -> None:
    types = {cls.TYPE for cls in vars(event_catalog).values() if isinstance(cls, type) and hasattr(cls, "TYPE")}
    assert set(BY_NAME["activity"].event_types) == types


def test_domain_events_are_in_the_log_once(api: Api) -> None:
    buyer = register_buyer(api, "logged")
    bought = api.post("/api/v1/user/checkout", {"plan_id": BASIC, "payment_method_code": "sandbox"}, token=buyer.token)
    drain_events()
    [registered] = outbox_events_about(buyer.user_id, "user.registered")
    counts = activity_store.counts()
    assert counts is not None
    activity_consumer.handle_event(registered)  # delivered again: no second entry, no second count

    body = get(api, f"activity?source=domain&user_id={buyer.user_id}")

    assert sorted(e["type"] for e in body["activity"]) == ["invoice.created", "subscription.created", "user.registered"]
    by_type = {e["type"]: e for e in body["activity"]}
    invoice = bought.json["invoice"]
    assert by_type["invoice.created"]["description"] == f"Invoice {invoice['invoice_number']} created"
    assert by_type["invoice.created"]["subject"] == {"type": "invoice", "id": invoice["id"]}
    assert by_type["user.registered"] == {
        "id": registered["id"],
        "type": "user.registered",
        "source": "domain",
        "description": f"User {buyer.email} registered",
        "actor": {"type": registered["actor"]["type"], "id": registered["actor"]["id"], "email": None},
        "subject": {"type": "user", "id": buyer.user_id},
        "created_at": registered["occurred_at"],
    }
    assert activity_store.counts().attribute_values == counts.attribute_values  # type: ignore[union-attr]
    assert get(api, "activity?source=domain&limit=1")["total"] == int(counts.domain)


def outbox_events_about(user_id: str, event_type: str) -> list[dict[str, Any]]:
    return [e for e in outbox_events(event_type) if e["data"].get("user_id") == user_id]
