"""POST /api/v1/user/invoices/<id>/pay with the sandbox provider (checkout-and-payments.md §5.4, §6, §10.2).

A successful sandbox payment captures at once: the invoice is PAID and every line is activated in the same
request (subscriptions.md §3, §5, §11), the capture events are written (events.md §2.2–§2.4) and a receipt with
the invoice PDF is mailed once the worker runs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from chalicelib.core.clock import ManualClock
from chalicelib.invoices.repository import load_invoice
from tests.contract import BASIC, UUID_PATTERN
from tests.integration.buyers import buy_basic_and_tokens, events_about, german_buyer, pay, relogin
from tests.integration.conftest import Api, drain_events, sent_mail


def checkout(api: Api, token: str, **body: Any) -> dict[str, Any]:
    """Basic and 100 tokens, paid with the sandbox unless `body` names another method."""
    return buy_basic_and_tokens(api, token, **{"payment_method_code": "sandbox", **body})


def test_a_sandbox_payment_captures_at_once_and_answers_the_paid_invoice(api: Api, manual_clock: ManualClock) -> None:
    token = german_buyer(api, "captured").token
    bought = checkout(api, token)
    invoice = bought["invoice"]
    manual_clock.set(datetime(2026, 5, 1, 9, 10, 30, tzinfo=UTC))

    answer = pay(api, token, invoice["id"])

    assert answer.status == 200, answer.json
    assert set(answer.json) == {"invoice", "message", "payment"}
    assert answer.json["message"] == "Payment successful"
    payment = answer.json["payment"]
    assert set(payment) == {"provider", "status", "reference"}
    assert payment["provider"] == "sandbox" and payment["status"] == "captured"
    assert re.fullmatch(f"sandbox_{UUID_PATTERN}", payment["reference"])
    paid = answer.json["invoice"]
    assert paid["id"] == invoice["id"] and paid["invoice_number"] == invoice["invoice_number"]
    assert paid["status"] == "PAID"
    assert paid["paid_at"] == "2026-05-01T09:10:30Z"
    assert paid["payment_ref"] == payment["reference"]
    assert paid["payment_method"] == "sandbox"
    assert paid["is_payable"] is False and paid["is_capturable"] is False
    assert (paid["subtotal"], paid["tax_amount"], paid["total_amount"], paid["amount"]) == (
        "12.99",
        "2.47",
        "15.46",
        "15.46",
    )
    assert paid["amount_refunded"] == "0.00" and paid["credit_notes"] == []
    # The stored invoice reads back the same.
    stored = api.get(f"/api/v1/user/invoices/{invoice['id']}", token=token).json["invoice"]
    assert stored == paid


def test_the_subscription_becomes_active_for_one_calendar_month_from_payment(
    api: Api, manual_clock: ManualClock
) -> None:
    manual_clock.set(datetime(2026, 1, 20, 8, 0, tzinfo=UTC))
    shopper = german_buyer(api, "month-end")
    token = shopper.token
    bought = checkout(api, token)
    manual_clock.set(datetime(2026, 1, 31, 10, 0, tzinfo=UTC))
    token = relogin(api, shopper).token  # the first access token lapsed while the clock moved

    answer = pay(api, token, bought["invoice"]["id"])

    assert answer.status == 200, answer.json
    sub = api.get(f"/api/v1/user/subscriptions/{bought['subscription']['id']}", token=token).json["subscription"]
    assert sub["status"] == "ACTIVE"
    assert sub["started_at"] == "2026-01-31T10:00:00Z"
    assert sub["current_period_start"] == "2026-01-31T10:00:00Z"
    assert sub["expires_at"] == "2026-02-28T10:00:00Z"
    assert sub["is_valid"] is True and sub["days_remaining"] == 28
    assert sub["has_saved_payment_method"] is True
    assert sub["payment_method_code"] == "sandbox"
    assert sub["pending_invoice_id"] is None
    assert sub["plan"]["slug"] == "basic"


def test_plan_and_bundle_tokens_are_credited_with_two_ledger_entries(api: Api) -> None:
    token = german_buyer(api, "tokens").token
    bought = checkout(api, token)
    subscription_id = bought["subscription"]["id"]
    [purchase] = bought["token_bundles"]
    assert api.get("/api/v1/user/tokens/balance", token=token).json == {"balance": 0}

    assert pay(api, token, bought["invoice"]["id"]).status == 200

    assert api.get("/api/v1/user/tokens/balance", token=token).json == {"balance": 150}
    ledger = api.get("/api/v1/user/tokens/transactions", token=token).json
    assert ledger["total"] == 2
    by_type = {t["transaction_type"]: t for t in ledger["transactions"]}
    assert set(by_type) == {"SUBSCRIPTION", "PURCHASE"}
    plan_entry, bundle_entry = by_type["SUBSCRIPTION"], by_type["PURCHASE"]
    assert (plan_entry["amount"], plan_entry["description"], plan_entry["reference_id"]) == (
        50,
        "Plan tokens: Basic",
        subscription_id,
    )
    assert (bundle_entry["amount"], bundle_entry["description"], bundle_entry["reference_id"]) == (
        100,
        "Token bundle purchase: 100 tokens",
        purchase["id"],
    )
    # Plan tokens first (subscriptions activate before the other lines), then the bundle.
    assert plan_entry["balance_after"] == 50 and bundle_entry["balance_after"] == 150
    loaded = load_invoice(bought["invoice"]["id"])
    assert loaded is not None
    [stored_purchase] = loaded[1]
    assert stored_purchase.status == "COMPLETED" and stored_purchase.tokens_credited is True
    assert stored_purchase.completed_at is not None


def test_the_capture_writes_its_events_with_the_contract_payloads(api: Api, manual_clock: ManualClock) -> None:
    shopper = german_buyer(api, "events")
    email, token = shopper.email, shopper.token
    bought = checkout(api, token)
    invoice_id, subscription_id = bought["invoice"]["id"], bought["subscription"]["id"]
    [purchase] = bought["token_bundles"]
    user_id = bought["invoice"]["user_id"]

    answer = pay(api, token, invoice_id)
    reference = answer.json["payment"]["reference"]

    [captured] = events_about("payment.captured", "invoice_id", invoice_id)
    assert captured["source"] == "vbwd.billing"
    assert captured["actor"] == {"type": "provider", "id": "sandbox"}
    assert captured["data"] == {
        "invoice_id": invoice_id,
        "payment_reference": reference,
        "amount": "15.46",
        "currency": "EUR",
        "provider": "sandbox",
        "transaction_id": reference,
    }
    [paid] = events_about("invoice.paid", "invoice_id", invoice_id)
    assert paid["data"] == {
        "invoice_id": invoice_id,
        "invoice_number": bought["invoice"]["invoice_number"],
        "user_id": user_id,
        "user_email": email,
        "user_name": paid["data"]["user_name"],
        "amount": "15.46",
        "currency": "EUR",
        "paid_at": "2026-05-01T09:00:00Z",
        "paid_date": "2026-05-01",
        "payment_reference": reference,
        "provider": "sandbox",
        "invoice_url": f"/invoices/{invoice_id}",
    }
    [activated] = events_about("subscription.activated", "subscription_id", subscription_id)
    assert activated["source"] == "vbwd.subscriptions"
    assert activated["data"] == {
        "subscription_id": subscription_id,
        "user_id": user_id,
        "plan_id": BASIC,
        "plan_slug": "basic",
        "plan_name": "Basic",
        "status": "ACTIVE",
        "started_at": "2026-05-01T09:00:00Z",
        "expires_at": "2026-06-01T09:00:00Z",
    }
    credited = events_about("tokens.credited", "user_id", user_id)
    assert len(credited) == 2
    assert all(e["source"] == "vbwd.tokens" for e in credited)
    ledger = {t["id"]: t for t in api.get("/api/v1/user/tokens/transactions", token=token).json["transactions"]}
    assert sorted(
        (e["data"]["transaction_type"], e["data"]["amount"], e["data"]["balance_after"]) for e in credited
    ) == [
        ("PURCHASE", 100, 150),
        ("SUBSCRIPTION", 50, 50),
    ]
    assert {e["data"]["reference_id"] for e in credited} == {subscription_id, purchase["id"]}
    assert {e["data"]["transaction_id"] for e in credited} == set(ledger)


def test_a_receipt_with_the_invoice_pdf_is_mailed_to_the_buyer(api: Api) -> None:
    shopper = german_buyer(api, "receipt")
    email, token = shopper.email, shopper.token
    bought = checkout(api, token)
    number = bought["invoice"]["invoice_number"]
    assert pay(api, token, bought["invoice"]["id"]).status == 200

    drain_events()

    receipts = [m for m in sent_mail() if m["subject"] == f"Receipt for invoice {number}"]
    assert len(receipts) == 1
    [receipt] = receipts
    assert set(receipt["to"]) == {email}
    assert number in receipt["body"] and "15.46 EUR" in receipt["body"]
    assert list(receipt["attachments"]) == [f"invoice-{number}.pdf"]
    assert receipt["attachments"][f"invoice-{number}.pdf"].startswith(b"%PDF")
    # A sandbox invoice gets no "Invoice <number>" mail: only bank-transfer invoices are mailed at checkout.
    assert [m for m in sent_mail() if m["subject"] == f"Invoice {number}"] == []


def test_sandbox_outcome_authorize_leaves_the_invoice_authorized_and_activates_nothing(api: Api) -> None:
    token = german_buyer(api, "authorize").token
    bought = checkout(api, token)
    invoice_id = bought["invoice"]["id"]

    answer = pay(api, token, invoice_id, {"sandbox_outcome": "authorize"})

    assert answer.status == 200, answer.json
    assert answer.json["message"] == "Payment authorized"
    payment = answer.json["payment"]
    assert payment["provider"] == "sandbox" and payment["status"] == "authorized"
    invoice = answer.json["invoice"]
    assert invoice["status"] == "AUTHORIZED"
    assert invoice["payment_intent_id"] and invoice["payment_intent_id"] == payment["reference"]
    assert invoice["payment_method"] == "sandbox"
    assert invoice["paid_at"] is None and invoice["payment_ref"] is None
    assert invoice["is_payable"] is False and invoice["is_capturable"] is True
    sub = api.get(f"/api/v1/user/subscriptions/{bought['subscription']['id']}", token=token).json["subscription"]
    assert sub["status"] == "PENDING" and sub["expires_at"] is None
    assert api.get("/api/v1/user/tokens/balance", token=token).json == {"balance": 0}
    assert api.get("/api/v1/user/tokens/transactions", token=token).json["total"] == 0
    [authorized] = events_about("invoice.authorized", "invoice_id", invoice_id)
    assert authorized["data"]["payment_intent_id"] == payment["reference"]
    assert authorized["data"]["amount"] == "15.46" and authorized["data"]["provider"] == "sandbox"
    assert events_about("invoice.paid", "invoice_id", invoice_id) == []
    assert events_about("subscription.activated", "subscription_id", bought["subscription"]["id"]) == []


def test_sandbox_outcome_fail_answers_402_and_keeps_the_invoice_pending(api: Api) -> None:
    token = german_buyer(api, "declined").token
    bought = checkout(api, token)
    invoice_id = bought["invoice"]["id"]

    answer = pay(api, token, invoice_id, {"sandbox_outcome": "fail"})

    assert answer.status == 402, answer.json
    assert set(answer.json) == {"error", "invoice", "payment"}
    assert answer.json["error"] == "Payment failed"
    assert answer.json["payment"] == {"provider": "sandbox", "status": "failed", "error_code": "card_declined"}
    assert answer.json["invoice"]["id"] == invoice_id
    assert answer.json["invoice"]["status"] == "PENDING"
    assert answer.json["invoice"]["paid_at"] is None and answer.json["invoice"]["is_payable"] is True
    [failed] = events_about("invoice.payment_failed", "invoice_id", invoice_id)
    assert failed["data"] == {
        "invoice_id": invoice_id,
        "invoice_number": bought["invoice"]["invoice_number"],
        "user_id": bought["invoice"]["user_id"],
        "provider": "sandbox",
        "error_code": "card_declined",
        "error_message": failed["data"]["error_message"],
        "attempt": 1,
    }
    assert api.get("/api/v1/user/tokens/balance", token=token).json == {"balance": 0}
    # The invoice can still be paid after a decline.
    assert pay(api, token, invoice_id).status == 200


def test_an_unknown_sandbox_outcome_is_refused(api: Api) -> None:
    token = german_buyer(api, "bad-outcome").token
    bought = checkout(api, token)

    answer = pay(api, token, bought["invoice"]["id"], {"sandbox_outcome": "explode"})

    assert answer.status == 400
    assert answer.json == {"error": "Invalid sandbox_outcome: explode"}
    assert api.get(f"/api/v1/user/invoices/{bought['invoice']['id']}", token=token).json["invoice"]["status"] == (
        "PENDING"
    )


def test_an_explicit_succeed_outcome_captures(api: Api) -> None:
    token = german_buyer(api, "succeed").token
    bought = checkout(api, token)

    answer = pay(api, token, bought["invoice"]["id"], {"sandbox_outcome": "succeed"})

    assert answer.status == 200 and answer.json["invoice"]["status"] == "PAID"
