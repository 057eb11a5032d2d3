"""Dunning (subscriptions.md §7.1 rules 2–4, §7.2): a declined renewal falls PAST_DUE with access, is retried on
the `dunning_retry_days` after the first failure, recovers — for exactly the billed period — whenever the invoice
is paid, and expires after the last retry; a bank-transfer renewal falls PAST_DUE unpaid at the period end and is
reminded on the same days.
"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.catalog.models import PluginItem
from tests.integration.buyers import change
from tests.integration.conftest import ADMIN, Api
from tests.scenarios import test_lifecycle_story as story
from tests.scenarios.test_lifecycle_story import Customer, job, rows, totals

at = story.at  # the clock fixture

BASIC_RENEWAL = (
    "SUBSCRIPTION",
    "Basic",
    "2026-06-01T09:00:00Z",
    "2026-07-01T09:00:00Z",
    "9.99",
    "9.99",
    "1.90",
    "11.89",
)
ISSUED = ["invoice.created", "subscription.renewal_upcoming"]
FELL_PAST_DUE = ["invoice.payment_failed", "subscription.payment_failed", "subscription.past_due"]
RETRY_FAILED = ["invoice.payment_failed", "subscription.payment_failed"]
RECOVERED = ["payment.captured", "invoice.paid", "subscription.renewed", "tokens.credited"]
RETRY_DAYS = {1: "2026-06-01T09:00:00", 3: "2026-06-03T09:00:00", 5: "2026-06-05T09:00:00", 7: "2026-06-07T09:00:00"}
NEXT_RETRY = {1: "2026-06-03T09:00:00Z", 3: "2026-06-05T09:00:00Z", 5: "2026-06-07T09:00:00Z", 7: None}


def declined_renewal(api: Api, at: Any, email: str) -> tuple[Customer, str]:
    """A Basic subscriber from 1 May whose card declines from now on; the renewal fails on 31 May."""
    at("2026-05-01T09:00:00")
    cleo = Customer(api, email)
    sub = cleo.subscribe("basic")
    cleo.outcome("fail")
    cleo.events()
    at("2026-05-31T09:00:00")
    job()
    assert cleo.events() == ISSUED + FELL_PAST_DUE
    assert cleo.state(sub["id"]) == ("PAST_DUE", "2026-06-01T09:00:00Z", True)  # access continues
    renewal = cleo.invoices()[-1]
    assert rows(renewal) == [BASIC_RENEWAL]
    assert totals(renewal) == ("RENEWAL", "PENDING", "9.99", "1.90", "11.89")
    [failed] = cleo.events_of("subscription.payment_failed")
    assert (failed["attempt"], failed["next_retry_at"], failed["invoice_id"]) == (
        1,
        "2026-06-01T09:00:00Z",
        renewal["id"],
    )
    [past_due] = cleo.events_of("subscription.past_due")
    assert past_due["past_due_since"] == "2026-05-31T09:00:00Z"
    return cleo, sub["id"]


@pytest.mark.parametrize("day", [1, 3, 5, 7])
def test_a_declined_renewal_recovers_on_retry_day(fresh_api: Api, at: Any, day: int) -> None:
    cleo, sub_id = declined_renewal(fresh_api, at, f"cleo-{day}@example.com")
    attempt = 1
    for retry_day, moment in RETRY_DAYS.items():
        if retry_day == day:
            cleo.outcome("succeed")
            cleo.events()
        at(moment)
        job()
        attempt += 1
        if retry_day == day:
            break
        assert cleo.events() == RETRY_FAILED
        assert cleo.events_of("subscription.payment_failed")[-1]["attempt"] == attempt
        assert cleo.events_of("subscription.payment_failed")[-1]["next_retry_at"] == NEXT_RETRY[retry_day]
        assert cleo.state(sub_id)[0] == "PAST_DUE"

    assert cleo.events() == RECOVERED
    assert cleo.state(sub_id) == ("ACTIVE", "2026-07-01T09:00:00Z", True)  # the billed period, no free days
    renewal = cleo.invoices()[-1]
    assert rows(renewal) == [BASIC_RENEWAL]
    assert totals(renewal) == ("RENEWAL", "PAID", "9.99", "1.90", "11.89")
    assert renewal["paid_at"] == RETRY_DAYS[day] + "Z"
    assert cleo.ledger() == [("SUBSCRIPTION", 50, 50), ("SUBSCRIPTION", 50, 100)]
    sub = cleo.subscription(sub_id)
    assert sub["has_saved_payment_method"] is True

    at("2026-06-30T09:00:00")  # the next renewal is an ordinary one again
    job()
    assert cleo.events() == ISSUED + RECOVERED
    assert cleo.state(sub_id) == ("ACTIVE", "2026-08-01T09:00:00Z", True)


def test_a_past_due_customer_who_pays_between_retries_recovers_at_once(fresh_api: Api, at: Any) -> None:
    cleo, sub_id = declined_renewal(fresh_api, at, "cleo-pays@example.com")
    renewal = cleo.invoices()[-1]
    at("2026-06-02T15:00:00")
    cleo.pay(renewal["id"], payment_method_code="sandbox", sandbox_outcome="succeed")
    assert cleo.events() == RECOVERED
    assert cleo.state(sub_id) == ("ACTIVE", "2026-07-01T09:00:00Z", True)
    at("2026-06-03T09:00:00")  # the retry day comes: nothing is left to charge
    job()
    assert cleo.events() == []
    assert totals(cleo.invoices()[-1]) == ("RENEWAL", "PAID", "9.99", "1.90", "11.89")


def test_dunning_exhausted_expires_the_subscription_after_the_last_retry(fresh_api: Api, at: Any) -> None:
    cleo, sub_id = declined_renewal(fresh_api, at, "cleo-lost@example.com")
    for day in (1, 3, 5):
        at(RETRY_DAYS[day])
        job()
        assert cleo.events() == RETRY_FAILED
    at(RETRY_DAYS[7])
    job()
    assert cleo.events() == [*RETRY_FAILED, "subscription.expired"]
    assert cleo.state(sub_id) == ("EXPIRED", "2026-06-01T09:00:00Z", False)
    renewal = cleo.invoices()[-1]
    assert totals(renewal) == ("RENEWAL", "FAILED", "9.99", "1.90", "11.89")
    assert [f["attempt"] for f in cleo.events_of("subscription.payment_failed")] == [1, 2, 3, 4, 5]
    assert cleo.events_of("subscription.payment_failed")[-1]["next_retry_at"] is None
    assert [e["reason"] for e in cleo.events_of("subscription.expired")] == ["dunning_exhausted"]
    assert cleo.ledger() == [("SUBSCRIPTION", 50, 50)]  # nothing for the unpaid period
    at("2026-06-30T09:00:00")
    job()
    assert cleo.events() == [] and len(cleo.invoices()) == 2


def test_a_custom_dunning_schedule_and_lead_time_are_followed(fresh_api: Api, at: Any) -> None:
    change(
        PluginItem,
        *PluginItem.key("subscription"),
        config={"renewal_lead_time_hours": 72, "dunning_retry_days": [2]},
    )
    at("2026-05-01T09:00:00")
    cleo = Customer(fresh_api, "cleo-custom@example.com")
    sub = cleo.subscribe("basic")
    cleo.outcome("fail")
    cleo.events()
    at("2026-05-29T08:59:59")
    job()
    assert cleo.events() == []
    at("2026-05-29T09:00:00")  # 72 hours before the period ends
    job()
    assert cleo.events() == ISSUED + FELL_PAST_DUE
    assert cleo.events_of("subscription.payment_failed")[-1]["next_retry_at"] == "2026-05-31T09:00:00Z"
    at("2026-05-31T09:00:00")  # the one retry fails, but the paid period has not ended: no expiry yet
    job()
    assert cleo.events() == RETRY_FAILED
    assert cleo.state(sub["id"]) == ("PAST_DUE", "2026-06-01T09:00:00Z", True)
    at("2026-06-01T09:00:00")
    job()
    assert cleo.events() == ["subscription.expired"]
    assert cleo.state(sub["id"])[0] == "EXPIRED"
    assert totals(cleo.invoices()[-1])[1] == "FAILED"


# --- bank transfer ------------------------------------------------------------------------------------------------


def transfer_subscriber(api: Api, at: Any, email: str) -> tuple[Customer, str]:
    at("2026-05-01T09:00:00")
    bea = Customer(api, email)
    bought = bea.buy("basic", payment_method_code="invoice")
    admin = api.token(*ADMIN)
    assert api.post(f"/api/v1/admin/invoices/{bought['invoice']['id']}/mark-paid", {}, token=admin).status == 200
    bea.events()
    return bea, bought["subscription"]["id"]


def test_a_bank_transfer_renewal_unpaid_at_the_period_end_falls_past_due_and_is_paid_late(
    fresh_api: Api, at: Any
) -> None:
    bea, sub_id = transfer_subscriber(fresh_api, at, "bea@example.com")
    at("2026-05-31T09:00:00")
    job()
    assert bea.events() == ISSUED  # mailed, nothing to charge
    renewal = bea.invoices()[-1]
    assert rows(renewal) == [BASIC_RENEWAL]
    assert (totals(renewal), renewal["payment_method"], renewal["due_date"]) == (
        ("RENEWAL", "PENDING", "9.99", "1.90", "11.89"),
        "invoice",
        "2026-06-01T09:00:00Z",
    )
    at("2026-06-01T09:00:00")
    job()
    assert bea.events() == ["subscription.payment_failed", "subscription.past_due"]
    assert bea.state(sub_id) == ("PAST_DUE", "2026-06-01T09:00:00Z", True)
    at("2026-06-02T09:00:00")
    job()
    assert bea.events() == ["subscription.payment_failed"]  # the first reminder
    at("2026-06-03T11:00:00")
    admin = fresh_api.token(*ADMIN)
    assert fresh_api.post(f"/api/v1/admin/invoices/{renewal['id']}/mark-paid", {}, token=admin).status == 200
    assert bea.events() == RECOVERED
    assert bea.state(sub_id) == ("ACTIVE", "2026-07-01T09:00:00Z", True)
    assert bea.ledger() == [("SUBSCRIPTION", 50, 50), ("SUBSCRIPTION", 50, 100)]


def test_a_bank_transfer_renewal_never_paid_expires_after_the_last_reminder(fresh_api: Api, at: Any) -> None:
    bea, sub_id = transfer_subscriber(fresh_api, at, "bea-lost@example.com")
    for moment in ("2026-05-31T09:00:00", "2026-06-01T09:00:00", "2026-06-02T09:00:00", "2026-06-04T09:00:00"):
        at(moment)
        job()
    at("2026-06-06T09:00:00")
    job()
    bea.events()
    at("2026-06-08T09:00:00")
    job()
    assert bea.events() == ["subscription.payment_failed", "subscription.expired"]
    assert bea.state(sub_id) == ("EXPIRED", "2026-06-01T09:00:00Z", False)
    assert [f["attempt"] for f in bea.events_of("subscription.payment_failed")] == [1, 2, 3, 4, 5]
    assert totals(bea.invoices()[-1]) == ("RENEWAL", "FAILED", "9.99", "1.90", "11.89")
