"""What moto lets pass and DynamoDB refuses: transactions that are too large or touch one item twice, and requests
racing for one Idempotency-Key. Run against DynamoDB Local, whose transaction engine enforces both."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from chalice.test import Client

from chalicelib.core.ids import seed_id
from chalicelib.events.envelope import Actor
from chalicelib.invoices.repository import invoice_records, invoices_of
from chalicelib.payments.capture import capture
from chalicelib.payments.outcomes import Payment
from chalicelib.subscriptions.repository import holdings_of
from tests.contract import BASIC, ENTERPRISE, ENTERPRISE_ADD_ON_SLUGS, FREE, PASSWORD, TOKENS_100
from tests.ddblocal.test_money_races import buy, ledger_of, new_customer
from tests.integration.conftest import Api, at_once

ENTERPRISE_ADD_ONS = [seed_id("addon", slug) for slug in ENTERPRISE_ADD_ON_SLUGS]

pytestmark = pytest.mark.usefixtures("ddb_stack")


def test_the_largest_basket_checks_out_and_captures_in_one_transaction_each() -> None:
    """A plan, every add-on it allows and 20 bundles: the checkout and the capture each stay one transaction inside
    DynamoDB's limits (100 items, no item twice), and everything bought is delivered once."""
    buyer = new_customer()
    basket = {"plan_id": ENTERPRISE, "add_on_ids": ENTERPRISE_ADD_ONS, "token_bundle_ids": [TOKENS_100] * 20}

    invoice = buy(buyer, **basket)["invoice"]
    assert len(invoice["line_items"]) == 1 + 6 + 20
    capture(invoice["id"], Payment("sandbox", "sandbox_largest"), Actor("provider", "sandbox"))

    records = invoice_records(invoice["id"])
    assert records is not None and records.invoice.status == "PAID"
    assert [p.status for p in records.purchases] == ["COMPLETED"] * 20
    [subscription], add_ons = holdings_of(buyer.user_id)
    assert subscription.status == "ACTIVE"
    assert sorted(a.addon_id for a in add_ons) == sorted(ENTERPRISE_ADD_ONS)
    assert {a.status for a in add_ons} == {"ACTIVE"}
    balance, entries = ledger_of(buyer.user_id)
    assert balance == 1000 + 20 * 100 == sum(e.amount for e in entries)
    assert len(entries) == 21


def test_a_zero_total_checkout_is_created_and_captured_in_one_transaction() -> None:
    """The invoice is written already PAID, never created and updated in one transaction (DynamoDB refuses two
    operations on one item)."""
    buyer = new_customer()
    answer = buy(buyer, plan_id=FREE)
    assert answer["invoice"]["status"] == "PAID"
    [invoice] = invoices_of(buyer.user_id)
    assert (invoice.status, invoice.total_amount) == ("PAID", 0)
    [subscription], _ = holdings_of(buyer.user_id)
    assert subscription.status == "ACTIVE"


def test_requests_racing_for_one_idempotency_key_check_out_once() -> None:
    from app import app

    buyer = new_customer()
    key = f"race-{uuid.uuid4()}"
    with Client(app) as client:
        api = Api(client)
        token = api.token(buyer.user.email, PASSWORD)

        def attempt(_: int) -> tuple[int, str | None, str | None]:
            answer = api.post(
                "/api/v1/user/checkout",
                {"plan_id": BASIC},
                token=token,
                headers={"Idempotency-Key": key},
            )
            invoice_id = (answer.json.get("invoice") or {}).get("id")
            return answer.status, invoice_id, answer.json.get("error")

        results = at_once(10, attempt)

    statuses = Counter(status for status, _, _ in results)
    assert set(statuses) <= {201, 409}, results
    assert statuses[201] >= 1
    assert {error for status, _, error in results if status == 409} <= {
        "A request with this Idempotency-Key is in progress"
    }
    [invoice] = invoices_of(buyer.user_id)
    assert {invoice_id for status, invoice_id, _ in results if status == 201} == {invoice.id}
