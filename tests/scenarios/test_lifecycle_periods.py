"""Renewals on every kind of period (subscriptions.md §3, §7.1): each renewal is invoiced at the lead time before
`expires_at`, for exactly the next period on the subscription's anchor, charged to the saved sandbox method, and
the period, the plan tokens and the events follow.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest

from tests.integration.conftest import Api
from tests.scenarios import test_lifecycle_story as story
from tests.scenarios.test_lifecycle_story import Customer, job, rows, totals

at = story.at  # the clock fixture

RENEWED = [
    "invoice.created",
    "subscription.renewal_upcoming",
    "payment.captured",
    "invoice.paid",
    "subscription.renewed",
    "tokens.credited",
]


def test_a_monthly_plan_bought_on_the_31st_renews_on_the_anchor_day_clamped_to_each_month(
    fresh_api: Api, at: Any
) -> None:
    at("2026-01-31T10:00:00")
    ada = Customer(fresh_api, "ada@example.com")
    sub = ada.subscribe("basic")
    assert ada.state(sub["id"]) == ("ACTIVE", "2026-02-28T10:00:00Z", True)
    assert ada.events() == [
        "invoice.created",
        "subscription.created",
        "payment.captured",
        "invoice.paid",
        "subscription.activated",
        "tokens.credited",
    ]

    at("2026-02-27T09:59:59")  # a second before the lead time: nothing yet
    job()
    assert ada.events() == [] and len(ada.invoices()) == 1

    at("2026-02-27T10:00:00")
    job()
    assert ada.events() == RENEWED
    first, february = ada.invoices()
    assert rows(february) == [
        ("SUBSCRIPTION", "Basic", "2026-02-28T10:00:00Z", "2026-03-31T10:00:00Z", "9.99", "9.99", "1.90", "11.89")
    ]
    assert totals(february) == ("RENEWAL", "PAID", "9.99", "1.90", "11.89")
    assert (february["invoice_number"][:9], february["due_date"]) == ("INV-2026-", "2026-02-28T10:00:00Z")
    assert ada.state(sub["id"]) == ("ACTIVE", "2026-03-31T10:00:00Z", True)

    at("2026-03-30T10:00:00")
    job()
    assert ada.events() == RENEWED
    march = ada.invoices()[-1]
    assert rows(march) == [
        ("SUBSCRIPTION", "Basic", "2026-03-31T10:00:00Z", "2026-04-30T10:00:00Z", "9.99", "9.99", "1.90", "11.89")
    ]
    assert ada.state(sub["id"]) == ("ACTIVE", "2026-04-30T10:00:00Z", True)

    at("2026-04-29T10:00:00")
    job()
    april = ada.invoices()[-1]
    assert rows(april)[0][2:4] == ("2026-04-30T10:00:00Z", "2026-05-31T10:00:00Z")  # back on the 31st
    assert ada.ledger() == [("SUBSCRIPTION", 50, 50 * n) for n in (1, 2, 3, 4)]
    renewed = ada.events_of("subscription.renewed")
    assert [(r["previous_expires_at"], r["expires_at"]) for r in renewed] == [
        ("2026-02-28T10:00:00Z", "2026-03-31T10:00:00Z"),
        ("2026-03-31T10:00:00Z", "2026-04-30T10:00:00Z"),
        ("2026-04-30T10:00:00Z", "2026-05-31T10:00:00Z"),
    ]
    assert first["status"] == "PAID"


def test_a_yearly_plan_bought_on_29_february_renews_on_28_february(fresh_api: Api, at: Any) -> None:
    at("2028-02-29T08:00:00")
    leo = Customer(fresh_api, "leo@example.com")
    sub = leo.subscribe("basic-yearly")
    assert leo.state(sub["id"]) == ("ACTIVE", "2029-02-28T08:00:00Z", True)

    at("2029-02-27T08:00:00")
    job()
    renewal = leo.invoices()[-1]
    assert rows(renewal) == [
        (
            "SUBSCRIPTION",
            "Basic Yearly",
            "2029-02-28T08:00:00Z",
            "2030-02-28T08:00:00Z",
            "99.90",
            "99.90",
            "18.98",
            "118.88",
        )
    ]
    assert totals(renewal) == ("RENEWAL", "PAID", "99.90", "18.98", "118.88")
    assert renewal["invoice_number"].startswith("INV-2029-")  # a new year, a new series
    assert leo.state(sub["id"]) == ("ACTIVE", "2030-02-28T08:00:00Z", True)
    assert leo.ledger() == [("SUBSCRIPTION", 600, 600), ("SUBSCRIPTION", 600, 1200)]


@pytest.mark.parametrize(
    ("plan", "name", "start", "lead", "periods", "price", "tax", "gross", "tokens"),
    [
        (
            "quarterly",
            "Quarterly",
            "2026-01-31T10:00:00",
            ["2026-04-29T10:00:00", "2026-07-30T10:00:00"],
            ["2026-04-30T10:00:00Z", "2026-07-31T10:00:00Z", "2026-10-31T10:00:00Z"],
            "27.99",
            "5.32",
            "33.31",
            150,
        ),
        (
            "weekly-pass",
            "Weekly Pass",
            "2026-03-02T07:30:00",
            ["2026-03-08T07:30:00", "2026-03-15T07:30:00"],
            ["2026-03-09T07:30:00Z", "2026-03-16T07:30:00Z", "2026-03-23T07:30:00Z"],
            "2.99",
            "0.57",
            "3.56",
            10,
        ),
        (
            "day-pass",
            "Day Pass",
            "2026-03-28T23:00:00",
            ["2026-03-28T23:00:00", "2026-03-29T23:00:00"],
            ["2026-03-29T23:00:00Z", "2026-03-30T23:00:00Z", "2026-03-31T23:00:00Z"],
            "0.99",
            "0.19",
            "1.18",
            2,
        ),
    ],
    ids=["quarterly", "weekly", "daily"],
)
def test_quarterly_weekly_and_daily_plans_renew_period_after_period(
    fresh_api: Api,
    at: Any,
    plan: str,
    name: str,
    start: str,
    lead: list[str],
    periods: list[str],
    price: str,
    tax: str,
    gross: str,
    tokens: int,
) -> None:
    at(start)
    pia = Customer(fresh_api, "pia@example.com")
    sub = pia.subscribe(plan)
    assert pia.state(sub["id"]) == ("ACTIVE", periods[0], True)
    pia.events()
    for moment, (period_start, period_end) in zip(lead, pairwise(periods), strict=True):
        at(moment)
        job()
        assert pia.events() == RENEWED
        renewal = pia.invoices()[-1]
        assert rows(renewal) == [("SUBSCRIPTION", name, period_start, period_end, price, price, tax, gross)]
        assert totals(renewal) == ("RENEWAL", "PAID", price, tax, gross)
        assert pia.state(sub["id"]) == ("ACTIVE", period_end, True)
    assert pia.ledger() == [("SUBSCRIPTION", tokens, tokens * n) for n in (1, 2, 3)]
