"""The user's subscription and add-on lists as whole lists (contract README §1.11, subscriptions.md §12.1–§12.2).

Without a paging parameter they answer everything (the contract's envelope, nothing more); with one they page
with the README's keys and a cursor that is the caller's own. Query input never reaches a 500.
"""

from __future__ import annotations

import pytest

from tests.contract import INVALID_PAGING
from tests.integration.buyers import Buyer, assert_page, buy, ids, paid, read, register_buyer

SUBSCRIPTIONS = "/api/v1/user/subscriptions"
ADDONS = "/api/v1/user/addons"


@pytest.fixture(scope="module")
def holder(api) -> tuple[Buyer, list[str], list[str]]:
    """A buyer with three subscriptions (basic ACTIVE, pro TRIALING, quarterly PENDING) and three add-ons; both
    id lists newest first."""
    buyer = register_buyer(api, "lists")
    first = buy(api, buyer, "basic", addons=("extra-storage-50gb",))
    paid(api, buyer.token, first["invoice"]["id"])
    second = buy(api, buyer, "pro", addons=("priority-support",))
    third = buy(api, buyer, "quarterly")
    alone = buy(api, buyer, addons=("dedicated-onboarding",))
    subscriptions = [third["subscription"]["id"], second["subscription"]["id"], first["subscription"]["id"]]
    addons = [alone["add_ons"][0]["id"], second["add_ons"][0]["id"], first["add_ons"][0]["id"]]
    return buyer, subscriptions, addons


def test_without_paging_both_lists_are_whole_in_their_contract_envelope(api, holder):
    buyer, subscriptions, addons = holder
    whole = read(api, SUBSCRIPTIONS, buyer.token)
    assert set(whole) == {"subscriptions", "total"}
    assert (ids(whole["subscriptions"]), whole["total"]) == (subscriptions, 3)
    listed = read(api, ADDONS, buyer.token)
    assert set(listed) == {"addon_subscriptions"}
    assert ids(listed["addon_subscriptions"]) == addons


def test_a_limit_pages_the_subscriptions_and_the_cursor_continues(api, holder):
    buyer, subscriptions, _ = holder
    first = read(api, f"{SUBSCRIPTIONS}?limit=2", buyer.token)
    assert_page(first, "subscriptions", subscriptions[:2], total=3, limit=2, offset=0, page=1, per_page=2, pages=2)
    assert isinstance(first["next_cursor"], str)
    rest = read(api, f"{SUBSCRIPTIONS}?limit=2&cursor={first['next_cursor']}", buyer.token)
    assert ids(rest["subscriptions"]) == subscriptions[2:]
    assert (rest["offset"], rest["page"], rest["next_cursor"]) == (2, 2, None)
    assert read(api, f"{SUBSCRIPTIONS}?page=2&per_page=2", buyer.token)["subscriptions"] == rest["subscriptions"]


def test_the_status_filter_pages_what_it_keeps(api, holder):
    buyer, subscriptions, _ = holder
    body = read(api, f"{SUBSCRIPTIONS}?status=trialing&per_page=5", buyer.token)
    assert ids(body["subscriptions"]) == [subscriptions[1]]
    assert (body["total"], body["pages"], body["next_cursor"]) == (1, 1, None)
    assert read(api, f"{SUBSCRIPTIONS}?status=%20Active%20", buyer.token)["total"] == 1


def test_the_add_ons_page_with_a_total(api, holder):
    buyer, _, addons = holder
    body = read(api, f"{ADDONS}?page=1&per_page=2", buyer.token)
    assert_page(body, "addon_subscriptions", addons[:2], total=3, limit=2, offset=0, page=1, per_page=2, pages=2)
    rest = read(api, f"{ADDONS}?per_page=2&cursor={body['next_cursor']}", buyer.token)
    assert ids(rest["addon_subscriptions"]) == addons[2:]
    assert rest["next_cursor"] is None


def test_a_cursor_is_the_callers_own(api, holder):
    buyer, _, _ = holder
    cursor = read(api, f"{SUBSCRIPTIONS}?limit=1", buyer.token)["next_cursor"]
    stranger = register_buyer(api, "lists")
    for path in (f"{SUBSCRIPTIONS}?limit=1&cursor={cursor}", f"{ADDONS}?limit=1&cursor={cursor}"):
        answer = api.get(path, token=stranger.token)
        assert (answer.status, answer.json) == (400, INVALID_PAGING)
    answer = api.get(f"{ADDONS}?limit=1&cursor={cursor}", token=buyer.token)  # another route's cursor
    assert (answer.status, answer.json) == (400, INVALID_PAGING)


@pytest.mark.parametrize("query", ["limit=abc", "limit=1.5", "page=x", "cursor=forged.cursor", "per_page=%00"])
def test_malformed_paging_is_400(api, holder, query):
    buyer, _, _ = holder
    for path in (SUBSCRIPTIONS, ADDONS):
        answer = api.get(f"{path}?{query}", token=buyer.token)
        assert (answer.status, answer.json) == (400, INVALID_PAGING)


@pytest.mark.parametrize("value", ["x" * 3000, "%F0%9F%98%80", "%00", "%ED%A0%80", "%22%7D"])
def test_odd_status_values_are_400_with_the_contract_message(api, holder, value):
    buyer, _, _ = holder
    answer = api.get(f"{SUBSCRIPTIONS}?status={value}", token=buyer.token)
    assert answer.status == 400
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json["error"].startswith("Invalid status: ")
    assert set(answer.json) == {"error"}
