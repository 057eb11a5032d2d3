"""A provider's webhook delivered many times at once, its consumer run many times at once, and the buyer's
session-status poll racing the webhook — on DynamoDB's real transaction engine, with the real Stripe SDK against
the local emulator (checkout-and-payments.md §6.2, §9): the invoice is captured exactly once, the webhook stored
once, and every answer is a result, never a crash."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.core.config import reload_settings
from chalicelib.invoices.repository import invoice_records
from chalicelib.payments import inbox, repository, sessions
from chalicelib.payments.hosted import ReturnUrls
from infra.emulators.providers import STRIPE_KEYS, environment
from infra.emulators.stripe import StripeEmulator
from tests.contract import BASIC
from tests.ddblocal.test_money_races import buy, ledger_of, new_customer
from tests.ddblocal.test_pay_races import racing

pytestmark = pytest.mark.usefixtures("ddb_stack")
URLS = ReturnUrls(
    "http://127.0.0.1:9/pay/stripe/success?session_id={SESSION_ID}", "http://127.0.0.1:9/pay/stripe/cancel"
)


@pytest.fixture(scope="module")
def stripe() -> Iterator[StripeEmulator]:
    emulator = StripeEmulator(secret_key=STRIPE_KEYS["secret_key"], webhook_secret=STRIPE_KEYS["webhook_secret"])
    emulator.start()
    variables = environment("stripe", emulator.base_url)
    os.environ.update(variables)
    reload_settings()
    try:
        yield emulator
    finally:
        for name in variables:
            os.environ.pop(name, None)
        reload_settings()
        emulator.stop()


def paid_session(stripe: StripeEmulator) -> tuple[Any, str, Any]:
    """A buyer's Basic invoice, its Stripe session paid on the hosted page; the webhook Stripe would send."""
    buyer = new_customer()
    invoice_id = buy(buyer, plan_id=BASIC, payment_method_code="stripe")["invoice"]["id"]
    records = invoice_records(invoice_id)
    assert records is not None
    session = sessions.open_session("stripe", records.invoice, URLS, None)
    stripe.pay_session(session.session_id)
    delivery = [d for d in stripe.pending() if session.session_id.encode() in d.body][-1]
    return buyer, invoice_id, delivery


def task(delivery: Any) -> dict[str, Any]:
    import json

    event_id = json.loads(delivery.body)["id"]
    return {"data": {"provider": "stripe", "event_id": event_id}}


def test_one_webhook_delivered_and_consumed_many_times_at_once_captures_once(stripe: StripeEmulator) -> None:
    buyer, invoice_id, delivery = paid_session(stripe)
    headers = {k.lower(): v for k, v in delivery.headers.items()}

    received = racing([lambda: inbox.receive("stripe", headers, delivery.body, "127.0.0.1") for _ in range(8)])
    assert all(r == {"received": True} for r in received), received
    handled = racing([lambda: inbox.handle(task(delivery)) for _ in range(8)])
    assert not [r for r in handled if isinstance(r, str)], handled

    records = invoice_records(invoice_id)
    assert records is not None
    invoice = records.invoice
    assert (invoice.status, int(invoice.capture_count)) == ("PAID", 1)
    stored = repository.stored_webhook("stripe", task(delivery)["data"]["event_id"])
    assert stored is not None and stored.status == "PROCESSED"
    balance, entries = ledger_of(buyer.user_id)
    assert balance == sum(int(e.amount) for e in entries)


def test_the_status_poll_racing_the_webhook_captures_once(stripe: StripeEmulator) -> None:
    buyer, invoice_id, delivery = paid_session(stripe)
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    inbox.receive("stripe", headers, delivery.body, "127.0.0.1")
    records = invoice_records(invoice_id)
    assert records is not None
    session_id = str(records.invoice.provider_session_id)
    calls = [lambda: inbox.handle(task(delivery))] * 4 + [
        lambda: sessions.session_status(buyer, "stripe", session_id)
    ] * 4
    results = racing(calls)
    assert not [r for r in results if isinstance(r, str)], results
    polled = [r for r in results if isinstance(r, dict)]
    assert all(r["status"] == "paid" and r["invoice_status"] == "PAID" for r in polled), polled

    after = invoice_records(invoice_id)
    assert after is not None and (after.invoice.status, int(after.invoice.capture_count)) == ("PAID", 1)
