"""The money path over HTTP on the running `make run` stack (issue 3's definition of done)."""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime
from decimal import Decimal

import pytest
import requests
from dateutil.relativedelta import relativedelta

from chalicelib.core.ids import seed_id
from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e
PASSWORD = "E2e-Passw0rd!"


def register(stack: LocalStack, http: requests.Session, email: str) -> dict[str, str]:
    answer = http.post(stack.url("/api/v1/auth/register"), json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def notifications(stack: LocalStack) -> list[dict[str, str]]:
    return [
        {
            "to": i["to"]["S"],
            "subject": i["subject"]["S"],
            "template": i["template"]["S"],
            "attachments": [a["S"] for a in i.get("attachments", {}).get("L", [])],
        }
        for i in stack.notification_items()
    ]


def test_buy_pay_and_hold_over_http(local_stack: LocalStack, http: requests.Session) -> None:
    email = f"e2e.buyer.{uuid.uuid4().hex[:8]}@example.com"
    me = register(local_stack, http, email)
    details = http.put(local_stack.url("/api/v1/user/details"), json={"country": "DE"}, headers=me)
    assert details.status_code == 200

    checkout = http.post(
        local_stack.url("/api/v1/user/checkout"),
        json={
            "plan_id": seed_id("plan", "basic"),
            "token_bundle_ids": [seed_id("bundle", "100 Tokens")],
            "payment_method_code": "sandbox",
        },
        headers={**me, "Idempotency-Key": f"e2e-{uuid.uuid4()}"},
    )
    assert checkout.status_code == 201, checkout.text
    invoice = checkout.json()["invoice"]
    assert re.fullmatch(r"INV-\d{4}-\d{6}", invoice["invoice_number"])
    assert (invoice["currency"], invoice["tax_rate"], invoice["tax_code"]) == ("EUR", "19.00", "VAT_DE")
    assert Decimal(invoice["total_amount"]) == Decimal(invoice["subtotal"]) + Decimal(invoice["tax_amount"])
    assert (invoice["subtotal"], invoice["tax_amount"], invoice["total_amount"]) == ("12.99", "2.47", "15.46")

    paid = http.post(local_stack.url(f"/api/v1/user/invoices/{invoice['id']}/pay"), json={}, headers=me)
    assert paid.status_code == 200, paid.text
    assert paid.json()["invoice"]["status"] == "PAID"

    subscription = http.get(local_stack.url("/api/v1/user/subscriptions/active"), headers=me).json()["subscription"]
    started = datetime.fromisoformat(subscription["started_at"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(subscription["expires_at"].replace("Z", "+00:00"))
    assert subscription["status"] == "ACTIVE"
    assert expires == started + relativedelta(months=1)  # the same day next month (clamped at month end)

    assert http.get(local_stack.url("/api/v1/user/tokens/balance"), headers=me).json() == {"balance": 150}
    ledger = http.get(local_stack.url("/api/v1/user/tokens/transactions"), headers=me).json()
    assert ledger["total"] == 2
    assert sorted((t["transaction_type"], t["amount"]) for t in ledger["transactions"]) == [
        ("PURCHASE", 100),
        ("SUBSCRIPTION", 50),
    ]

    again = http.post(local_stack.url(f"/api/v1/user/invoices/{invoice['id']}/pay"), json={}, headers=me)
    assert (again.status_code, again.json()) == (400, {"error": "Invoice already paid"})

    stranger = register(local_stack, http, f"e2e.stranger.{uuid.uuid4().hex[:8]}@example.com")
    foreign = http.get(local_stack.url(f"/api/v1/user/invoices/{invoice['id']}"), headers=stranger)
    assert (foreign.status_code, foreign.json()) == (403, {"error": "Access denied"})

    receipt_subject = f"Receipt for invoice {invoice['invoice_number']}"
    deadline = time.monotonic() + 20
    receipts: list[dict[str, str]] = []
    while time.monotonic() < deadline and not receipts:
        receipts = [n for n in notifications(local_stack) if n["to"] == email and n["subject"] == receipt_subject]
        time.sleep(0.3)
    assert len(receipts) == 1
    assert receipts[0]["attachments"] == [f"invoice-{invoice['invoice_number']}.pdf"]
