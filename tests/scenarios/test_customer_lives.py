"""Customers' lives on a moving clock: given a start, move time, and assert every invoice line and every event.

Each scenario reads like a ledger: what was bought when, what each invoice line says, what the customer holds
after each step, and the domain events in the order they were written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.core import clock
from tests.contract import BASIC, EXTRA_STORAGE, FREE, PASSWORD, PRO, PROFESSIONAL, STARTER, TOKENS_100
from tests.integration.conftest import ADMIN, Api, drain_events, sent_mail


@pytest.fixture
def at() -> Any:
    """Set the system clock: `at("2026-01-31T10:00:00")`; returns the ManualClock."""
    manual = clock.ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    previous = clock.use_clock(manual)

    def move(moment: str) -> clock.ManualClock:
        manual.set(datetime.fromisoformat(moment).replace(tzinfo=UTC))
        return manual

    yield move
    clock.use_clock(previous)


class Customer:
    """A registered customer; `token` signs in at the clock's current time (access tokens live 15 minutes)."""

    def __init__(self, api: Api, email: str, country: str | None = None) -> None:
        self.api, self.email = api, email
        answer = api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD}).json
        self.id = answer["user_id"]
        if country:
            assert api.put("/api/v1/user/details", {"country": country}, token=answer["token"]).status == 200

    @property
    def token(self) -> str:
        return self.api.token(self.email, PASSWORD)


