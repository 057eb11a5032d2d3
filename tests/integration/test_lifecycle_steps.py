"""Each step of the lifecycle job on its own (subscriptions.md §6, §7.1 rule 4, §7.3, §10): bank-transfer renewals
that fall PAST_DUE unpaid and recover when paid, trial reminders and ends, scheduled cancellations at the period
end, linked and independent add-ons, and a sweep that crashes half-way.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.catalog.repository import reference
from chalicelib.core.clock import ManualClock
from chalicelib.events import tasks
from chalicelib.invoices.models import InvoiceItem
from chalicelib.jobs import run
from chalicelib.store.transactions import Transaction
from chalicelib.subscriptions import machine
from chalicelib.subscriptions import repository as subscription_store
from chalicelib.subscriptions.machine import Move
from chalicelib.subscriptions.models import AddonSubscriptionItem, SubscriptionItem
from chalicelib.subscriptions.policy import LifecyclePolicy
from tests.integration.buyers import Buyer, basket, buy, checkout, german_buyer, paid, relogin
from tests.integration.conftest import ADMIN, Api, drain_events, outbox_events, sent_mail

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
END = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def lifecycle() -> None:
    run("subscription-lifecycle")
    drain_events()
    drain_events()  # the events the steps wrote reach their consumers (mail)


def invoices_of(user_id: str) -> list[InvoiceItem]:
    found = [i for i in InvoiceItem.scan() if isinstance(i, InvoiceItem) and i.user_id == user_id]
    return sorted(found, key=lambda i: i.invoice_number)


def stored(buyer: Buyer, sub_id: str) -> SubscriptionItem:
    sub = subscription_store.subscription_of(buyer.user_id, sub_id)
    assert sub is not None
    return sub


def stored_addon(buyer: Buyer, addon_sub_id: str) -> AddonSubscriptionItem:
    addon_sub = subscription_store.addon_subscription_of(buyer.user_id, addon_sub_id)
    assert addon_sub is not None
    return addon_sub


def events(event_type: str, key: str, value: str) -> list[dict[str, Any]]:
    return [e["data"] for e in outbox_events(event_type) if e["data"].get(key) == value]


def schedule_cancel(buyer: Buyer, sub_id: str) -> None:
    """What the cancel route does (another task's work): the machine's move, written through the repository."""
    sub = stored(buyer, sub_id)
    machine.move(sub, Move.SCHEDULE_CANCEL, T0)
    sub.cancel_reason = "user"
    tx = Transaction()
    subscription_store.update_subscription(tx, sub, LifecyclePolicy.of(reference()))
    tx.commit()


def mark_paid(api: Api, invoice_id: str) -> None:
    answer = api.post(f"/api/v1/admin/invoices/{invoice_id}/mark-paid", {}, token=api.token(*ADMIN))
    assert answer.status == 200, answer.json


# --- bank transfer (§7.1 rule 4, checkout-and-payments.md §10.3) --------------------------------------------------


def bank_transfer_subscriber(api: Api, clock: ManualClock, tag: str) -> tuple[Buyer, str]:
    clock.set(T0)
    buyer = german_buyer(api, tag)
    bought = checkout(api, buyer.token, basket("basic", method="invoice"))
    mark_paid(api, bought["invoice"]["id"])
    return buyer, bought["subscription"]["id"]


def test_a_bank_transfer_renewal_is_mailed_and_falls_past_due_when_the_period_ends_unpaid(
    api: Api, manual_clock: ManualClock
) -> None:
    buyer, sub_id = bank_transfer_subscriber(api, manual_clock, "transfer")
    manual_clock.set(END - timedelta(hours=24))
    lifecycle()
    renewal = invoices_of(buyer.user_id)[-1]
    assert (renewal.billing_reason, renewal.status, renewal.payment_method, renewal.due_date) == (
        "RENEWAL",
        "PENDING",
        "invoice",
        END,
    )
    assert int(renewal.payment_attempts or 0) == 0  # nothing to charge
    assert stored(buyer, sub_id).status == "ACTIVE"
    created = events("invoice.created", "invoice_id", renewal.id)
    assert [c["billing_reason"] for c in created] == ["RENEWAL"]
    [mailed] = [
        m for m in sent_mail() if m["to"] == [buyer.email] and m["subject"] == f"Invoice {renewal.invoice_number}"
    ]
    assert "due on 2026-06-01" in mailed["body"] and "quote the invoice number" in mailed["body"]
    assert list(mailed["attachments"]) == [f"invoice-{renewal.invoice_number}.pdf"]  # the transfer details

    manual_clock.set(END - timedelta(seconds=1))
    lifecycle()
    assert stored(buyer, sub_id).status == "ACTIVE"

    manual_clock.set(END)
    lifecycle()
    sub = stored(buyer, sub_id)
    assert (sub.status, sub.dunning_attempts, sub.next_retry_at) == ("PAST_DUE", 1, END + timedelta(days=1))
    failures = events("subscription.payment_failed", "subscription_id", sub_id)
    assert [(f["attempt"], f["next_retry_at"], f["error_message"]) for f in failures] == [
        (1, "2026-06-02T09:00:00Z", "The renewal invoice is unpaid")
    ]

    for days, attempt in ((1, 2), (3, 3)):  # reminders on the retry days
        manual_clock.set(END + timedelta(days=days))
        lifecycle()
        assert stored(buyer, sub_id).dunning_attempts == attempt

    mark_paid(api, renewal.id)  # the transfer arrives: recovered, the billed period and no more
    sub = stored(buyer, sub_id)
    assert (sub.status, sub.expires_at, sub.next_retry_at, sub.dunning_attempts) == (
        "ACTIVE",
        datetime(2026, 7, 1, 9, 0, tzinfo=UTC),
        None,
        0,
    )


def test_an_unpaid_bank_transfer_renewal_expires_after_the_last_reminder(api: Api, manual_clock: ManualClock) -> None:
    buyer, sub_id = bank_transfer_subscriber(api, manual_clock, "transfer-lost")
    for moment in (END - timedelta(hours=24), END, *(END + timedelta(days=d) for d in (1, 3, 5, 7))):
        manual_clock.set(moment)
        lifecycle()
    assert stored(buyer, sub_id).status == "EXPIRED"
    assert invoices_of(buyer.user_id)[-1].status == "FAILED"
    assert [e["reason"] for e in events("subscription.expired", "subscription_id", sub_id)] == ["dunning_exhausted"]
    dunning = [m for m in sent_mail() if m["to"] == [buyer.email] and m["subject"].startswith("Payment for Basic")]
    assert len(dunning) == 5  # the unpaid period end and four reminders
    assert "We will try again on 2026-06-02." in dunning[0]["body"]
    assert "This was the last attempt" in dunning[-1]["body"]


# --- trials (§6) ------------------------------------------------------------------------------------------------


def trialing(api: Api, clock: ManualClock, tag: str, addons: tuple[str, ...] = ()) -> tuple[Buyer, dict[str, Any]]:
    clock.set(T0)
    buyer = german_buyer(api, tag)
    bought = buy(api, buyer, "starter", addons=addons)
    assert bought["subscription"]["status"] == "TRIALING"
    return buyer, bought


def test_a_trial_is_reminded_the_reminder_days_before_it_ends_then_expires_unpaid(
    api: Api, manual_clock: ManualClock
) -> None:
    buyer, bought = trialing(api, manual_clock, "trial", addons=("extra-storage-50gb",))
    sub_id, invoice_id = bought["subscription"]["id"], bought["invoice"]["id"]
    trial_end = T0 + timedelta(days=14)
    manual_clock.set(trial_end - timedelta(days=3, seconds=1))
    lifecycle()
    assert events("subscription.trial_will_end", "subscription_id", sub_id) == []

    manual_clock.set(trial_end - timedelta(days=3))
    lifecycle()
    lifecycle()
    reminders = events("subscription.trial_will_end", "subscription_id", sub_id)
    assert [(r["trial_end_at"], r["invoice_id"]) for r in reminders] == [("2026-05-15T09:00:00Z", invoice_id)]
    [reminder] = [m for m in sent_mail() if m["to"] == [buyer.email] and "trial ends soon" in m["subject"]]
    assert reminder["subject"] == "Your Starter trial ends soon"
    assert f"/invoices/{invoice_id}" in reminder["body"] and "2026-05-15" in reminder["body"]

    manual_clock.set(trial_end)
    lifecycle()
    assert stored(buyer, sub_id).status == "EXPIRED"
    [addon_sub] = bought["add_ons"]
    assert stored_addon(buyer, addon_sub["id"]).status == "EXPIRED"
    assert invoices_of(buyer.user_id)[0].status == "CANCELLED"
    assert [e["reason"] for e in events("subscription.expired", "subscription_id", sub_id)] == ["trial_unpaid"]
    assert [e["reason"] for e in events("addon.expired", "subscription_id", sub_id)] == ["trial_unpaid"]
    ended = [
        m for m in sent_mail() if m["to"] == [buyer.email] and m["subject"] == "Your Starter subscription has ended"
    ]
    assert len(ended) == 1 and "its trial ended without a payment" in ended[0]["body"]


def test_a_trial_paid_early_is_not_ended_and_renews_after_its_first_period(api: Api, manual_clock: ManualClock) -> None:
    buyer, bought = trialing(api, manual_clock, "trial-paid")
    sub_id = bought["subscription"]["id"]
    manual_clock.set(T0 + timedelta(days=2))
    paid(api, relogin(api, buyer).token, bought["invoice"]["id"], payment_method_code="sandbox")
    manual_clock.set(T0 + timedelta(days=14))
    lifecycle()
    sub = stored(buyer, sub_id)
    assert (sub.status, sub.expires_at) == ("ACTIVE", datetime(2026, 6, 15, 9, 0, tzinfo=UTC))
    manual_clock.set(datetime(2026, 6, 14, 9, 0, tzinfo=UTC))
    lifecycle()
    sub = stored(buyer, sub_id)
    assert (sub.status, sub.expires_at) == ("ACTIVE", datetime(2026, 7, 15, 9, 0, tzinfo=UTC))


# --- period end (§7.3) --------------------------------------------------------------------------------------------


def test_a_scheduled_cancellation_ends_at_the_period_end_without_a_renewal(api: Api, manual_clock: ManualClock) -> None:
    manual_clock.set(T0)
    buyer = german_buyer(api, "leaving")
    bought = buy(api, buyer, "basic", addons=("extra-storage-50gb",))
    paid(api, buyer.token, bought["invoice"]["id"])
    sub_id = bought["subscription"]["id"]
    schedule_cancel(buyer, sub_id)
    manual_clock.set(END - timedelta(hours=1))
    lifecycle()
    assert len(invoices_of(buyer.user_id)) == 1  # no renewal is billed
    manual_clock.set(END)
    lifecycle()
    sub = stored(buyer, sub_id)
    assert (sub.status, sub.cancel_reason, sub.cancelled_at) == ("CANCELLED", "user", T0)
    [addon_sub] = bought["add_ons"]
    assert stored_addon(buyer, addon_sub["id"]).status == "CANCELLED"
    assert [e["reason"] for e in events("subscription.cancelled", "subscription_id", sub_id)] == ["period_end"]


# --- add-ons (§10) ----------------------------------------------------------------------------------------------


def test_a_linked_add_on_renews_on_its_subscriptions_invoice(api: Api, manual_clock: ManualClock) -> None:
    manual_clock.set(T0)
    buyer = german_buyer(api, "linked")
    bought = buy(api, buyer, "basic", addons=("extra-storage-50gb",))
    paid(api, buyer.token, bought["invoice"]["id"])
    [addon_sub] = bought["add_ons"]
    manual_clock.set(END - timedelta(hours=24))
    lifecycle()
    renewal = invoices_of(buyer.user_id)[-1]
    assert [(ln.item_type, str(ln.unit_price), str(ln.tax_amount)) for ln in renewal.lines] == [
        ("SUBSCRIPTION", "9.99", "1.90"),
        ("ADD_ON", "4.99", "0.95"),
    ]
    assert (renewal.status, str(renewal.total_amount)) == ("PAID", "17.83")
    linked = stored_addon(buyer, addon_sub["id"])
    assert (linked.status, linked.expires_at) == ("ACTIVE", datetime(2026, 7, 1, 9, 0, tzinfo=UTC))
    assert [e["invoice_id"] for e in events("addon.renewed", "addon_subscription_id", addon_sub["id"])] == [renewal.id]


def test_an_independent_add_on_renews_on_an_invoice_of_its_own(api: Api, manual_clock: ManualClock) -> None:
    manual_clock.set(T0)
    buyer = german_buyer(api, "alone")
    bought = buy(api, buyer, addons=("extra-storage-50gb",))
    paid(api, buyer.token, bought["invoice"]["id"])
    [addon_sub] = bought["add_ons"]
    manual_clock.set(END - timedelta(hours=24))
    lifecycle()
    renewal = invoices_of(buyer.user_id)[-1]
    assert (renewal.billing_reason, renewal.status, renewal.subscription_id) == ("RENEWAL", "PAID", None)
    [line] = renewal.lines
    assert (line.item_type, line.item_id, line.metadata["period_start"], line.metadata["period_end"]) == (
        "ADD_ON",
        addon_sub["id"],
        "2026-06-01T09:00:00Z",
        "2026-07-01T09:00:00Z",
    )
    assert stored_addon(buyer, addon_sub["id"]).expires_at == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def test_an_independent_add_on_that_cannot_be_charged_expires_after_its_dunning(
    api: Api, manual_clock: ManualClock
) -> None:
    manual_clock.set(T0)
    buyer = german_buyer(api, "alone-dunned")
    bought = buy(api, buyer, addons=("extra-storage-50gb",))
    paid(api, buyer.token, bought["invoice"]["id"])
    [addon_sub] = bought["add_ons"]
    assert api.put("/api/v1/plugins/sandbox/outcome", {"outcome": "fail"}, token=buyer.token).status == 200
    failed_at = END - timedelta(hours=24)
    manual_clock.set(failed_at)
    lifecycle()
    assert stored_addon(buyer, addon_sub["id"]).status == "PAST_DUE"
    for days in (1, 3, 5, 7):
        manual_clock.set(failed_at + timedelta(days=days))
        lifecycle()
    assert stored_addon(buyer, addon_sub["id"]).status == "EXPIRED"
    assert [e["reason"] for e in events("addon.expired", "addon_subscription_id", addon_sub["id"])] == [
        "dunning_exhausted"
    ]


# --- the sweep --------------------------------------------------------------------------------------------------


def test_a_sweep_that_crashes_half_way_loses_nothing(
    api: Api, manual_clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    manual_clock.set(T0)
    buyers = [german_buyer(api, f"crash-{n}") for n in range(3)]
    subs = []
    for buyer in buyers:
        bought = buy(api, buyer, "basic")
        paid(api, buyer.token, bought["invoice"]["id"])
        subs.append((buyer, bought["subscription"]["id"]))
    manual_clock.set(END - timedelta(hours=24))
    real_enqueue = tasks.enqueue

    def enqueue_then_crash(consumer: str, batch: list[tasks.Task]) -> int:
        real_enqueue(consumer, batch[:1])
        raise ConnectionError("the sweep's Lambda died")

    from chalicelib.lifecycle import sweep

    monkeypatch.setattr(sweep, "enqueue", enqueue_then_crash)
    with pytest.raises(ConnectionError):
        run("subscription-lifecycle")
    monkeypatch.undo()
    drain_events()
    lifecycle()  # the next run sends what the crashed one did not
    for buyer, sub_id in subs:
        assert stored(buyer, sub_id).expires_at == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
        assert [i.billing_reason for i in invoices_of(buyer.user_id)] == ["SUBSCRIPTION_CREATE", "RENEWAL"]


def test_the_sweep_sends_one_task_per_due_item_and_nothing_before(api: Api, manual_clock: ManualClock) -> None:
    from chalicelib.lifecycle.sweep import task_for

    manual_clock.set(T0)
    buyer = german_buyer(api, "task")
    bought = buy(api, buyer, "basic")
    paid(api, buyer.token, bought["invoice"]["id"])
    sub = stored(buyer, bought["subscription"]["id"])
    task = task_for(sub)
    assert task.id == f"subscription:{sub.id}:2026-05-31T09:00:00.000000Z"
    assert (task.group, task.data["step"]) == (sub.id, "renewal")
    shard = machine.due_shard(sub.id)
    assert sub.id not in [i.id for i in subscription_store.due_by(shard, END - timedelta(hours=24, seconds=1))]
    assert sub.id in [i.id for i in subscription_store.due_by(shard, END - timedelta(hours=24))]


def test_a_subscription_whose_plan_left_the_catalog_is_not_billed_and_expires_at_its_period_end(
    fresh_api: Api, manual_clock: ManualClock
) -> None:
    """A decision where the contract is silent: nothing can price the next period, so no invoice is issued and the
    subscription ends with its paid period (`subscription.expired` `{reason: "period_end"}`)."""
    from chalicelib.catalog.models import PlanItem
    from chalicelib.catalog.repository import bump_version
    from chalicelib.core.ids import seed_id
    from chalicelib.plugins.registry import forget_cached_states

    manual_clock.set(T0)
    buyer = german_buyer(fresh_api, "orphan")
    bought = buy(fresh_api, buyer, "weekly-pass")
    paid(fresh_api, buyer.token, bought["invoice"]["id"])
    sub_id = bought["subscription"]["id"]
    plan = PlanItem.get(*PlanItem.key(seed_id("plan", "weekly-pass")), consistent_read=True)
    tx = Transaction().delete(plan)
    bump_version(tx, T0)
    tx.commit()
    forget_cached_states()

    week = T0 + timedelta(days=7)
    manual_clock.set(week - timedelta(hours=24))
    lifecycle()
    sub = stored(buyer, sub_id)
    assert (sub.status, sub.non_renewing_reason, sub.due_step, sub.due_at) == ("ACTIVE", "unavailable", "expiry", week)
    assert len(invoices_of(buyer.user_id)) == 1
    manual_clock.set(week)
    lifecycle()
    assert stored(buyer, sub_id).status == "EXPIRED"
    assert [e["reason"] for e in events("subscription.expired", "subscription_id", sub_id)] == ["period_end"]
