"""Variants of the lifecycle (subscriptions.md §6, §7, §10, §13): tuned policy values, independent add-ons dunned or
paid by transfer, several subscriptions on their own anchors, tax by the billing country at renewal time, other
currencies, a plan no longer sold, and dunning after a daily period.
"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.catalog.models import PlanItem, PluginItem
from chalicelib.core.ids import seed_id
from tests.integration.buyers import change
from tests.integration.conftest import ADMIN, Api
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
ADDON_RENEWED = ["invoice.created", "payment.captured", "invoice.paid", "addon.renewed"]


def test_the_trial_reminder_follows_trial_reminder_days(fresh_api: Api, at: Any) -> None:
    change(PluginItem, *PluginItem.key("subscription"), config={"trial_reminder_days": 5})
    at("2026-03-01T12:00:00")
    eve = Customer(fresh_api, "eve@example.com")
    bought = eve.buy("starter")
    eve.events()
    at("2026-03-10T11:59:59")
    job()
    assert eve.events() == []
    at("2026-03-10T12:00:00")  # five days before the trial ends
    job()
    assert eve.events() == ["subscription.trial_will_end"]
    assert eve.state(bought["subscription"]["id"]) == ("TRIALING", "2026-03-15T12:00:00Z", True)


def test_a_renewal_lead_time_of_zero_renews_at_the_period_end(fresh_api: Api, at: Any) -> None:
    change(PluginItem, *PluginItem.key("subscription"), config={"renewal_lead_time_hours": 0})
    at("2026-05-01T09:00:00")
    kai = Customer(fresh_api, "kai@example.com")
    sub = kai.subscribe("basic")
    kai.events()
    at("2026-06-01T08:59:59")
    job()
    assert kai.events() == []
    at("2026-06-01T09:00:00")
    job()
    assert kai.events() == RENEWED
    assert kai.state(sub["id"]) == ("ACTIVE", "2026-07-01T09:00:00Z", True)


def test_an_independent_add_on_whose_card_declines_expires_after_its_dunning(fresh_api: Api, at: Any) -> None:
    at("2026-02-19T15:30:00")
    ida = Customer(fresh_api, "ida@example.com")
    bought = ida.buy(addons=("extra-storage-50gb",))
    ida.pay(bought["invoice"]["id"])
    [addon] = bought["add_ons"]
    ida.outcome("fail")
    ida.events()
    at("2026-03-18T15:30:00")
    job()
    assert ida.events() == ["invoice.created", "invoice.payment_failed"]
    assert ida.addon(addon["id"])["status"] == "PAST_DUE"
    renewal = ida.invoices()[-1]
    assert rows(renewal) == [
        (
            "ADD_ON",
            "Extra Storage 50 GB",
            "2026-03-19T15:30:00Z",
            "2026-04-19T15:30:00Z",
            "4.99",
            "4.99",
            "0.95",
            "5.94",
        )
    ]
    for moment in ("2026-03-19T15:30:00", "2026-03-21T15:30:00", "2026-03-23T15:30:00"):
        at(moment)
        job()
        assert ida.events() == ["invoice.payment_failed"]
    at("2026-03-25T15:30:00")
    job()
    assert ida.events() == ["invoice.payment_failed", "addon.expired"]
    assert ida.addon(addon["id"])["status"] == "EXPIRED"
    assert totals(ida.invoices()[-1]) == ("RENEWAL", "FAILED", "4.99", "0.95", "5.94")


def test_an_independent_add_on_paid_by_transfer_falls_past_due_and_recovers_when_marked_paid(
    fresh_api: Api, at: Any
) -> None:
    at("2026-02-19T15:30:00")
    jon = Customer(fresh_api, "jon@example.com")
    bought = jon.buy(addons=("extra-storage-50gb",), payment_method_code="invoice")
    admin = fresh_api.token(*ADMIN)
    assert fresh_api.post(f"/api/v1/admin/invoices/{bought['invoice']['id']}/mark-paid", {}, token=admin).status == 200
    [addon] = bought["add_ons"]
    jon.events()
    at("2026-03-18T15:30:00")
    job()
    assert jon.events() == ["invoice.created"]
    renewal = jon.invoices()[-1]
    assert (totals(renewal), renewal["payment_method"]) == (("RENEWAL", "PENDING", "4.99", "0.95", "5.94"), "invoice")
    at("2026-03-19T15:30:00")
    job()
    assert jon.addon(addon["id"])["status"] == "PAST_DUE"
    at("2026-03-20T10:00:00")
    admin = fresh_api.token(*ADMIN)
    assert fresh_api.post(f"/api/v1/admin/invoices/{renewal['id']}/mark-paid", {}, token=admin).status == 200
    assert jon.events() == ["payment.captured", "invoice.paid", "addon.renewed"]
    held = jon.addon(addon["id"])
    assert (held["status"], held["expires_at"]) == ("ACTIVE", "2026-04-19T15:30:00Z")


def test_a_yearly_independent_add_on_renews_a_year_on(fresh_api: Api, at: Any) -> None:
    at("2026-04-10T10:00:00")
    lou = Customer(fresh_api, "lou@example.com")
    bought = lou.buy(addons=("extra-seats-yearly",))
    lou.pay(bought["invoice"]["id"])
    [addon] = bought["add_ons"]
    lou.events()
    at("2027-04-09T10:00:00")
    job()
    assert lou.events() == ADDON_RENEWED
    renewal = lou.invoices()[-1]
    assert rows(renewal) == [
        (
            "ADD_ON",
            "Extra Seats (yearly)",
            "2027-04-10T10:00:00Z",
            "2028-04-10T10:00:00Z",
            "39.00",
            "39.00",
            "7.41",
            "46.41",
        )
    ]
    assert lou.addon(addon["id"])["expires_at"] == "2028-04-10T10:00:00Z"


def test_two_subscriptions_of_one_customer_renew_each_on_its_own_anchor(fresh_api: Api, at: Any) -> None:
    at("2026-05-03T08:00:00")
    mo = Customer(fresh_api, "mo@example.com")
    basic = mo.subscribe("basic")
    at("2026-05-20T18:00:00")
    weekly = mo.subscribe("weekly-pass")
    mo.events()
    at("2026-05-26T18:00:00")
    job()
    assert mo.events() == RENEWED
    assert mo.state(weekly["id"]) == ("ACTIVE", "2026-06-03T18:00:00Z", True)
    assert mo.state(basic["id"]) == ("ACTIVE", "2026-06-03T08:00:00Z", True)
    at("2026-06-02T08:00:00")
    job()
    assert mo.events() == RENEWED
    assert mo.state(basic["id"]) == ("ACTIVE", "2026-07-03T08:00:00Z", True)
    assert [(i["billing_reason"], rows(i)[0][1]) for i in mo.invoices()] == [
        ("SUBSCRIPTION_CREATE", "Basic"),
        ("SUBSCRIPTION_CREATE", "Weekly Pass"),
        ("RENEWAL", "Weekly Pass"),
        ("RENEWAL", "Basic"),
    ]


def test_a_renewal_is_taxed_by_the_billing_country_at_renewal(fresh_api: Api, at: Any) -> None:
    at("2026-05-01T09:00:00")
    ned = Customer(fresh_api, "ned@example.com")
    sub = ned.subscribe("basic")
    assert fresh_api.put("/api/v1/user/details", {"country": "AT"}, token=ned.token).status == 200
    at("2026-05-31T09:00:00")
    job()
    renewal = ned.invoices()[-1]
    assert rows(renewal) == [
        ("SUBSCRIPTION", "Basic", "2026-06-01T09:00:00Z", "2026-07-01T09:00:00Z", "9.99", "9.99", "2.00", "11.99")
    ]
    assert totals(ned.invoices()[0]) == ("SUBSCRIPTION_CREATE", "PAID", "9.99", "1.90", "11.89")
    assert ned.state(sub["id"])[1] == "2026-07-01T09:00:00Z"


def test_a_customer_without_a_billing_country_renews_untaxed(fresh_api: Api, at: Any) -> None:
    at("2026-05-01T09:00:00")
    oli = Customer(fresh_api, "oli@example.com", country=None)
    oli.subscribe("basic")
    at("2026-05-31T09:00:00")
    job()
    renewal = oli.invoices()[-1]
    assert rows(renewal) == [
        ("SUBSCRIPTION", "Basic", "2026-06-01T09:00:00Z", "2026-07-01T09:00:00Z", "9.99", "9.99", "0.00", "9.99")
    ]


@pytest.mark.parametrize(
    ("plan", "currency", "unit", "tax", "gross"),
    [("basic", "GBP", "8.49", "1.61", "10.10"), ("basic-usd", None, "10.99", "2.09", "13.08")],
    ids=["converted-to-GBP", "priced-in-USD"],
)
def test_renewals_keep_the_subscriptions_currency(
    fresh_api: Api, at: Any, plan: str, currency: str | None, unit: str, tax: str, gross: str
) -> None:
    at("2026-05-01T09:00:00")
    pat = Customer(fresh_api, "pat@example.com")
    sub = pat.subscribe(plan, **({"currency": currency} if currency else {}))
    at("2026-05-31T09:00:00")
    job()
    first, renewal = pat.invoices()
    assert renewal["currency"] == first["currency"] == (currency or "USD")
    assert rows(renewal)[0][2:] == ("2026-06-01T09:00:00Z", "2026-07-01T09:00:00Z", unit, unit, tax, gross)
    assert totals(renewal) == ("RENEWAL", "PAID", unit, tax, gross)
    assert pat.state(sub["id"])[1] == "2026-07-01T09:00:00Z"


def test_a_plan_no_longer_sold_still_renews_for_its_subscribers(fresh_api: Api, at: Any) -> None:
    at("2026-05-01T09:00:00")
    quin = Customer(fresh_api, "quin@example.com")
    sub = quin.subscribe("basic")
    change(PlanItem, *PlanItem.key(seed_id("plan", "basic")), is_active=False)
    quin.events()
    at("2026-05-31T09:00:00")
    job()
    assert quin.events() == RENEWED
    assert quin.state(sub["id"]) == ("ACTIVE", "2026-07-01T09:00:00Z", True)


def test_a_daily_plan_keeps_access_past_its_day_while_dunning_and_recovers(fresh_api: Api, at: Any) -> None:
    at("2026-03-28T23:00:00")
    ray = Customer(fresh_api, "ray@example.com")
    sub = ray.subscribe("day-pass")
    ray.outcome("fail")
    ray.events()
    at("2026-03-28T23:00:00")  # the lead time (24 hours) is the whole day: the renewal is due at once
    job()
    assert ray.events() == [
        "invoice.created",
        "subscription.renewal_upcoming",
        "invoice.payment_failed",
        "subscription.payment_failed",
        "subscription.past_due",
    ]
    at("2026-03-29T23:00:00")
    job()
    assert ray.state(sub["id"]) == ("PAST_DUE", "2026-03-29T23:00:00Z", True)
    ray.outcome("succeed")
    at("2026-03-31T23:00:00")
    job()
    # Recovered for the billed day (long past, as access continued while dunning), then the days after it are
    # renewed at once, period after period, until the next renewal lies ahead: no day is free.
    assert ray.state(sub["id"]) == ("ACTIVE", "2026-04-02T23:00:00Z", True)
    renewals = [i for i in ray.invoices() if i["billing_reason"] == "RENEWAL"]
    assert [(rows(i)[0][2], rows(i)[0][3], i["status"]) for i in renewals] == [
        ("2026-03-29T23:00:00Z", "2026-03-30T23:00:00Z", "PAID"),
        ("2026-03-30T23:00:00Z", "2026-03-31T23:00:00Z", "PAID"),
        ("2026-03-31T23:00:00Z", "2026-04-01T23:00:00Z", "PAID"),
        ("2026-04-01T23:00:00Z", "2026-04-02T23:00:00Z", "PAID"),
    ]
    assert all(totals(i)[2:] == ("0.99", "0.19", "1.18") for i in renewals)
