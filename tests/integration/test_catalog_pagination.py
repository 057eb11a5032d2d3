"""Paging of the whole lists of the public catalog (contract README §1.11)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.contract import PAGE_FIELDS

# route, list key, number of seeded items (seed-data.md §4–§9, catalog.md §4.13)
WHOLE_LISTS = [
    ("/api/v1/tarif-plans", "plans", 13),
    ("/api/v1/tarif-plan-categories?format=flat", "categories", 6),
    ("/api/v1/settings/currencies", "currencies", 6),
    ("/api/v1/settings/taxes", "taxes", 9),
    ("/api/v1/token-bundles/", "bundles", 3),
    ("/api/v1/addons/", "addons", 3),
    ("/api/v1/settings/countries", "countries", 8),
    ("/api/v1/settings/payment-methods", "methods", 2),
    ("/api/v1/config/languages", "languages", 8),
]
LIST_IDS = [key for _, key, _ in WHOLE_LISTS]
PLANS = "/api/v1/tarif-plans"


def join(path: str, query: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}{query}"


def forged(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def plan_slugs(api: Any, query: str = "") -> list[str]:
    answer = api.get(join(PLANS, query) if query else PLANS)
    assert answer.status == 200, answer.json
    return [plan["slug"] for plan in answer.json["plans"]]


@pytest.fixture(scope="module")
def all_plans(api) -> list[str]:
    return plan_slugs(api)


# --- without paging parameters ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "key", "count"), WHOLE_LISTS, ids=LIST_IDS)
def test_whole_list_without_paging_parameters(api, path, key, count):
    answer = api.get(path)
    assert answer.status == 200
    assert len(answer.json[key]) == count
    assert answer.json["total"] == count


# --- limit/offset -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "key", "count"), WHOLE_LISTS, ids=LIST_IDS)
def test_first_page_by_limit(api, path, key, count):
    whole = api.get(path).json[key]
    answer = api.get(join(path, "limit=2"))
    assert answer.status == 200
    assert answer.json[key] == whole[:2]
    assert {k: answer.json[k] for k in PAGE_FIELDS - {"next_cursor"}} == {
        "total": count,
        "limit": 2,
        "offset": 0,
        "page": 1,
        "per_page": 2,
        "pages": (count + 1) // 2,
    }
    if count > 2:
        assert isinstance(answer.json["next_cursor"], str)
        assert answer.json["next_cursor"]
    else:
        assert answer.json["next_cursor"] is None


def test_limit_and_offset(api, all_plans):
    answer = api.get(f"{PLANS}?limit=5&offset=5")
    body = answer.json
    assert [p["slug"] for p in body["plans"]] == all_plans[5:10]
    assert {k: body[k] for k in PAGE_FIELDS - {"next_cursor"}} == {
        "total": 13,
        "limit": 5,
        "offset": 5,
        "page": 2,
        "per_page": 5,
        "pages": 3,
    }
    assert body["next_cursor"] is not None
    # the route's own keys stay
    assert (body["currency"], body["country"]) == ("EUR", None)


def test_page_number_of_an_unaligned_offset(api):
    body = api.get("/api/v1/settings/currencies?limit=2&offset=3").json
    assert [c["code"] for c in body["currencies"]] == ["JPY", "THB"]
    assert (body["page"], body["per_page"], body["offset"], body["limit"]) == (2, 2, 3, 2)


def test_last_page_has_no_next_cursor(api, all_plans):
    body = api.get(f"{PLANS}?limit=5&offset=10").json
    assert [p["slug"] for p in body["plans"]] == all_plans[10:]
    assert body["next_cursor"] is None
    assert body["page"] == 3


def test_offset_past_the_end(api):
    body = api.get(f"{PLANS}?limit=5&offset=50").json
    assert body["plans"] == []
    assert body["total"] == 13
    assert body["next_cursor"] is None


def test_offset_alone_uses_the_default_size(api, all_plans):
    body = api.get(f"{PLANS}?offset=3").json
    assert [p["slug"] for p in body["plans"]] == all_plans[3:]
    assert body["offset"] == 3
    assert body["total"] == 13


def test_empty_list_has_zero_pages(api):
    body = api.get(f"{PLANS}?category=backend&limit=5").json
    assert body["plans"] == []
    assert (body["total"], body["pages"], body["next_cursor"]) == (0, 0, None)


# --- page/per_page ----------------------------------------------------------------------------------------------------


def test_page_and_per_page(api, all_plans):
    body = api.get(f"{PLANS}?page=2&per_page=4").json
    assert [p["slug"] for p in body["plans"]] == all_plans[4:8]
    assert {k: body[k] for k in PAGE_FIELDS - {"next_cursor"}} == {
        "total": 13,
        "page": 2,
        "per_page": 4,
        "pages": 4,
        "limit": 4,
        "offset": 4,
    }
    assert body["next_cursor"] is not None


def test_last_page_by_number(api, all_plans):
    body = api.get(f"{PLANS}?page=4&per_page=4").json
    assert [p["slug"] for p in body["plans"]] == all_plans[12:]
    assert body["next_cursor"] is None


def test_per_page_alone_acts_as_limit(api, all_plans):
    body = api.get(f"{PLANS}?per_page=3").json
    assert [p["slug"] for p in body["plans"]] == all_plans[:3]
    assert (body["page"], body["per_page"], body["limit"], body["offset"], body["pages"]) == (1, 3, 3, 0, 5)


def test_per_page_alone_with_an_offset(api, all_plans):
    body = api.get(f"{PLANS}?per_page=3&offset=6").json
    assert [p["slug"] for p in body["plans"]] == all_plans[6:9]
    assert (body["page"], body["per_page"], body["limit"], body["offset"]) == (3, 3, 3, 6)


def test_page_with_limit_uses_the_limit_as_page_size(api, all_plans):
    body = api.get(f"{PLANS}?page=2&limit=5").json
    assert [p["slug"] for p in body["plans"]] == all_plans[5:10]
    assert (body["page"], body["per_page"], body["limit"], body["offset"]) == (2, 5, 5, 5)


def test_page_with_zero_limit_is_clamped_to_one(api, all_plans):
    body = api.get(f"{PLANS}?page=3&limit=0").json
    assert [p["slug"] for p in body["plans"]] == all_plans[2:3]
    assert (body["page"], body["per_page"], body["offset"]) == (3, 1, 2)


def test_page_alone_uses_the_default_size(api, all_plans):
    body = api.get(f"{PLANS}?page=1").json
    assert [p["slug"] for p in body["plans"]] == all_plans
    assert body["page"] == 1
    assert body["next_cursor"] is None


def test_page_style_wins_over_limit_offset(api, all_plans):
    body = api.get(f"{PLANS}?page=2&per_page=3&limit=5&offset=0").json
    assert [p["slug"] for p in body["plans"]] == all_plans[3:6]
    assert (body["page"], body["per_page"], body["offset"]) == (2, 3, 3)


# --- clamping ---------------------------------------------------------------------------------------------------------


def test_per_page_and_page_are_clamped(api, all_plans):
    body = api.get(f"{PLANS}?page=0&per_page=500").json
    assert [p["slug"] for p in body["plans"]] == all_plans
    assert (body["page"], body["per_page"], body["limit"], body["offset"], body["pages"]) == (1, 100, 100, 0, 1)


def test_negative_page_is_clamped_to_one(api, all_plans):
    body = api.get(f"{PLANS}?page=-3&per_page=2").json
    assert [p["slug"] for p in body["plans"]] == all_plans[:2]
    assert body["page"] == 1


def test_limit_and_offset_are_clamped(api, all_plans):
    body = api.get(f"{PLANS}?limit=500&offset=-5").json
    assert [p["slug"] for p in body["plans"]] == all_plans
    assert (body["limit"], body["offset"], body["per_page"]) == (100, 0, 100)


def test_zero_limit_is_clamped_to_one(api, all_plans):
    body = api.get(f"{PLANS}?limit=0").json
    assert [p["slug"] for p in body["plans"]] == all_plans[:1]
    assert (body["limit"], body["pages"]) == (1, 13)


# --- cursors ----------------------------------------------------------------------------------------------------------


def test_walking_with_cursors_visits_every_item_once(api, all_plans):
    seen: list[str] = []
    body = api.get(f"{PLANS}?limit=4").json
    seen += [p["slug"] for p in body["plans"]]
    while body["next_cursor"] is not None:
        body = api.get(f"{PLANS}?limit=4&cursor={body['next_cursor']}").json
        seen += [p["slug"] for p in body["plans"]]
    assert seen == all_plans


def test_cursor_continues_a_page_request(api, all_plans):
    first = api.get(f"{PLANS}?page=1&per_page=5").json
    second = api.get(f"{PLANS}?per_page=5&cursor={first['next_cursor']}").json
    assert [p["slug"] for p in second["plans"]] == all_plans[5:10]
    assert (second["page"], second["offset"]) == (2, 5)


def test_cursor_wins_over_offset_and_page(api, all_plans):
    cursor = api.get(f"{PLANS}?limit=5").json["next_cursor"]
    by_offset = api.get(f"{PLANS}?limit=5&offset=0&cursor={cursor}").json
    assert [p["slug"] for p in by_offset["plans"]] == all_plans[5:10]
    by_page = api.get(f"{PLANS}?page=1&per_page=5&cursor={cursor}").json
    assert [p["slug"] for p in by_page["plans"]] == all_plans[5:10]


def test_cursor_keeps_the_route_filters(api):
    first = api.get(f"{PLANS}?category=subscription-plans&currency=USD&limit=1").json
    assert [p["slug"] for p in first["plans"]] == ["starter"]
    second = api.get(f"{PLANS}?category=subscription-plans&currency=USD&limit=1&cursor={first['next_cursor']}").json
    assert [p["slug"] for p in second["plans"]] == ["professional"]
    assert second["plans"][0]["display_currency"] == "USD"
    assert second["next_cursor"] is None


# --- errors -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["limit=abc", "offset=x", "page=two", "per_page=1.5", "limit=1e2", "offset=1.0", "per_page=true"],
)
def test_non_integer_paging_parameters_are_400(api, query):
    answer = api.get(join(PLANS, query))
    assert answer.status == 400
    assert answer.json == {"error": "Invalid pagination parameters"}
    assert answer.headers["x-request-id"]


@pytest.mark.parametrize(("path", "key", "count"), WHOLE_LISTS, ids=LIST_IDS)
def test_every_whole_list_rejects_a_bad_limit(api, path, key, count):
    answer = api.get(join(path, "limit=abc"))
    assert answer.status == 400
    assert answer.json == {"error": "Invalid pagination parameters"}


@pytest.mark.parametrize(
    "cursor",
    [
        "abc",
        "!!!!",
        "not-a-cursor-at-all",
        forged({"o": -1}),
        forged({"o": "5"}),
        forged({"o": 1.5}),
        forged({"o": True}),
        forged({"x": 5}),
        forged([5]),
        forged(5),
    ],
)
def test_forged_cursor_is_400(api, cursor):
    answer = api.get(f"{PLANS}?cursor={cursor}")
    assert answer.status == 400
    assert answer.json == {"error": "Invalid pagination parameters"}
