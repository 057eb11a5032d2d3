"""Concurrent token consumption (contract subscriptions.md §11, §12.3; README §1.12).

Threads race real requests through the app; `atomic_dynamodb` makes each emulated DynamoDB call atomic, as the real
service is, so the races left are the application's own (read, then conditional write). Shared seeded account:
every test registers its own users.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.integration.buyers import balance_of, read, token_holder
from tests.integration.conftest import at_once, outbox_events

CONSUME = "/api/v1/user/tokens/consume"


def ledger(api, token: str) -> list[dict[str, Any]]:
    body = read(api, "/api/v1/user/tokens/transactions?limit=100", token)
    assert body["total"] == len(body["transactions"])
    return body["transactions"]  # type: ignore[no-any-return]


def test_fifty_concurrent_debits_of_three_from_one_hundred(api, atomic_dynamodb):
    holder = token_holder(api, "race")
    answers = at_once(50, lambda _: api.post(CONSUME, {"amount": 3}, token=holder.token))
    statuses = Counter(a.status for a in answers)
    assert statuses == {200: 33, 402: 17}
    assert all(a.json == {"error": "Insufficient token balance", "balance": 1} for a in answers if a.status == 402)
    succeeded = sorted((a.json for a in answers if a.status == 200), key=lambda b: -b["balance"])
    assert [b["balance"] for b in succeeded] == list(range(97, 0, -3))  # every intermediate balance exactly once
    assert all(b["balance"] == b["transaction"]["balance_after"] >= 0 for b in succeeded)
    assert balance_of(api, holder.token) == 1
    entries = ledger(api, holder.token)
    usage = [e for e in entries if e["transaction_type"] == "USAGE"]
    assert len(usage) == 33
    assert {e["amount"] for e in usage} == {-3}
    assert {e["id"] for e in usage} == {b["transaction"]["id"] for b in succeeded}
    assert sum(e["amount"] for e in entries) == 1 == entries[0]["balance_after"]
    running = 0
    for entry in reversed(entries):
        running += entry["amount"]
        assert entry["balance_after"] == running >= 0
    debited = [e for e in outbox_events("tokens.debited") if e["data"]["user_id"] == holder.user_id]
    assert len(debited) == 33


def test_twenty_concurrent_consumptions_with_one_reference_debit_once(api, atomic_dynamodb):
    holder = token_holder(api, "race")
    body = {"amount": 7, "reference": "render-job-1"}
    answers = at_once(20, lambda _: api.post(CONSUME, body, token=holder.token))
    assert [a.status for a in answers] == [200] * 20
    originals = [a.json for a in answers if "replayed" not in a.json]
    replays = [a.json for a in answers if "replayed" in a.json]
    assert len(originals) == 1
    assert len(replays) == 19
    [original] = originals
    assert original["balance"] == 93
    assert all(r["replayed"] is True and r["transaction"] == original["transaction"] for r in replays)
    assert all(r["balance"] == 93 for r in replays)
    assert balance_of(api, holder.token) == 93
    usage = [e for e in ledger(api, holder.token) if e["transaction_type"] == "USAGE"]
    assert usage == [original["transaction"]]
    debited = [e for e in outbox_events("tokens.debited") if e["data"]["user_id"] == holder.user_id]
    assert len(debited) == 1


def test_concurrent_references_with_different_amounts_debit_once(api, atomic_dynamodb):
    holder = token_holder(api, "race")
    answers = at_once(10, lambda i: api.post(CONSUME, {"amount": 1 + i % 2, "reference": "mixed"}, token=holder.token))
    winners = [a for a in answers if a.status == 200 and "replayed" not in a.json]
    assert len(winners) == 1
    amount = -winners[0].json["transaction"]["amount"]
    for index, answer in enumerate(answers):
        if 1 + index % 2 == amount:
            assert answer.status == 200
            assert answer.json["transaction"] == winners[0].json["transaction"]
        else:
            assert answer.status == 409
            assert answer.json == {"error": "Reference already used with a different amount"}
    assert balance_of(api, holder.token) == 100 - amount
