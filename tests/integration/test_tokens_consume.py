"""POST /api/v1/user/tokens/consume (contract subscriptions.md §2.5, §11, §12.3; README §1.2, §1.4, §1.10;
events.md §2 `tokens.debited`).

Shared seeded account: every test registers its own users and gives them tokens by buying bundles.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.contract import NO_CREDENTIAL
from tests.integration.buyers import (
    Buyer,
    balance_of,
    buy_tokens,
    ledger_of,
    register_buyer,
    token_holder,
)
from tests.integration.conftest import outbox_events

CONSUME = "/api/v1/user/tokens/consume"
TRANSACTIONS = "/api/v1/user/tokens/transactions"
NOT_POSITIVE = {"error": "amount must be a positive integer"}
BAD_REFERENCE = {"error": "reference must be 1-255 characters"}
JSON_HEADERS = {"Content-Type": "application/json"}
REFERENCE_CONFLICT = {"error": "Reference already used with a different amount"}


def post(api, holder: Buyer, body: Any, **kwargs: Any) -> Any:
    return api.post(CONSUME, body, token=holder.token, **kwargs)


def ok(api, holder: Buyer, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    answer = post(api, holder, body, **kwargs)
    assert answer.status == 200, answer.json
    return answer.json  # type: ignore[no-any-return]


def debited_events(user_id: str) -> list[dict[str, Any]]:
    return [e for e in outbox_events("tokens.debited") if e["data"]["user_id"] == user_id]


@pytest.fixture
def holder(api) -> Buyer:
    """A user with 100 tokens (one paid "100 Tokens" bundle)."""
    return token_holder(api, "consume")


# --- success ---------------------------------------------------------------------------------------------------


def test_consuming_debits_the_balance_and_writes_a_usage_entry(api, holder):
    body = ok(api, holder, {"amount": 30, "reference": "job-42"})
    assert set(body) == {"balance", "transaction"}
    entry = body["transaction"]
    assert body == {
        "balance": 70,
        "transaction": {
            "id": entry["id"],
            "user_id": holder.user_id,
            "amount": -30,
            "transaction_type": "USAGE",
            "reference_id": None,
            "reference": "job-42",
            "description": "Token usage",
            "balance_after": 70,
            "created_at": entry["created_at"],
        },
    }
    assert balance_of(api, holder.token) == 70
    assert ledger_of(api, holder.token)[0] == entry


def test_the_entry_time_is_the_clock_time(api, manual_clock):
    holder = token_holder(api, "consume")
    entry = ok(api, holder, {"amount": 1})["transaction"]
    assert entry["created_at"] == "2026-05-01T09:00:00Z"
    manual_clock.advance(timedelta(seconds=1, microseconds=250000))
    assert ok(api, holder, {"amount": 1})["transaction"]["created_at"] == "2026-05-01T09:00:01.250000Z"


def test_description_and_reference_are_optional(api, holder):
    plain = ok(api, holder, {"amount": 1})["transaction"]
    assert (plain["description"], plain["reference"]) == ("Token usage", None)
    nulls = ok(api, holder, {"amount": 1, "description": None, "reference": None})["transaction"]
    assert (nulls["description"], nulls["reference"]) == ("Token usage", None)
    named = ok(api, holder, {"amount": 1, "description": "Image render 4K"})["transaction"]
    assert named["description"] == "Image render 4K"
    assert ok(api, holder, {"amount": 1, "description": ""})["transaction"]["description"] == ""
    assert balance_of(api, holder.token) == 96


def test_the_limits_themselves_are_accepted(api, holder):
    body = ok(api, holder, {"amount": 1, "description": "d" * 255, "reference": "r" * 255})
    assert body["transaction"]["description"] == "d" * 255
    assert body["transaction"]["reference"] == "r" * 255
    assert ok(api, holder, {"amount": 1, "reference": "x"})["transaction"]["reference"] == "x"
    everything = ok(api, holder, {"amount": 98})
    assert everything["balance"] == 0
    assert everything["transaction"]["balance_after"] == 0


def test_consuming_emits_tokens_debited(api, holder):
    body = ok(api, holder, {"amount": 12, "reference": "evt-1"})
    [event] = debited_events(holder.user_id)
    assert event["type"] == "tokens.debited"
    assert event["source"] == "vbwd.tokens"
    assert event["actor"] == {"type": "user", "id": holder.user_id}
    assert event["occurred_at"] == body["transaction"]["created_at"]
    assert event["data"] == {
        "user_id": holder.user_id,
        "transaction_id": body["transaction"]["id"],
        "amount": -12,
        "balance_after": 88,
        "transaction_type": "USAGE",
        "reference_id": None,
        "reference": "evt-1",
        "shortfall": 0,
    }


# --- validation ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "amount is required"),
        ({"amount": None}, "amount is required"),
        ({"description": "x"}, "amount is required"),
        ({"amount": 0}, "amount must be a positive integer"),
        ({"amount": -1}, "amount must be a positive integer"),
        ({"amount": 1.5}, "amount must be a positive integer"),
        ({"amount": 2.0}, "amount must be a positive integer"),
        ({"amount": "5"}, "amount must be a positive integer"),
        ({"amount": True}, "amount must be a positive integer"),
        ({"amount": False}, "amount must be a positive integer"),
        ({"amount": [5]}, "amount must be a positive integer"),
        ({"amount": 1_000_001}, "amount must not exceed 1000000"),
        ({"amount": 10**12}, "amount must not exceed 1000000"),
        ({"amount": 1, "description": "d" * 256}, "description must be at most 255 characters"),
        ({"amount": 1, "reference": ""}, "reference must be 1-255 characters"),
        ({"amount": 1, "reference": "r" * 256}, "reference must be 1-255 characters"),
    ],
)
def test_validation_messages(api, holder, body, error):
    answer = post(api, holder, body)
    assert answer.status == 400
    assert answer.json == {"error": error}
    assert balance_of(api, holder.token) == 100
    assert len(ledger_of(api, holder.token)) == 1


@pytest.mark.parametrize(
    ("body", "unknown"),
    [
        ({"amount": 1, "tokens": 5}, ["tokens"]),
        ({"amount": 1, "user_id": str(uuid.uuid4())}, ["user_id"]),
        ({"amount": 1, "balance": 1000, "transaction_type": "BONUS"}, ["balance", "transaction_type"]),
    ],
)
def test_unknown_fields_are_rejected(api, holder, body, unknown):
    answer = post(api, holder, body)
    assert answer.status == 400
    assert answer.json == {
        "error": "; ".join(f"{name}: Unknown field." for name in unknown),
        "fields": {name: ["Unknown field."] for name in unknown},
    }
    assert balance_of(api, holder.token) == 100


def test_malformed_bodies(api, holder):
    broken = api.request("POST", CONSUME, body="{amount: 1", token=holder.token, headers=JSON_HEADERS)
    assert (broken.status, broken.json) == (400, {"error": "Invalid JSON body"})
    for not_an_object in ([1], "5", 5, None):
        answer = api.request("POST", CONSUME, body=json.dumps(not_an_object), token=holder.token, headers=JSON_HEADERS)
        assert (answer.status, answer.json) == (400, {"error": "Request body must be a JSON object"})
    empty = api.request("POST", CONSUME, token=holder.token)
    assert (empty.status, empty.json) == (400, {"error": "amount is required"})
    text = api.request(
        "POST", CONSUME, body='{"amount": 1}', token=holder.token, headers={"Content-Type": "text/plain"}
    )
    assert (text.status, text.json) == (415, {"error": "Unsupported media type"})
    assert balance_of(api, holder.token) == 100


def test_consuming_needs_a_token(api):
    answer = api.post(CONSUME, {"amount": 1})
    assert answer.status == 401
    assert answer.json == NO_CREDENTIAL


# --- insufficient balance --------------------------------------------------------------------------------------


def test_a_user_without_tokens_gets_402(api):
    holder = register_buyer(api, "consume")
    answer = post(api, holder, {"amount": 1})
    assert answer.status == 402
    assert answer.json == {"error": "Insufficient token balance", "balance": 0}
    assert balance_of(api, holder.token) == 0
    assert ledger_of(api, holder.token) == []


def test_402_leaves_the_balance_and_the_reference_unused(api, holder):
    short = post(api, holder, {"amount": 101, "reference": "big-job"})
    assert short.status == 402
    assert short.json == {"error": "Insufficient token balance", "balance": 100}
    largest = post(api, holder, {"amount": 1_000_000, "reference": "big-job"})
    assert largest.status == 402
    assert largest.json == {"error": "Insufficient token balance", "balance": 100}
    assert balance_of(api, holder.token) == 100
    assert len(ledger_of(api, holder.token)) == 1
    assert debited_events(holder.user_id) == []
    # the reference was not taken: a later consumption with it (any amount) is a first one, not a replay or 409
    body = ok(api, holder, {"amount": 40, "reference": "big-job"})
    assert "replayed" not in body
    assert body["balance"] == 60
    assert body["transaction"]["reference"] == "big-job"


def test_the_whole_balance_can_be_consumed_but_not_one_more(api, holder):
    assert ok(api, holder, {"amount": 100})["balance"] == 0
    answer = post(api, holder, {"amount": 1})
    assert answer.status == 402
    assert answer.json == {"error": "Insufficient token balance", "balance": 0}


# --- references ------------------------------------------------------------------------------------------------


def test_a_repeated_reference_with_the_same_amount_replays(api, holder):
    first = ok(api, holder, {"amount": 5, "reference": "job-a"})
    ok(api, holder, {"amount": 3})  # the balance moves on in between
    again = ok(api, holder, {"amount": 5, "reference": "job-a"})
    assert again == {"balance": 92, "transaction": first["transaction"], "replayed": True}
    other_description = ok(api, holder, {"amount": 5, "reference": "job-a", "description": "something else"})
    assert other_description == {"balance": 92, "transaction": first["transaction"], "replayed": True}
    assert balance_of(api, holder.token) == 92
    assert [e["reference"] for e in ledger_of(api, holder.token) if e["transaction_type"] == "USAGE"] == [None, "job-a"]
    assert len(debited_events(holder.user_id)) == 2


def test_a_repeated_reference_with_another_amount_is_409(api, holder):
    ok(api, holder, {"amount": 5, "reference": "job-b"})
    answer = post(api, holder, {"amount": 6, "reference": "job-b"})
    assert answer.status == 409
    assert answer.json == REFERENCE_CONFLICT
    assert balance_of(api, holder.token) == 95
    assert len(ledger_of(api, holder.token)) == 2


def test_a_replay_does_not_need_the_balance_any_more(api, holder):
    first = ok(api, holder, {"amount": 100, "reference": "all-of-it"})
    assert first["balance"] == 0
    again = ok(api, holder, {"amount": 100, "reference": "all-of-it"})
    assert again == {"balance": 0, "transaction": first["transaction"], "replayed": True}


def test_references_are_per_user(api, holder):
    other = token_holder(api, "consume")
    ok(api, holder, {"amount": 5, "reference": "shared-ref"})
    body = ok(api, other, {"amount": 7, "reference": "shared-ref"})
    assert "replayed" not in body
    assert body["balance"] == 93
    assert body["transaction"]["user_id"] == other.user_id
    assert balance_of(api, holder.token) == 95


def test_references_are_case_sensitive(api, holder):
    ok(api, holder, {"amount": 1, "reference": "Job-C"})
    body = ok(api, holder, {"amount": 2, "reference": "job-c"})
    assert "replayed" not in body
    assert balance_of(api, holder.token) == 97


# --- Idempotency-Key -------------------------------------------------------------------------------------------


def test_an_idempotency_key_replays_the_first_answer(api, holder):
    key = {"Idempotency-Key": f"consume-{uuid.uuid4()}"}
    first = post(api, holder, {"amount": 10}, headers=key)
    assert first.status == 200
    assert "idempotent-replayed" not in first.headers
    second = post(api, holder, {"amount": 10}, headers=key)
    assert second.status == 200
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json == first.json
    assert balance_of(api, holder.token) == 90
    assert len([e for e in ledger_of(api, holder.token) if e["transaction_type"] == "USAGE"]) == 1
    assert len(debited_events(holder.user_id)) == 1
    mismatch = post(api, holder, {"amount": 11}, headers=key)
    assert mismatch.status == 422
    assert mismatch.json == {"error": "Idempotency key reused with different parameters"}
    assert balance_of(api, holder.token) == 90


def test_an_idempotency_key_is_scoped_to_the_user(api, holder):
    other = token_holder(api, "consume")
    key = {"Idempotency-Key": f"shared-{uuid.uuid4()}"}
    assert post(api, holder, {"amount": 10}, headers=key).json["balance"] == 90
    answer = post(api, other, {"amount": 10}, headers=key)
    assert answer.status == 200
    assert "idempotent-replayed" not in answer.headers
    assert answer.json["transaction"]["user_id"] == other.user_id
    assert balance_of(api, other.token) == 90


def test_a_402_answer_is_stored_under_its_key(api, holder):
    key = {"Idempotency-Key": f"short-{uuid.uuid4()}"}
    short = post(api, holder, {"amount": 150}, headers=key)
    assert (short.status, short.json) == (402, {"error": "Insufficient token balance", "balance": 100})
    buy_tokens(api, holder.token, "100 Tokens")
    replay = post(api, holder, {"amount": 150}, headers=key)
    assert replay.status == 402
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json == short.json
    assert balance_of(api, holder.token) == 200
    fresh = post(api, holder, {"amount": 150}, headers={"Idempotency-Key": f"again-{uuid.uuid4()}"})
    assert (fresh.status, fresh.json["balance"]) == (200, 50)


@pytest.mark.parametrize("key", ["k" * 256, "with space", "tab\tkey"])
def test_a_malformed_idempotency_key_is_400(api, holder, key):
    answer = post(api, holder, {"amount": 1}, headers={"Idempotency-Key": key})
    assert answer.status == 400
    assert answer.json == {"error": "Invalid Idempotency-Key"}
    assert balance_of(api, holder.token) == 100


# --- the ledger invariant --------------------------------------------------------------------------------------


def test_after_credits_and_debits_the_balance_is_the_sum_of_the_ledger(api):
    holder = token_holder(api, "consume")  # +100
    steps = [("consume", 30), ("consume", 70), ("buy", "500 Tokens"), ("consume", 1), ("consume", 499)]
    steps += [("buy", "100 Tokens"), ("consume", 7), ("short", 94), ("consume", 93)]
    expected = 100
    for step, value in steps:
        if step == "buy":
            buy_tokens(api, holder.token, str(value))
            expected += 100 if value == "100 Tokens" else 500
        elif step == "short":
            answer = post(api, holder, {"amount": value})
            assert answer.status == 402
            assert answer.json["balance"] == expected
        else:
            body = ok(api, holder, {"amount": value})
            expected -= int(value)
            assert body["balance"] == body["transaction"]["balance_after"] == expected
    entries = ledger_of(api, holder.token)
    assert balance_of(api, holder.token) == expected == 0
    assert sum(e["amount"] for e in entries) == expected
    assert entries[0]["balance_after"] == expected
    running = 0
    for entry in reversed(entries):
        running += entry["amount"]
        assert entry["balance_after"] == running >= 0
    assert [e["amount"] for e in reversed(entries)] == [100, -30, -70, 500, -1, -499, 100, -7, -93]
    usage = api.get(f"{TRANSACTIONS}?type=usage&limit=100", token=holder.token).json
    assert usage["total"] == 6
    assert sum(e["amount"] for e in usage["transactions"]) == -700
