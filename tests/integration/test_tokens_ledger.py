"""Token balance and ledger reads (contract subscriptions.md §2.5, §11, §12.3; README §1.6, §1.11; seed-data.md §11).

GET /user/tokens/balance and GET /user/tokens/transactions (+ `type`, limit/offset and page/per_page paging).
Shared seeded account: every test registers its own users and only reads the seeded ones.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from chalicelib.core.ids import seed_id
from tests.contract import INVALID_PAGING, PAGE_FIELDS, TOKEN_TRANSACTION_FIELDS
from tests.integration.buyers import Buyer, assert_token_required, buy_tokens, read, register_buyer

BALANCE = "/api/v1/user/tokens/balance"
TRANSACTIONS = "/api/v1/user/tokens/transactions"
CONSUME = "/api/v1/user/tokens/consume"
INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z")


def consume(api, holder: Buyer, amount: int, **body: Any) -> dict[str, Any]:
    answer = api.post(CONSUME, {"amount": amount, **body}, token=holder.token)
    assert answer.status == 200, answer.json
    return answer.json  # type: ignore[no-any-return]


def amounts(body: dict[str, Any]) -> list[int]:
    return [t["amount"] for t in body["transactions"]]


def every_entry(api, holder: Buyer) -> list[dict[str, Any]]:
    """The whole ledger, newest first, by following `next_cursor`."""
    entries: list[dict[str, Any]] = []
    body = read(api, f"{TRANSACTIONS}?limit=2", holder.token)
    entries.extend(body["transactions"])
    while body["next_cursor"] is not None:
        body = read(api, f"{TRANSACTIONS}?limit=2&cursor={body['next_cursor']}", holder.token)
        entries.extend(body["transactions"])
    return entries


def assert_ledger_invariant(api, holder: Buyer) -> None:
    """subscriptions.md §11: balance = Σ entries = newest balance_after, each entry chained to the one before."""
    balance = read(api, BALANCE, holder.token)["balance"]
    entries = every_entry(api, holder)
    assert len(entries) == read(api, TRANSACTIONS, holder.token)["total"]
    assert balance == sum(e["amount"] for e in entries)
    if entries:
        assert balance == entries[0]["balance_after"]
    running = 0
    for entry in reversed(entries):
        running += entry["amount"]
        assert entry["balance_after"] == running
        assert running >= 0


# --- balance ---------------------------------------------------------------------------------------------------


def test_a_new_user_has_a_zero_balance_and_no_entries(api):
    holder = register_buyer(api, "ledger")
    assert read(api, BALANCE, holder.token) == {"balance": 0}
    assert read(api, TRANSACTIONS, holder.token) == {
        "transactions": [],
        "total": 0,
        "limit": 50,
        "offset": 0,
        "page": 1,
        "per_page": 50,
        "pages": 0,
        "next_cursor": None,
    }


def test_the_seeded_users_balances(api):
    for email, password, balance in (
        ("user.pro@demo.local", "DemoPass123!", 200),
        ("test@example.com", "TestPass123@", 0),
        ("test2@example.com", "TestPass123@", 0),
    ):
        answer = api.get(BALANCE, token=api.token(email, password))
        assert answer.status == 200
        assert answer.json == {"balance": balance}


def test_the_seeded_pro_user_has_one_subscription_entry(api):
    pro = Buyer(
        "user.pro@demo.local", seed_id("user", "user.pro@demo.local"), api.token("user.pro@demo.local", "DemoPass123!")
    )
    body = read(api, TRANSACTIONS, pro.token)
    [entry] = body["transactions"]
    assert INSTANT.fullmatch(entry["created_at"])
    assert body == {
        "transactions": [
            {
                "id": entry["id"],
                "user_id": pro.user_id,
                "amount": 200,
                "transaction_type": "SUBSCRIPTION",
                "reference_id": seed_id("subscription", "user.pro@demo.local"),
                "reference": None,
                "description": "Plan tokens: Pro",
                "balance_after": 200,
                "created_at": entry["created_at"],
            }
        ],
        "total": 1,
        "limit": 50,
        "offset": 0,
        "page": 1,
        "per_page": 50,
        "pages": 1,
        "next_cursor": None,
    }
    assert read(api, f"{TRANSACTIONS}?type=subscription", pro.token)["transactions"] == [entry]
    assert read(api, f"{TRANSACTIONS}?type=usage", pro.token)["total"] == 0


def test_a_bundle_purchase_credits_a_purchase_entry(api):
    holder = register_buyer(api, "ledger")
    purchase_id = buy_tokens(api, holder.token, "100 Tokens")["token_bundles"][0]["id"]
    assert read(api, BALANCE, holder.token) == {"balance": 100}
    [entry] = read(api, TRANSACTIONS, holder.token)["transactions"]
    assert entry == {
        "id": entry["id"],
        "user_id": holder.user_id,
        "amount": 100,
        "transaction_type": "PURCHASE",
        "reference_id": purchase_id,
        "reference": None,
        "description": "Token bundle purchase: 100 tokens",
        "balance_after": 100,
        "created_at": entry["created_at"],
    }
    assert INSTANT.fullmatch(entry["created_at"])


def test_plan_tokens_are_a_subscription_entry(api):
    holder = register_buyer(api, "ledger")
    answer = api.post(
        "/api/v1/user/checkout",
        {"plan_id": seed_id("plan", "basic"), "token_bundle_ids": [seed_id("bundle", "100 Tokens")]},
        token=holder.token,
    )
    assert answer.status == 201, answer.json
    paid = api.post(
        f"/api/v1/user/invoices/{answer.json['invoice']['id']}/pay",
        {"payment_method_code": "sandbox"},
        token=holder.token,
    )
    assert paid.status == 200, paid.json
    body = read(api, TRANSACTIONS, holder.token)
    assert [(t["transaction_type"], t["amount"], t["balance_after"]) for t in body["transactions"]] == [
        ("PURCHASE", 100, 150),
        ("SUBSCRIPTION", 50, 50),
    ]
    subscription_entry = body["transactions"][1]
    assert subscription_entry["reference_id"] == answer.json["subscription"]["id"]
    assert subscription_entry["description"] == "Plan tokens: Basic"
    assert read(api, BALANCE, holder.token) == {"balance": 150}


# --- a ledger with seven entries -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seven(api) -> tuple[Buyer, list[dict[str, Any]]]:
    """Oldest first: +100 (bundle), −1 … −5 (consumptions), +500 (bundle); balance 585."""
    holder = register_buyer(api, "ledger")
    buy_tokens(api, holder.token, "100 Tokens")
    for amount in range(1, 6):
        consume(api, holder, amount, reference=f"job-{amount}")
    buy_tokens(api, holder.token, "500 Tokens")
    newest_first = read(api, TRANSACTIONS, holder.token)["transactions"]
    return holder, newest_first


def test_the_ledger_is_newest_first_with_balance_after(api, seven):
    holder, entries = seven
    assert [(e["transaction_type"], e["amount"], e["balance_after"]) for e in entries] == [
        ("PURCHASE", 500, 585),
        ("USAGE", -5, 85),
        ("USAGE", -4, 90),
        ("USAGE", -3, 94),
        ("USAGE", -2, 97),
        ("USAGE", -1, 99),
        ("PURCHASE", 100, 100),
    ]
    assert [e["reference"] for e in entries] == [None, "job-5", "job-4", "job-3", "job-2", "job-1", None]
    for entry in entries:
        assert set(entry) == TOKEN_TRANSACTION_FIELDS
        assert entry["user_id"] == holder.user_id
        assert INSTANT.fullmatch(entry["created_at"])
    assert len({e["id"] for e in entries}) == 7
    assert read(api, BALANCE, holder.token) == {"balance": 585}
    assert_ledger_invariant(api, holder)


def test_the_default_page_is_50(api, seven):
    holder, entries = seven
    body = read(api, TRANSACTIONS, holder.token)
    assert set(body) == PAGE_FIELDS | {"transactions"}
    assert body == {
        "transactions": entries,
        "total": 7,
        "limit": 50,
        "offset": 0,
        "page": 1,
        "per_page": 50,
        "pages": 1,
        "next_cursor": None,
    }


@pytest.mark.parametrize(
    ("limit", "offset", "start", "stop", "page", "more"),
    [
        (3, 0, 0, 3, 1, True),
        (3, 3, 3, 6, 2, True),
        (3, 6, 6, 7, 3, False),
        (2, 1, 1, 3, 1, True),
        (7, 0, 0, 7, 1, False),
        (5, 5, 5, 7, 2, False),
        (3, 7, 7, 7, 3, False),
        (3, 20, 7, 7, 7, False),
    ],
)
def test_paging_by_limit_and_offset(api, seven, limit, offset, start, stop, page, more):
    holder, entries = seven
    body = read(api, f"{TRANSACTIONS}?limit={limit}&offset={offset}", holder.token)
    assert body["transactions"] == entries[start:stop]
    assert {k: body[k] for k in PAGE_FIELDS - {"next_cursor"}} == {
        "total": 7,
        "limit": limit,
        "offset": offset,
        "page": page,
        "per_page": limit,
        "pages": math.ceil(7 / limit),
    }
    assert (body["next_cursor"] is not None) is more


@pytest.mark.parametrize(
    ("page", "per_page", "start", "stop"), [(1, 3, 0, 3), (2, 3, 3, 6), (3, 3, 6, 7), (4, 3, 7, 7)]
)
def test_paging_by_page_and_per_page(api, seven, page, per_page, start, stop):
    holder, entries = seven
    body = read(api, f"{TRANSACTIONS}?page={page}&per_page={per_page}", holder.token)
    assert body["transactions"] == entries[start:stop]
    assert {k: body[k] for k in PAGE_FIELDS - {"next_cursor"}} == {
        "total": 7,
        "limit": per_page,
        "offset": (page - 1) * per_page,
        "page": page,
        "per_page": per_page,
        "pages": 3,
    }
    assert (body["next_cursor"] is None) is (stop == 7)


def test_page_and_per_page_win_over_limit_and_offset(api, seven):
    holder, entries = seven
    body = read(api, f"{TRANSACTIONS}?page=2&per_page=2&limit=5&offset=0", holder.token)
    assert body["transactions"] == entries[2:4]
    assert (body["limit"], body["offset"], body["page"], body["per_page"]) == (2, 2, 2, 2)


def test_following_next_cursor_visits_every_entry_once(api, seven):
    holder, entries = seven
    assert every_entry(api, holder) == entries
    first = read(api, f"{TRANSACTIONS}?limit=4", holder.token)
    second = read(api, f"{TRANSACTIONS}?limit=4&offset=0&cursor={first['next_cursor']}", holder.token)  # cursor wins
    assert second["transactions"] == entries[4:]
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "limit", "offset", "page"),
    [
        ("limit=500", 100, 0, 1),
        ("limit=0", 1, 0, 1),
        ("limit=2&offset=-5", 2, 0, 1),
        ("page=0&per_page=2", 2, 0, 1),
        ("per_page=1000", 100, 0, 1),
    ],
)
def test_out_of_range_paging_is_clamped(api, seven, query, limit, offset, page):
    holder, entries = seven
    body = read(api, f"{TRANSACTIONS}?{query}", holder.token)
    assert (body["limit"], body["per_page"], body["offset"], body["page"]) == (limit, limit, offset, page)
    assert body["transactions"] == entries[:limit]


@pytest.mark.parametrize("query", ["limit=ten", "offset=0.5", "page=first", "per_page=1e2", "cursor=%21%21"])
def test_malformed_paging_is_400(api, seven, query):
    holder, _ = seven
    answer = api.get(f"{TRANSACTIONS}?{query}", token=holder.token)
    assert answer.status == 400
    assert answer.json == INVALID_PAGING


# --- the type filter -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("USAGE", [-5, -4, -3, -2, -1]),
        ("usage", [-5, -4, -3, -2, -1]),
        ("Purchase", [500, 100]),
        ("subscription", []),
        ("REFUND", []),
        ("bonus", []),
        ("adjustment", []),
    ],
)
def test_the_type_filter_is_case_insensitive(api, seven, kind, expected):
    holder, _ = seven
    body = read(api, f"{TRANSACTIONS}?type={kind}", holder.token)
    assert set(body) == PAGE_FIELDS | {"transactions"}
    assert amounts(body) == expected
    assert all(t["transaction_type"] == kind.upper() for t in body["transactions"])
    assert (body["total"], body["pages"], body["next_cursor"]) == (len(expected), 1 if expected else 0, None)


def test_the_type_filter_pages(api, seven):
    holder, _ = seven
    body = read(api, f"{TRANSACTIONS}?type=usage&limit=2&offset=2", holder.token)
    assert amounts(body) == [-3, -2]
    assert {k: body[k] for k in PAGE_FIELDS - {"next_cursor"}} == {
        "total": 5,
        "limit": 2,
        "offset": 2,
        "page": 2,
        "per_page": 2,
        "pages": 3,
    }
    assert body["next_cursor"] is not None
    last = read(api, f"{TRANSACTIONS}?type=usage&limit=2&cursor={body['next_cursor']}", holder.token)
    assert amounts(last) == [-1]
    assert last["next_cursor"] is None
    by_page = read(api, f"{TRANSACTIONS}?type=USAGE&page=3&per_page=2", holder.token)
    assert amounts(by_page) == [-1]


@pytest.mark.parametrize("kind", ["foo", "DEBIT", "usages"])
def test_an_unknown_type_is_400(api, seven, kind):
    holder, _ = seven
    answer = api.get(f"{TRANSACTIONS}?type={kind}", token=holder.token)
    assert answer.status == 400
    assert answer.json == {"error": f"Invalid type: {kind}"}


# --- authentication --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [BALANCE, TRANSACTIONS])
def test_reads_need_a_token(api, path):
    assert_token_required(api, path, bad_token="garbage")


def test_each_user_reads_only_their_own_ledger(api, seven):
    holder, entries = seven
    other = register_buyer(api, "ledger")
    assert read(api, TRANSACTIONS, other.token)["transactions"] == []
    assert read(api, BALANCE, other.token) == {"balance": 0}
    assert read(api, TRANSACTIONS, holder.token)["transactions"] == entries
