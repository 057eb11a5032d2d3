"""`GET /admin/users` costs the same at 5,000 users as at 5 (issue 8, Deliver 4): a Query of one index with `Limit`,
the total from a maintained counter, and per page one BatchGetItem each for details, balances and access levels.

The users are written straight through the repository (`import_users`, batch writes and the totals), not through
5,000 registrations; the world starts empty so the counts are exactly the ones loaded.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.admin_users.service import add_account
from chalicelib.core import clock
from chalicelib.core.ids import new_id
from chalicelib.events.envelope import Actor
from chalicelib.users.models import UserItem
from chalicelib.users.repository import import_users
from tests.contract import PASSWORD
from tests.ddb_calls import counting_dynamodb
from tests.integration.conftest import Api

USERS = "/api/v1/admin/users"
NOT_A_HASH = "$2b$04$" + "x" * 53  # nobody signs in as these users


def load(first: int, count: int) -> None:
    start = clock.now() - timedelta(days=1)
    import_users(
        UserItem.new(
            new_id(),
            f"bulk-{n:05d}@example.com",
            NOT_A_HASH,
            start + timedelta(seconds=n),
            role="VENDOR" if n % 10 == 0 else "USER",
            status="SUSPENDED" if n % 4 == 0 else "ACTIVE",
        )
        for n in range(first, first + count)
    )


def cost(api: Api, token: str, query: str) -> tuple[int, int, dict[str, Any]]:
    with counting_dynamodb() as calls:
        answer = api.get(f"{USERS}?{query}", token=token)
    assert answer.status == 200, answer.json
    assert "Scan" not in calls.operations
    reads = [op for op in calls.operations if op in ("Query", "GetItem", "BatchGetItem")]
    return len(reads), calls.items_read, answer.json


FILTERS = ("status=suspended&limit=5", "role=VENDOR&limit=5", "role=USER&status=ACTIVE&limit=5")


def test_the_first_page_costs_the_same_with_5_or_5000_users(empty_api: Api) -> None:
    api = empty_api
    add_account("ops@example.com", PASSWORD, "ADMIN", "ACTIVE", None, Actor.system("test"))
    token = api.token("ops@example.com", PASSWORD)
    cost(api, token, "limit=5")  # the first request of a process loads the catalog snapshot

    load(0, 5)
    small = {"limit=5": cost(api, token, "limit=5")}
    load(5, 55)  # enough users for a full page (and one more) of every filter
    small |= {query: cost(api, token, query) for query in FILTERS}
    load(60, 4940)
    large = {query: cost(api, token, query) for query in ("limit=5", *FILTERS)}

    for query, (trips, items, _) in small.items():
        assert large[query][:2] == (trips, items), query
        assert len(large[query][2]["users"]) == 5
    assert large["limit=5"][2]["total"] == 5001  # the admin too
    assert large["status=suspended&limit=5"][2]["total"] == 1250
    assert large["role=VENDOR&limit=5"][2]["total"] == 500
    assert large["role=USER&status=ACTIVE&limit=5"][2]["total"] == 3500
    newest = [u["email"] for u in large["limit=5"][2]["users"]]
    assert newest == ["ops@example.com", *[f"bulk-{n:05d}@example.com" for n in range(4999, 4995, -1)]]
    # one page of 20 costs one Query of the index, one GetItem of its total, the batches, and each row's holdings
    trips, _, body = cost(api, token, "limit=20")
    assert len(body["users"]) == 20 and trips == large["limit=5"][0] + 15


def test_an_email_prefix_search_reads_only_what_it_matches(empty_api: Api) -> None:
    api = empty_api
    add_account("ops@example.com", PASSWORD, "ADMIN", "ACTIVE", None, Actor.system("test"))
    token = api.token("ops@example.com", PASSWORD)
    load(0, 2000)

    cost(api, token, "limit=5")  # the first request of a process loads the catalog snapshot
    trips, items, body = cost(api, token, "search=BULK-0012")

    assert [u["email"] for u in body["users"]] == [f"bulk-{n:05d}@example.com" for n in range(120, 130)]
    assert body["total"] == 10
    # the page and its count read the 10 matches (and the sign-in its 2 items, the access levels none)
    assert items <= 10 + 10 + 2 + 10
    more_trips, more_items, _ = cost(api, token, "search=bulk-001&limit=10")  # 100 matches
    assert more_trips == trips and more_items == items + 91  # the count reads the 90 extra matches, the page one more
    from chalicelib.audit.invariants import check_user_totals

    assert check_user_totals() == []  # import_users counted what it wrote
