"""What the lifecycle job does next with an item (`machine.next_step`), and the moves it makes, on in-memory items.

No emulator: the machine is pure. Each case builds the item in the state the contract names (subscriptions.md
§6, §7, §10) and asserts the step and its moment under the plugin's policy.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.subscriptions import machine
from chalicelib.subscriptions.machine import Move, NotAllowed, Step, next_step, retry_after
from chalicelib.subscriptions.models import AddonSubscriptionItem, SubscriptionItem
from chalicelib.subscriptions.policy import LifecyclePolicy

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
END = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
POLICY = LifecyclePolicy()
CARD = {"provider": "sandbox", "reference": "pm_sandbox_1", "label": "Sandbox test card"}


def subscription(**fields: Any) -> SubscriptionItem:
    values: dict[str, Any] = {
        "id": "s1",
        "user_id": "u1",
        "tarif_plan_id": "p1",
        "status": "ACTIVE",
        "currency": "EUR",
        "started_at": NOW,
        "current_period_start": NOW,
        "expires_at": END,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(fields)
    return SubscriptionItem(*SubscriptionItem.key("u1", str(values["id"])), **values)


def addon(**fields: Any) -> AddonSubscriptionItem:
    values: dict[str, Any] = {
        "id": "a1",
        "user_id": "u1",
        "addon_id": "x1",
        "subscription_id": None,
        "status": "ACTIVE",
        "starts_at": NOW,
        "expires_at": END,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(fields)
    return AddonSubscriptionItem(*AddonSubscriptionItem.key("u1", str(values["id"])), **values)


def step_of(item: SubscriptionItem | AddonSubscriptionItem) -> tuple[Step, datetime] | None:
    due = next_step(item, POLICY)
    return (due.step, due.at) if due is not None else None


# --- subscriptions ---------------------------------------------------------------------------------------------


def test_an_active_subscription_is_renewed_the_lead_time_before_its_end() -> None:
    assert step_of(subscription()) == (Step.RENEWAL, END - timedelta(hours=24))


def test_a_renewal_invoice_with_a_saved_method_is_charged_at_once() -> None:
    """Issued and not charged yet (a crash between the two writes): the charge is still due, at the same moment."""
    sub = subscription(renewal_invoice_id="i1", saved_payment_method=CARD)
    assert step_of(sub) == (Step.RENEWAL, END - timedelta(hours=24))


def test_a_renewal_invoice_without_a_saved_method_waits_until_the_period_ends() -> None:
    assert step_of(subscription(renewal_invoice_id="i1")) == (Step.RENEWAL_UNPAID, END)


def test_a_scheduled_cancellation_ends_at_the_period_end() -> None:
    assert step_of(subscription(cancel_at_period_end=True)) == (Step.PERIOD_END, END)


def test_a_subscription_nothing_can_renew_expires_at_its_period_end() -> None:
    assert step_of(subscription(non_renewing_reason="plan_unavailable")) == (Step.EXPIRY, END)


def test_past_due_retries_on_its_retry_moment_and_expires_when_none_is_left() -> None:
    retry = NOW + timedelta(days=1)
    assert step_of(subscription(status="PAST_DUE", next_retry_at=retry)) == (Step.DUNNING, retry)
    assert step_of(subscription(status="PAST_DUE", next_retry_at=None)) == (Step.EXPIRY, END)


def test_a_trial_is_reminded_once_then_ends() -> None:
    trial_end = NOW + timedelta(days=14)
    trialing = subscription(status="TRIALING", trial_end_at=trial_end, expires_at=trial_end)
    assert step_of(trialing) == (Step.TRIAL_REMINDER, trial_end - timedelta(days=3))
    trialing.trial_reminder_sent_at = trial_end - timedelta(days=3)
    assert step_of(trialing) == (Step.TRIAL_END, trial_end)


@pytest.mark.parametrize("status", ["PENDING", "PAUSED", "CANCELLED", "EXPIRED"])
def test_items_nothing_happens_to_are_in_no_index(status: str) -> None:
    assert step_of(subscription(status=status)) is None


def test_a_one_time_plan_never_renews() -> None:
    assert step_of(subscription(expires_at=None)) is None


# --- add-on subscriptions --------------------------------------------------------------------------------------


def test_an_independent_add_on_renews_charges_and_dunns_like_a_subscription() -> None:
    assert step_of(addon()) == (Step.RENEWAL, END - timedelta(hours=24))
    assert step_of(addon(renewal_invoice_id="i1", saved_payment_method=CARD)) == (
        Step.RENEWAL,
        END - timedelta(hours=24),
    )
    assert step_of(addon(renewal_invoice_id="i1")) == (Step.RENEWAL_UNPAID, END)
    assert step_of(addon(status="PAST_DUE", next_retry_at=NOW)) == (Step.DUNNING, NOW)
    assert step_of(addon(status="PAST_DUE")) == (Step.EXPIRY, END)
    assert step_of(addon(non_renewing_reason="addon_unavailable")) == (Step.EXPIRY, END)


def test_a_linked_add_on_follows_its_parent_except_for_its_own_scheduled_cancellation() -> None:
    assert step_of(addon(subscription_id="s1")) is None
    assert step_of(addon(subscription_id="s1", status="PAST_DUE")) is None
    assert step_of(addon(subscription_id="s1", cancel_at_period_end=True)) == (Step.PERIOD_END, END)


# --- the dunning schedule --------------------------------------------------------------------------------------


def test_retries_fall_on_the_policy_days_after_the_first_failure() -> None:
    first = NOW
    assert [retry_after(first, attempts, POLICY) for attempts in range(1, 7)] == [
        first + timedelta(days=1),
        first + timedelta(days=3),
        first + timedelta(days=5),
        first + timedelta(days=7),
        None,  # the fifth charge was the last
        None,
    ]


# --- moves -----------------------------------------------------------------------------------------------------


def test_moves_the_lifecycle_makes() -> None:
    sub = subscription()
    assert machine.move(sub, Move.FALL_PAST_DUE, NOW) == "ACTIVE"
    assert machine.move(sub, Move.RETRY_FAILED, NOW) == "PAST_DUE"
    assert machine.move(sub, Move.EXPIRE, NOW) == "PAST_DUE"
    assert sub.status == "EXPIRED"
    with pytest.raises(NotAllowed):
        machine.move(sub, Move.FALL_PAST_DUE, NOW)


def test_a_cancellation_at_the_period_end_keeps_who_cancelled_and_when() -> None:
    cancelled_at = NOW - timedelta(days=3)
    sub = subscription(cancel_at_period_end=True, cancelled_at=cancelled_at, cancel_reason="user")
    machine.move(sub, Move.CANCEL, END)
    assert (sub.status, sub.cancelled_at, sub.cancel_reason, sub.cancel_at_period_end) == (
        "CANCELLED",
        cancelled_at,
        "user",
        False,
    )


def test_a_plan_change_or_reinstatement_makes_a_non_renewing_subscription_renew_again() -> None:
    sub = subscription(non_renewing_reason="plan_unavailable")
    machine.move(sub, Move.CHANGE_PLAN, NOW)
    assert sub.non_renewing_reason is None
    expired = subscription(status="EXPIRED", non_renewing_reason="plan_unavailable")
    machine.move(expired, Move.REINSTATE, NOW)
    assert expired.non_renewing_reason is None


def test_linked_add_ons_fall_past_due_and_recover_with_their_parent() -> None:
    linked = addon(subscription_id="s1")
    machine.move(linked, Move.FALL_PAST_DUE, NOW)
    assert linked.status == "PAST_DUE"
    machine.move(linked, Move.RENEW, NOW)
    assert linked.status == "ACTIVE"


# --- the policy and the tables as a whole ----------------------------------------------------------------------


def test_the_policy_moves_every_moment() -> None:
    policy = LifecyclePolicy.from_config(
        {"renewal_lead_time_hours": 72, "trial_reminder_days": 5, "dunning_retry_days": [7, 2]}
    )
    assert next_step(subscription(), policy) == machine.Due(END - timedelta(hours=72), Step.RENEWAL)
    trial_end = NOW + timedelta(days=14)
    trialing = subscription(status="TRIALING", trial_end_at=trial_end, expires_at=trial_end)
    assert next_step(trialing, policy) == machine.Due(trial_end - timedelta(days=5), Step.TRIAL_REMINDER)
    assert [retry_after(NOW, n, policy) for n in (1, 2, 3)] == [NOW + timedelta(days=2), NOW + timedelta(days=7), None]
    zero = LifecyclePolicy.from_config({"renewal_lead_time_hours": 0})
    assert next_step(subscription(), zero) == machine.Due(END, Step.RENEWAL)


def test_a_reminder_that_would_fall_before_the_trial_started_falls_at_its_start() -> None:
    trial_end = NOW + timedelta(days=1)
    trialing = subscription(status="TRIALING", trial_end_at=trial_end, expires_at=trial_end)
    assert step_of(trialing) == (Step.TRIAL_REMINDER, NOW)


def test_a_trial_cancelled_for_its_end_is_not_reminded() -> None:
    trial_end = NOW + timedelta(days=14)
    trialing = subscription(status="TRIALING", trial_end_at=trial_end, expires_at=trial_end, cancel_at_period_end=True)
    assert step_of(trialing) == (Step.TRIAL_END, trial_end)


def test_a_paused_subscription_or_add_on_is_skipped_by_every_step() -> None:
    assert step_of(subscription(status="PAUSED", renewal_invoice_id="i1")) is None
    assert step_of(addon(status="PAUSED")) is None


@pytest.mark.parametrize(("table", "make"), [(machine.SUBSCRIPTION_MOVES, subscription), (machine.ADDON_MOVES, addon)])
def test_every_move_the_table_lacks_is_refused_and_changes_nothing(table: dict[Move, Any], make: Any) -> None:
    statuses = ["PENDING", "TRIALING", "ACTIVE", "PAST_DUE", "PAUSED", "CANCELLED", "EXPIRED"]
    for what in Move:
        starts, target = table.get(what, (frozenset(), None))
        for status in statuses:
            item = make(status=status)
            if status in starts:
                assert machine.move(item, what, NOW) == status
                assert item.status == (target or status) and item.updated_at == NOW
            else:
                with pytest.raises(NotAllowed):
                    machine.move(item, what, END)
                assert (item.status, item.updated_at) == (status, NOW)


def test_due_shards_spread_items_over_every_shard_evenly() -> None:
    from collections import Counter
    from uuid import uuid4

    counts = Counter(machine.due_shard(str(uuid4())) for _ in range(8000))
    assert set(counts) == set(range(machine.DUE_SHARDS))
    assert max(counts.values()) < 1.15 * 1000 and min(counts.values()) > 0.85 * 1000
    assert machine.due_shard("s1") == machine.due_shard("s1")  # stable: an item stays in its shard
