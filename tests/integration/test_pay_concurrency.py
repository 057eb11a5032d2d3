"""Concurrent pays of one invoice: exactly one captures (checkout-and-payments.md §5.4, §6.2, README §1.12)."""

from __future__ import annotations

from collections import Counter

from tests.integration.buyers import basket, buy_basic_and_tokens, checkout, german_buyer
from tests.integration.conftest import Api, at_once, outbox_events

THREADS = 20


def test_twenty_concurrent_pays_capture_once(fresh_api: Api, atomic_dynamodb: None) -> None:
    token = german_buyer(fresh_api, "racer").token
    bought = buy_basic_and_tokens(fresh_api, token, payment_method_code="sandbox")
    invoice_id, subscription_id = bought["invoice"]["id"], bought["subscription"]["id"]

    answers = at_once(THREADS, lambda _: fresh_api.post(f"/api/v1/user/invoices/{invoice_id}/pay", {}, token=token))

    statuses = Counter(a.status for a in answers)
    assert statuses[200] == 1, [(a.status, a.json) for a in answers]
    assert set(statuses) <= {200, 400, 409}
    for answer in answers:
        if answer.status == 400:
            assert answer.json == {"error": "Invoice already paid"}
        elif answer.status == 409:
            assert answer.json == {"error": "Payment already in progress for this invoice"}
    [winner] = [a for a in answers if a.status == 200]
    invoice = fresh_api.get(f"/api/v1/user/invoices/{invoice_id}", token=token).json["invoice"]
    assert invoice["status"] == "PAID" and invoice["payment_ref"] == winner.json["payment"]["reference"]
    assert fresh_api.get("/api/v1/user/tokens/balance", token=token).json == {"balance": 150}
    ledger = fresh_api.get("/api/v1/user/tokens/transactions", token=token).json
    assert ledger["total"] == 2
    assert sorted((t["transaction_type"], t["amount"]) for t in ledger["transactions"]) == [
        ("PURCHASE", 100),
        ("SUBSCRIPTION", 50),
    ]
    assert (
        len([e for e in outbox_events("subscription.activated") if e["data"]["subscription_id"] == subscription_id])
        == 1
    )
    assert len([e for e in outbox_events("payment.captured") if e["data"]["invoice_id"] == invoice_id]) == 1
    assert len([e for e in outbox_events("invoice.paid") if e["data"]["invoice_id"] == invoice_id]) == 1
    user_id = bought["invoice"]["user_id"]
    assert len([e for e in outbox_events("tokens.credited") if e["data"]["user_id"] == user_id]) == 2


def test_concurrent_pays_of_two_invoices_of_one_buyer_both_capture(fresh_api: Api, atomic_dynamodb: None) -> None:
    """Both captures credit the same balance: neither update is lost."""
    token = german_buyer(fresh_api, "two").token
    first = buy_basic_and_tokens(fresh_api, token, payment_method_code="sandbox")["invoice"]["id"]
    second = checkout(fresh_api, token, basket(bundles=("100 Tokens",)))["invoice"]["id"]
    invoices = [first, second] * 5

    answers = at_once(10, lambda i: fresh_api.post(f"/api/v1/user/invoices/{invoices[i]}/pay", {}, token=token))

    assert Counter(a.status for a in answers)[200] == 2, [(a.status, a.json) for a in answers]
    assert {a.json["invoice"]["id"] for a in answers if a.status == 200} == {first, second}
    assert fresh_api.get("/api/v1/user/tokens/balance", token=token).json == {"balance": 250}
    ledger = fresh_api.get("/api/v1/user/tokens/transactions", token=token).json["transactions"]
    assert sorted(t["balance_after"] for t in ledger) == sorted({t["balance_after"] for t in ledger})
    assert max(t["balance_after"] for t in ledger) == 250
