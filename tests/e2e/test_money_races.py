"""The money races of issue 6 over HTTP against the running `make run` stack.

Parallel requests of one user — consumes of one token each, pays of one invoice, checkouts with one
Idempotency-Key — must leave what DynamoDB promises: every success has its ledger entry, the balance is the start
minus the successes and the sum of the ledger (read through the API and straight from the stack's DynamoDB), an
invoice is captured once, and one key makes one invoice. On moto's server without serialized DynamoDB calls (the
stack before this issue) the consume race answered 200 more often than the ledger recorded.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.contract import TOKENS_100
from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e
PASSWORD = "E2e-Passw0rd!"
THREADS = 8
CONSUMES = 40
CONFLICT = {"error": "Concurrent modification, please retry"}
BUNDLE_CHECKOUT = {"token_bundle_ids": [TOKENS_100], "payment_method_code": "sandbox"}


def at_once(count: int, call: Callable[[int], requests.Response]) -> list[requests.Response]:
    """`call(0)` … `call(count - 1)` from THREADS threads; each request on its own connection."""
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(call, range(count)))


def register(stack: LocalStack, tag: str) -> tuple[str, dict[str, str]]:
    email = f"e2e.race.{tag}.{uuid.uuid4().hex[:8]}@example.com"
    answer = requests.post(stack.url("/api/v1/auth/register"), json={"email": email, "password": PASSWORD}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["user"]["id"], {"Authorization": f"Bearer {answer.json()['token']}"}


def checkout(stack: LocalStack, me: dict[str, str], key: str | None = None) -> requests.Response:
    headers = {**me, "Idempotency-Key": key} if key else me
    return requests.post(stack.url("/api/v1/user/checkout"), json=BUNDLE_CHECKOUT, headers=headers, timeout=60)


def pay(stack: LocalStack, me: dict[str, str], invoice_id: str) -> requests.Response:
    return requests.post(stack.url(f"/api/v1/user/invoices/{invoice_id}/pay"), json={}, headers=me, timeout=60)


def get(stack: LocalStack, me: dict[str, str], path: str) -> Any:
    answer = requests.get(stack.url(path), headers=me, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def stored_ledger(stack: LocalStack, user_id: str) -> tuple[int, list[dict[str, Any]], int]:
    """Straight from DynamoDB: the balance, the entries (oldest first) and how many consumption references exist."""
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {
        "TableName": "vbwd-local-ledger",
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": f"USER#{user_id}"}},
        "ConsistentRead": True,
    }
    client = stack.dynamodb()
    while True:
        page = client.query(**query)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    [balance] = [int(i["balance"]["N"]) for i in items if i["sk"]["S"] == "BALANCE"]
    entries = [
        {"amount": int(i["amount"]["N"]), "type": i["transaction_type"]["S"], "id": i["id"]["S"]}
        for i in items
        if i["sk"]["S"].startswith("ENTRY#")
    ]
    references = sum(1 for i in items if i["sk"]["S"].startswith("REF#"))
    return balance, entries, references


def stored_invoices(stack: LocalStack, user_id: str) -> list[dict[str, Any]]:
    return stack.dynamodb().query(  # type: ignore[no-any-return]
        TableName="vbwd-local-invoices",
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :user",
        ExpressionAttributeValues={":user": {"S": f"USER#{user_id}"}},
    )["Items"]


def stored_events(stack: LocalStack, event_type: str) -> list[dict[str, Any]]:
    """Every outbox event of one type (a test may Scan; request paths never do)."""
    envelopes: list[dict[str, Any]] = []
    for page in stack.dynamodb().get_paginator("scan").paginate(TableName="vbwd-local-outbox", ConsistentRead=True):
        for item in page["Items"]:
            envelopes += [e for e in json.loads(item["detail"]["S"]) if e["type"] == event_type]
    return envelopes


def test_forty_parallel_consumes_lose_and_invent_no_token(local_stack: LocalStack) -> None:
    user_id, me = register(local_stack, "consume")
    invoice = checkout(local_stack, me).json()["invoice"]
    assert pay(local_stack, me, invoice["id"]).status_code == 200
    start = get(local_stack, me, "/api/v1/user/tokens/balance")["balance"]
    assert start == 100

    consume = local_stack.url("/api/v1/user/tokens/consume")
    answers = at_once(
        CONSUMES,
        lambda i: requests.post(consume, json={"amount": 1, "reference": f"race-{i}"}, headers=me, timeout=60),
    )

    statuses = Counter(answer.status_code for answer in answers)
    print(f"consume race on {local_stack.engine}: {dict(statuses)}")
    assert set(statuses) <= {200, 409}, [(a.status_code, a.text) for a in answers if a.status_code not in (200, 409)]
    assert all(a.json() == CONFLICT for a in answers if a.status_code == 409)
    won = [a.json() for a in answers if a.status_code == 200]
    successes = len(won)
    assert successes >= 1

    balance = get(local_stack, me, "/api/v1/user/tokens/balance")["balance"]
    listed = get(local_stack, me, "/api/v1/user/tokens/transactions?limit=100")
    usage = [t for t in listed["transactions"] if t["transaction_type"] == "USAGE"]
    stored_balance, entries, references = stored_ledger(local_stack, user_id)
    stored_usage = [e for e in entries if e["type"] == "USAGE"]
    print(
        f"start {start}, {successes} answered 200, balance {balance}, {len(usage)} USAGE entries listed, "
        f"{len(stored_usage)} stored, ledger sum {sum(e['amount'] for e in entries)}"
    )
    assert balance == stored_balance == start - successes
    assert len(usage) == len(stored_usage) == references == successes
    assert listed["total"] == len(listed["transactions"]) == len(entries) == successes + 1
    assert sum(t["amount"] for t in listed["transactions"]) == sum(e["amount"] for e in entries) == balance
    assert {w["transaction"]["id"] for w in won} == {t["id"] for t in usage} == {e["id"] for e in stored_usage}
    assert sorted(w["balance"] for w in won) == list(range(start - successes, start))  # each balance exactly once


def test_parallel_pays_of_one_invoice_capture_it_once(local_stack: LocalStack) -> None:
    user_id, me = register(local_stack, "pay")
    invoice_id = checkout(local_stack, me).json()["invoice"]["id"]

    answers = at_once(THREADS, lambda _: pay(local_stack, me, invoice_id))

    statuses = Counter(answer.status_code for answer in answers)
    print(f"pay race on {local_stack.engine}: {dict(statuses)}")
    assert statuses[200] == 1, [(a.status_code, a.text) for a in answers]
    assert set(statuses) <= {200, 400, 409}
    for answer in answers:
        if answer.status_code == 400:
            assert answer.json() == {"error": "Invoice already paid"}
        elif answer.status_code == 409:
            assert answer.json() == {"error": "Payment already in progress for this invoice"}
    [winner] = [a.json() for a in answers if a.status_code == 200]
    invoice = get(local_stack, me, f"/api/v1/user/invoices/{invoice_id}")["invoice"]
    assert (invoice["status"], invoice["payment_ref"]) == ("PAID", winner["payment"]["reference"])
    assert get(local_stack, me, "/api/v1/user/tokens/balance") == {"balance": 100}
    balance, entries, _ = stored_ledger(local_stack, user_id)
    assert (balance, [(e["type"], e["amount"]) for e in entries]) == (100, [("PURCHASE", 100)])
    assert (
        len([e for e in stored_events(local_stack, "payment.captured") if e["data"]["invoice_id"] == invoice_id]) == 1
    )
    assert len([e for e in stored_events(local_stack, "invoice.paid") if e["data"]["invoice_id"] == invoice_id]) == 1
    assert len([e for e in stored_events(local_stack, "tokens.credited") if e["data"]["user_id"] == user_id]) == 1


def test_parallel_checkouts_with_one_idempotency_key_make_one_invoice(local_stack: LocalStack) -> None:
    user_id, me = register(local_stack, "checkout")
    key = f"e2e-race-{uuid.uuid4()}"

    answers = at_once(THREADS, lambda _: checkout(local_stack, me, key))

    statuses = Counter(answer.status_code for answer in answers)
    print(f"idempotent checkout race on {local_stack.engine}: {dict(statuses)}")
    assert statuses[201] >= 1, [(a.status_code, a.text) for a in answers]
    assert set(statuses) <= {201, 409}
    in_progress = {"error": "A request with this Idempotency-Key is in progress"}
    assert all(a.json() == in_progress for a in answers if a.status_code == 409)
    created = [a for a in answers if a.status_code == 201]
    assert len({a.json()["invoice"]["id"] for a in created}) == 1
    assert sum(1 for a in created if a.headers.get("Idempotent-Replayed") != "true") == 1
    [invoice_id] = {a.json()["invoice"]["id"] for a in created}
    listed = get(local_stack, me, "/api/v1/user/invoices")
    assert [i["id"] for i in listed["invoices"]] == [invoice_id]
    assert [i["id"]["S"] for i in stored_invoices(local_stack, user_id)] == [invoice_id]
    assert [
        e["data"]["invoice_id"]
        for e in stored_events(local_stack, "invoice.created")
        if e["data"]["user_id"] == user_id
    ] == [invoice_id]
