"""The rest of a subscription's life on the job (subscriptions.md §6, §7.1, §7.3, §10): trials paid early, unpaid or
cancelled; linked and independent add-ons renewing; a cancellation at the period end; the renewal billing the
plan's price at renewal, a scheduled downgrade and another currency; repeated and overlapping runs.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.catalog.models import PlanItem
from chalicelib.catalog.repository import reference
from chalicelib.core import clock
from chalicelib.core.ids import seed_id
from chalicelib.store.transactions import Transaction
from chalicelib.subscriptions import machine
from chalicelib.subscriptions import repository as subscription_store
from chalicelib.subscriptions.machine import Move
from chalicelib.subscriptions.policy import LifecyclePolicy
from tests.integration.buyers import change
from tests.integration.conftest import Api, at_once
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


def schedule(customer: Customer, sub_id: str, what: Move, **fields: Any) -> None:
    """What the cancel and downgrade routes do (another task's work): the machine's move and its fields, written
    through the repository so the due index follows."""
    sub = subscription_store.subscription_of(customer.id, sub_id)
    assert sub is not None
    machine.move(sub, what, clock.now())
    for name, value in fields.items():
        setattr(sub, name, value)
    tx = Transaction()
    subscription_store.update_subscription(tx, sub, LifecyclePolicy.of(reference()))
    tx.commit()


# --- trials -------------------------------------------------------------------------------------------------------


def test_a_trial_paid_early_loses_no_days_and_renews_a_month_after_the_trial(fresh_api: Api, at: Any) -> None:
    at("2026-03-01T12:00:00")
    tom = Customer(fresh_api, "tom@example.com")
    bought = tom.buy("starter")
    sub_id = bought["subscription"]["id"]
    assert rows(bought["invoice"]) == [("SUBSCRIPTION", "Starter", None, None, "4.99", "4.99", "0.95", "5.94")]
    tom.events()
    at("2026-03-05T12:00:00")
    tom.pay(bought["invoice"]["id"])
    assert tom.events() == ["payment.captured", "invoice.paid", "subscription.activated", "tokens.credited"]
    assert tom.state(sub_id) == ("ACTIVE", "2026-04-15T12:00:00Z", True)  # 14 trial days kept, then a month
    at("2026-03-12T12:00:00")  # the reminder moment passes: a paid trial is not reminded
    job()
    assert tom.events() == []
    at("2026-04-14T12:00:00")
    job()
    assert tom.events() == RENEWED
    assert rows(tom.invoices()[-1]) == [
        ("SUBSCRIPTION", "Starter", "2026-04-15T12:00:00Z", "2026-05-15T12:00:00Z", "4.99", "4.99", "0.95", "5.94")
    ]
    assert tom.ledger() == [("SUBSCRIPTION", 20, 20), ("SUBSCRIPTION", 20, 40)]


def test_a_trial_left_unpaid_is_reminded_then_expires_with_its_add_on(fresh_api: Api, at: Any) -> None:
    at("2026-03-01T12:00:00")
    uma = Customer(fresh_api, "uma@example.com")
    bought = uma.buy("professional", addons=("api-boost",))
    sub_id = bought["subscription"]["id"]
    [addon] = bought["add_ons"]
    assert rows(bought["invoice"]) == [
        ("SUBSCRIPTION", "Professional", None, None, "19.99", "19.99", "3.80", "23.79"),
        ("ADD_ON", "API Boost", None, None, "14.99", "14.99", "2.85", "17.84"),
    ]
    uma.events()
    at("2026-03-12T11:59:59")
    job()
    assert uma.events() == []
    at("2026-03-12T12:00:00")
    job()
    assert uma.events() == ["subscription.trial_will_end"]
    [reminder] = uma.events_of("subscription.trial_will_end")
    assert (reminder["trial_end_at"], reminder["invoice_id"]) == ("2026-03-15T12:00:00Z", bought["invoice"]["id"])
    at("2026-03-15T12:00:00")
    job()
    assert uma.events() == ["subscription.expired", "addon.expired", "invoice.voided"]
    assert uma.state(sub_id) == ("EXPIRED", "2026-03-15T12:00:00Z", False)
    assert uma.addon(addon["id"])["status"] == "EXPIRED"
    assert totals(uma.invoices()[0]) == ("SUBSCRIPTION_CREATE", "CANCELLED", "34.98", "6.65", "41.63")
    assert [e["reason"] for e in uma.events_of("subscription.expired")] == ["trial_unpaid"]
    assert uma.ledger() == []


def test_a_trial_cancelled_during_the_trial_ends_cancelled_at_the_trial_end(fresh_api: Api, at: Any) -> None:
    at("2026-03-01T12:00:00")
    val = Customer(fresh_api, "val@example.com")
    bought = val.buy("starter")
    sub_id = bought["subscription"]["id"]
    at("2026-03-03T08:00:00")
    schedule(val, sub_id, Move.SCHEDULE_CANCEL, cancel_reason="user")
    val.events()
    at("2026-03-12T12:00:00")  # no reminder to pay for a trial that is cancelled
    job()
    assert val.events() == []
    at("2026-03-15T12:00:00")
    job()
    assert val.events() == ["subscription.cancelled", "invoice.voided"]
    sub = val.subscription(sub_id)
    assert (sub["status"], sub["cancelled_at"], sub["is_valid"]) == ("CANCELLED", "2026-03-03T08:00:00Z", False)
    assert [e["reason"] for e in val.events_of("subscription.cancelled")] == ["period_end"]
    assert totals(val.invoices()[0])[1] == "CANCELLED"


# --- period end ---------------------------------------------------------------------------------------------------


def test_a_cancellation_at_the_period_end_bills_nothing_and_ends_the_subscription_with_its_add_on(
    fresh_api: Api, at: Any
) -> None:
    at("2026-05-01T09:00:00")
    wes = Customer(fresh_api, "wes@example.com")
    bought = wes.buy("basic", addons=("extra-storage-50gb",))
    wes.pay(bought["invoice"]["id"])
    sub_id = bought["subscription"]["id"]
    [addon] = bought["add_ons"]
    at("2026-05-20T09:00:00")
    schedule(wes, sub_id, Move.SCHEDULE_CANCEL, cancel_reason="user")
    wes.events()
    at("2026-05-31T09:00:00")
    job()
    assert wes.events() == [] and len(wes.invoices()) == 1
    at("2026-06-01T09:00:00")
    job()
    assert wes.events() == ["subscription.cancelled", "addon.cancelled"]
    assert wes.state(sub_id) == ("CANCELLED", "2026-06-01T09:00:00Z", False)
    assert wes.addon(addon["id"])["status"] == "CANCELLED"


# --- add-ons ------------------------------------------------------------------------------------------------------


def test_a_linked_add_on_renews_on_the_subscriptions_invoice_for_the_same_period(fresh_api: Api, at: Any) -> None:
    at("2026-05-01T09:00:00")
    xia = Customer(fresh_api, "xia@example.com")
    bought = xia.buy("basic", addons=("extra-storage-50gb",))
    xia.pay(bought["invoice"]["id"])
    [addon] = bought["add_ons"]
    xia.events()
    at("2026-05-31T09:00:00")
    job()
    assert xia.events() == [*RENEWED[:5], "addon.renewed", "tokens.credited"]
    renewal = xia.invoices()[-1]
    period = ("2026-06-01T09:00:00Z", "2026-07-01T09:00:00Z")
    assert rows(renewal) == [
        ("SUBSCRIPTION", "Basic", *period, "9.99", "9.99", "1.90", "11.89"),
        ("ADD_ON", "Extra Storage 50 GB", *period, "4.99", "4.99", "0.95", "5.94"),
    ]
    assert totals(renewal) == ("RENEWAL", "PAID", "14.98", "2.85", "17.83")
    held = xia.addon(addon["id"])
    assert (held["status"], held["expires_at"]) == ("ACTIVE", "2026-07-01T09:00:00Z")


def test_an_add_on_scheduled_to_end_is_left_off_the_renewal(fresh_api: Api, at: Any) -> None:
    at("2026-05-01T09:00:00")
    yan = Customer(fresh_api, "yan@example.com")
    bought = yan.buy("basic", addons=("extra-storage-50gb",))
    yan.pay(bought["invoice"]["id"])
    [addon] = bought["add_ons"]
    assert fresh_api.post(f"/api/v1/user/addons/{addon['id']}/cancel", {}, token=yan.token).status == 200
    at("2026-05-31T09:00:00")
    job()
    renewal = yan.invoices()[-1]
    assert [r[0] for r in rows(renewal)] == ["SUBSCRIPTION"]
    assert totals(renewal) == ("RENEWAL", "PAID", "9.99", "1.90", "11.89")
    at("2026-06-01T09:00:00")
    job()
    assert yan.addon(addon["id"])["status"] == "CANCELLED"
    assert yan.state(bought["subscription"]["id"]) == ("ACTIVE", "2026-07-01T09:00:00Z", True)


def test_an_independent_add_on_renews_on_its_own_invoice(fresh_api: Api, at: Any) -> None:
    at("2026-02-19T15:30:00")
    zoe = Customer(fresh_api, "zoe@example.com")
    bought = zoe.buy(addons=("extra-storage-50gb",))
    zoe.pay(bought["invoice"]["id"])
    [addon] = bought["add_ons"]
    assert zoe.addon(addon["id"])["expires_at"] == "2026-03-19T15:30:00Z"
    zoe.events()
    at("2026-03-18T15:30:00")
    job()
    assert zoe.events() == ["invoice.created", "payment.captured", "invoice.paid", "addon.renewed"]
    renewal = zoe.invoices()[-1]
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
    assert totals(renewal) == ("RENEWAL", "PAID", "4.99", "0.95", "5.94")
    assert zoe.addon(addon["id"])["expires_at"] == "2026-04-19T15:30:00Z"


# --- what the renewal bills ---------------------------------------------------------------------------------------


def test_a_renewal_bills_the_plans_price_at_renewal(fresh_api: Api, at: Any) -> None:
    at("2026-05-01T09:00:00")
    ana = Customer(fresh_api, "ana@example.com")
    sub = ana.subscribe("basic")
    change(PlanItem, *PlanItem.key(seed_id("plan", "basic")), price=Decimal("12.49"))
    at("2026-05-31T09:00:00")
    job()
    renewal = ana.invoices()[-1]
    assert rows(renewal) == [
        ("SUBSCRIPTION", "Basic", "2026-06-01T09:00:00Z", "2026-07-01T09:00:00Z", "12.49", "12.49", "2.37", "14.86")
    ]
    assert totals(renewal) == ("RENEWAL", "PAID", "12.49", "2.37", "14.86")
    assert totals(ana.invoices()[0]) == ("SUBSCRIPTION_CREATE", "PAID", "9.99", "1.90", "11.89")
    assert ana.state(sub["id"]) == ("ACTIVE", "2026-07-01T09:00:00Z", True)


def test_a_scheduled_downgrade_is_billed_and_applied_at_the_renewal(fresh_api: Api, at: Any) -> None:
    at("2026-05-01T09:00:00")
    ben = Customer(fresh_api, "ben@example.com")
    sub = ben.subscribe("pro")  # paid during Pro's three trial days: the period runs from the trial end
    assert ben.state(sub["id"]) == ("ACTIVE", "2026-06-04T09:00:00Z", True)
    at("2026-05-10T09:00:00")
    schedule(ben, sub["id"], Move.SCHEDULE_DOWNGRADE, pending_plan_id=seed_id("plan", "basic"))
    ben.events()
    at("2026-06-03T09:00:00")
    job()
    assert ben.events() == [*RENEWED[:5], "subscription.downgraded", "tokens.credited"]
    renewal = ben.invoices()[-1]
    assert [r[:2] for r in rows(renewal)] == [("SUBSCRIPTION", "Basic")]
    assert totals(renewal) == ("RENEWAL", "PAID", "9.99", "1.90", "11.89")
    assert rows(renewal)[0][2:4] == ("2026-06-04T09:00:00Z", "2026-07-04T09:00:00Z")
    after = ben.subscription(sub["id"])
    assert (after["tarif_plan_id"], after["status"], after["expires_at"]) == (
        seed_id("plan", "basic"),
        "ACTIVE",
        "2026-07-04T09:00:00Z",
    )
    assert ben.ledger() == [("SUBSCRIPTION", 200, 200), ("SUBSCRIPTION", 50, 250)]


def test_a_subscription_in_another_currency_renews_in_that_currency(fresh_api: Api, at: Any) -> None:
    at("2026-05-01T09:00:00")
    gus = Customer(fresh_api, "gus@example.com")
    bought = gus.buy("basic", currency="USD")
    assert rows(bought["invoice"]) == [("SUBSCRIPTION", "Basic", None, None, "10.79", "10.79", "2.05", "12.84")]
    gus.pay(bought["invoice"]["id"])
    at("2026-05-31T09:00:00")
    job()
    renewal = gus.invoices()[-1]
    assert renewal["currency"] == "USD"
    assert rows(renewal) == [
        ("SUBSCRIPTION", "Basic", "2026-06-01T09:00:00Z", "2026-07-01T09:00:00Z", "10.79", "10.79", "2.05", "12.84")
    ]
    metadata = renewal["line_items"][0]["metadata"]
    assert (metadata["original_currency"], metadata["original_unit_price"], metadata["exchange_rate"]) == (
        "EUR",
        "9.99",
        "1.080000",
    )
    [upcoming] = gus.events_of("subscription.renewal_upcoming")
    assert (upcoming["amount"], upcoming["currency"]) == ("12.84", "USD")


# --- the job's own guarantees -------------------------------------------------------------------------------------


def test_repeated_and_overlapping_runs_renew_once(fresh_api: Api, at: Any, atomic_dynamodb: None) -> None:
    at("2026-05-01T09:00:00")
    ian = Customer(fresh_api, "ian@example.com")
    sub = ian.subscribe("basic")
    ian.events()
    at("2026-05-31T09:00:00")
    job()
    job()
    at_once(3, lambda _: job())
    at("2026-05-31T09:05:00")
    job()
    assert ian.events() == RENEWED
    assert [totals(i) for i in ian.invoices()] == [
        ("SUBSCRIPTION_CREATE", "PAID", "9.99", "1.90", "11.89"),
        ("RENEWAL", "PAID", "9.99", "1.90", "11.89"),
    ]
    assert ian.state(sub["id"]) == ("ACTIVE", "2026-07-01T09:00:00Z", True)
    assert ian.ledger() == [("SUBSCRIPTION", 50, 50), ("SUBSCRIPTION", 50, 100)]
