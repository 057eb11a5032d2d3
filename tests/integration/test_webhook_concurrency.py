"""Concurrent deliveries of one payment notification capture once (checkout-and-payments.md §6.2, §8.1)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from tests.integration.buyers import buy_basic_and_tokens, deliver, german_buyer, notification
from tests.integration.conftest import Answer, Api, at_once, outbox_events

THREADS = 10


def pending_invoice(api: Api) -> tuple[str, dict[str, Any]]:
    token = german_buyer(api, "bank").token
    return token, buy_basic_and_tokens(api, token)


def assert_captured_once(api: Api, token: str, bought: dict[str, Any], answers: list[Answer]) -> None:
    invoice_id = bought["invoice"]["id"]
    assert all(a.status == 200 for a in answers), [(a.status, a.json) for a in answers]
    assert {a.json["status"] for a in answers} == {"paid"}
    # One delivery captured; a duplicate repeats its body (`duplicate: true`), any other answer credited nothing.
    fresh = [a.json["items_activated"]["tokens_credited"] for a in answers if "duplicate" not in a.json]
    assert Counter(fresh) == Counter({150: 1, 0: len(fresh) - 1})
    assert api.get("/api/v1/user/tokens/balance", token=token).json == {"balance": 150}
    assert api.get("/api/v1/user/tokens/transactions", token=token).json["total"] == 2
    assert len([e for e in outbox_events("payment.captured") if e["data"]["invoice_id"] == invoice_id]) == 1
    activated = outbox_events("subscription.activated")
    assert len([e for e in activated if e["data"]["subscription_id"] == bought["subscription"]["id"]]) == 1
    invoice = api.get(f"/api/v1/user/invoices/{invoice_id}", token=token).json["invoice"]
    assert invoice["status"] == "PAID" and invoice["payment_ref"] == "BANK-RACE-1"


def test_ten_concurrent_deliveries_of_one_event_capture_once(fresh_api: Api, atomic_dynamodb: None) -> None:
    token, bought = pending_invoice(fresh_api)
    invoice = bought["invoice"]
    raw = json.dumps(notification(invoice, event_id="evt_race_1", payment_reference="BANK-RACE-1")).encode()

    answers = at_once(THREADS, lambda _: deliver(fresh_api, raw))

    assert_captured_once(fresh_api, token, bought, answers)
    [first] = [a for a in answers if "duplicate" not in a.json]
    for answer in answers:
        if answer is not first:
            assert answer.json == {**first.json, "duplicate": True}


def test_ten_concurrent_deliveries_without_an_event_id_capture_once(fresh_api: Api, atomic_dynamodb: None) -> None:
    token, bought = pending_invoice(fresh_api)
    invoice = bought["invoice"]
    raw = json.dumps(notification(invoice, event_id=None, payment_reference="BANK-RACE-1")).encode()

    answers = at_once(THREADS, lambda _: deliver(fresh_api, raw))

    assert_captured_once(fresh_api, token, bought, answers)


def test_deliveries_of_different_events_for_one_payment_capture_once(fresh_api: Api, atomic_dynamodb: None) -> None:
    token, bought = pending_invoice(fresh_api)
    invoice = bought["invoice"]

    def one(i: int) -> Answer:
        return deliver(fresh_api, notification(invoice, event_id=f"evt_race_{i}", payment_reference="BANK-RACE-1"))

    answers = at_once(THREADS, one)

    assert_captured_once(fresh_api, token, bought, answers)