def lines(invoice: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    return [
        (line["item_type"], line["description"], line["net_amount"], line["tax_amount"], line["gross_amount"])
        for line in invoice["line_items"]
    ]


class EventLog:
    """The events written since the last look, in the order each transaction wrote them."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.new()  # what the seed wrote is not part of the story

    def new(self) -> list[str]:
        from chalicelib.store.outbox import OutboxItem

        batches = sorted((i for i in OutboxItem.scan() if i.batch_id not in self.seen), key=lambda i: i.created_at)
        self.seen.update(batch.batch_id for batch in batches)
        return [envelope["type"] for batch in batches for envelope in batch.envelopes]


def test_a_german_customer_buys_basic_and_tokens_at_month_end(fresh_api: Api, at: Any) -> None:
    log = EventLog()
    at("2026-01-31T10:00:00")
    ada = Customer(fresh_api, "ada@example.com", "DE")
    assert sorted(log.new()) == ["user.registered", "user.updated"]  # two requests in the same instant

    # Checkout: one subscription line and one bundle line, German VAT on each, totals are the sums.
    checkout = fresh_api.post(
        "/api/v1/user/checkout",
        {"plan_id": BASIC, "token_bundle_ids": [TOKENS_100], "payment_method_code": "sandbox"},
        token=ada.token,
    ).json
    invoice = checkout["invoice"]
    assert lines(invoice) == [
        ("SUBSCRIPTION", "Basic", "9.99", "1.90", "11.89"),
        ("TOKEN_BUNDLE", "100 Tokens", "3.00", "0.57", "3.57"),
    ]
    assert (invoice["subtotal"], invoice["tax_amount"], invoice["total_amount"]) == ("12.99", "2.47", "15.46")
    assert invoice["invoiced_at"] == "2026-01-31T10:00:00Z"
    assert invoice["due_date"] == "2026-03-02T10:00:00Z"  # 30 days (invoice_due_days)
    assert checkout["subscription"]["status"] == "PENDING"
    assert log.new() == ["invoice.created", "subscription.created"]

    # Paid two hours later: the month starts at payment and ends on the last day of February.
    at("2026-01-31T12:00:00")
    assert fresh_api.post(f"/api/v1/user/invoices/{invoice['id']}/pay", {}, token=ada.token).status == 200
    assert log.new() == [
        "payment.captured",
        "invoice.paid",
        "subscription.activated",
        "tokens.credited",
        "tokens.credited",
    ]
    subscription = fresh_api.get("/api/v1/user/subscriptions/active", token=ada.token).json["subscription"]
    assert (subscription["status"], subscription["started_at"], subscription["expires_at"]) == (
        "ACTIVE",
        "2026-01-31T12:00:00Z",
        "2026-02-28T12:00:00Z",
    )
    assert fresh_api.get("/api/v1/user/tokens/balance", token=ada.token).json == {"balance": 150}

    # Ten days later some tokens are used.
    at("2026-02-10T08:00:00")
    used = fresh_api.post("/api/v1/user/tokens/consume", {"amount": 30, "reference": "report-1"}, token=ada.token).json
    assert (used["balance"], used["transaction"]["balance_after"]) == (120, 120)
    assert log.new() == ["tokens.debited"]
    active = fresh_api.get("/api/v1/user/subscriptions/active", token=ada.token).json["subscription"]
    assert active["days_remaining"] == 18

    # An independent add-on, bought alone by bank transfer and marked paid by the admin a week later.
    at("2026-02-12T09:00:00")
    addon = fresh_api.post("/api/v1/user/checkout", {"add_on_ids": [EXTRA_STORAGE]}, token=ada.token).json
    assert addon["invoice"]["billing_reason"] == "PURCHASE" and addon["invoice"]["payment_method"] == "invoice"
    assert lines(addon["invoice"]) == [("ADD_ON", "Extra Storage 50 GB", "4.99", "0.95", "5.94")]
    assert log.new() == ["invoice.created"]
    drain_events()  # the worker mails the bank-transfer invoice within seconds
    at("2026-02-19T15:30:00")
    admin = fresh_api.token(*ADMIN)
    marked = fresh_api.post(f"/api/v1/admin/invoices/{addon['invoice']['id']}/mark-paid", {}, token=admin).json
    assert marked["items_activated"]["add_ons"] == [addon["add_ons"][0]["id"]]
    assert log.new() == ["payment.captured", "invoice.paid", "addon.activated"]
    [held] = fresh_api.get("/api/v1/user/addons", token=ada.token).json["addon_subscriptions"]
    assert (held["status"], held["starts_at"], held["expires_at"]) == (
        "ACTIVE",
        "2026-02-19T15:30:00Z",
        "2026-03-19T15:30:00Z",
    )

    history = fresh_api.get("/api/v1/user/tokens/transactions", token=ada.token).json["transactions"]
    assert [(t["transaction_type"], t["amount"], t["balance_after"]) for t in history] == [
        ("USAGE", -30, 120),
        ("PURCHASE", 100, 150),
        ("SUBSCRIPTION", 50, 50),
    ]
    drain_events()
    mails = [m for m in sent_mail() if set(m["to"]) == {"ada@example.com"}]
    assert [m["subject"] for m in mails] == [
        "Welcome to VBWD",
        f"Receipt for invoice {invoice['invoice_number']}",
        f"Invoice {addon['invoice']['invoice_number']}",
        f"Receipt for invoice {addon['invoice']['invoice_number']}",
    ]
    assert all(list(m["attachments"]) == [f"invoice-{m['subject'].split()[-1]}.pdf"] for m in mails[1:])


def test_a_trial_paid_early_keeps_its_trial_days(fresh_api: Api, at: Any) -> None:
    log = EventLog()
    at("2026-03-30T09:00:00")
    tess = Customer(fresh_api, "tess@example.com")
    assert log.new() == ["user.registered"]
    checkout = fresh_api.post(
        "/api/v1/user/checkout", {"plan_id": PRO, "payment_method_code": "sandbox"}, token=tess.token
    ).json
    assert checkout["trial_applied"] is True
    trial = checkout["subscription"]
    assert (trial["status"], trial["trial_end_at"], trial["expires_at"]) == (
        "TRIALING",
        "2026-04-02T09:00:00Z",
        "2026-04-02T09:00:00Z",
    )
    invoice = checkout["invoice"]
    assert invoice["due_date"] == "2026-04-02T09:00:00Z"
    assert lines(invoice) == [("SUBSCRIPTION", "Pro", "29.99", "0.00", "29.99")]
    assert invoice["line_items"][0]["metadata"]["trial_end_at"] == "2026-04-02T09:00:00Z"
    assert log.new() == ["invoice.created", "subscription.created", "subscription.trial_started"]
    assert fresh_api.get("/api/v1/user/tokens/balance", token=tess.token).json == {"balance": 0}  # not yet

    at("2026-03-31T18:00:00")
    assert fresh_api.post(f"/api/v1/user/invoices/{invoice['id']}/pay", {}, token=tess.token).status == 200
    assert log.new() == ["payment.captured", "invoice.paid", "subscription.activated", "tokens.credited"]
    paid = fresh_api.get("/api/v1/user/subscriptions/active", token=tess.token).json["subscription"]
    assert (paid["status"], paid["started_at"], paid["current_period_start"], paid["expires_at"]) == (
        "ACTIVE",
        "2026-03-30T09:00:00Z",
        "2026-04-02T09:00:00Z",
        "2026-05-02T09:00:00Z",
    )
    assert fresh_api.get("/api/v1/user/tokens/balance", token=tess.token).json == {"balance": 200}

    # A second trial is never granted: the next plan with trial days is bought without one.
    again = fresh_api.post("/api/v1/user/checkout", {"plan_id": STARTER}, token=tess.token).json
    assert (again["trial_applied"], again["subscription"]["status"]) == (False, "PENDING")
    assert log.new() == ["invoice.created", "subscription.created"]


def test_a_free_plan_on_a_leap_day_is_active_at_once(fresh_api: Api, at: Any) -> None:
    log = EventLog()
    at("2028-02-29T23:30:00")
    fred = Customer(fresh_api, "fred@example.com")
    log.new()
    answer = fresh_api.post("/api/v1/user/checkout", {"plan_id": FREE}, token=fred.token)
    assert answer.status == 201
    body = answer.json
    assert body["message"] == "Checkout complete. Free plan activated."
    assert (body["invoice"]["status"], body["invoice"]["payment_ref"], body["invoice"]["payment_method"]) == (
        "PAID",
        "zero-price",
        "none",
    )
    assert body["invoice"]["invoice_number"] == "INV-2028-000001"
    assert log.new() == [
        "invoice.created",
        "subscription.created",
        "payment.captured",
        "invoice.paid",
        "subscription.activated",
    ]
    sub = fresh_api.get("/api/v1/user/subscriptions/active", token=fred.token).json["subscription"]
    assert (sub["status"], sub["expires_at"]) == ("ACTIVE", "2028-03-29T23:30:00Z")


def test_a_trial_of_an_exclusive_plan_blocks_its_category_until_paid_and_beyond(fresh_api: Api, at: Any) -> None:
    at("2026-06-01T10:00:00")
    sam = Customer(fresh_api, "sam@example.com")
    starter = fresh_api.post("/api/v1/user/checkout", {"plan_id": STARTER}, token=sam.token).json
    assert starter["subscription"]["status"] == "TRIALING"
    refused = fresh_api.post("/api/v1/user/checkout", {"plan_id": PROFESSIONAL}, token=sam.token)
    assert refused.json["error"] == (
        "User already has an active subscription in category 'Subscription plans'. Please upgrade or downgrade instead."
    )
    at("2026-06-02T10:00:00")
    paid = fresh_api.post(
        f"/api/v1/user/invoices/{starter['invoice']['id']}/pay", {"payment_method_code": "sandbox"}, token=sam.token
    )
    assert paid.status == 200
    active = fresh_api.get("/api/v1/user/subscriptions/active", token=sam.token).json["subscription"]
    assert active["expires_at"] == "2026-07-15T10:00:00Z"  # the 14 trial days are kept, then one month
    assert fresh_api.post("/api/v1/user/checkout", {"plan_id": PROFESSIONAL}, token=sam.token).status == 400


def test_one_invoice_per_checkout_and_no_number_lost_over_a_year(fresh_api: Api, at: Any) -> None:
    at("2027-01-01T00:00:00")
    yana = Customer(fresh_api, "yana@example.com")
    numbers = []
    for month in range(1, 13):
        at(f"2027-{month:02d}-15T12:00:00")
        token = yana.token
        answer = fresh_api.post("/api/v1/user/checkout", {"token_bundle_ids": [TOKENS_100]}, token=token)
        numbers.append(answer.json["invoice"]["invoice_number"])
        bad = fresh_api.post("/api/v1/user/checkout", {"token_bundle_ids": ["not-an-id"]}, token=token)
        assert bad.status == 400
    assert numbers == [f"INV-2027-{n:06d}" for n in range(1, 13)]
    at("2028-01-01T00:00:01")
    new_year = fresh_api.post("/api/v1/user/checkout", {"token_bundle_ids": [TOKENS_100]}, token=yana.token)
    assert new_year.json["invoice"]["invoice_number"] == "INV-2028-000001"
