"""Access-level automation (contract subscriptions.md §5.3): the `access-levels` consumer, fed by the bus.

Activation comes from a real capture; the lifecycle's cancel, expiry and plan switches are written here the way the
lifecycle writes them (one state move of the subscription with its event in the outbox), then `drain_events()`
delivers. Shared seeded account: every test registers its own users.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.catalog.repository import reference
from chalicelib.core import clock
from chalicelib.core.ids import seed_id
from chalicelib.events import dispatch
from chalicelib.events.catalog import (
    SubscriptionActivated,
    SubscriptionCancelled,
    SubscriptionExpired,
    SubscriptionUpgraded,
)
from chalicelib.events.envelope import Actor, Event, EventData
from chalicelib.store.transactions import Transaction
from chalicelib.subscriptions import machine
from chalicelib.subscriptions import repository as subscriptions
from chalicelib.subscriptions.events import subscription_data
from chalicelib.subscriptions.machine import Move
from chalicelib.subscriptions.policy import LifecyclePolicy
from chalicelib.users.repository import find_user
from tests.integration.buyers import Buyer, buy, paid, read, register_buyer
from tests.integration.conftest import Api, drain_events, outbox_events


def levels_of(api: Api, buyer: Buyer) -> list[str]:
    return [level["slug"] for level in read(api, "/api/v1/auth/me", buyer.token)["user_access_levels"]]


def subscriber(api: Api, tag: str, plan: str = "basic") -> tuple[Buyer, str]:
    buyer = register_buyer(api, tag)
    bought = buy(api, buyer, plan)
    paid(api, buyer.token, bought["invoice"]["id"])
    return buyer, str(bought["subscription"]["id"])


def change(buyer: Buyer, subscription_id: str, what: Move | None, event: Any, **fields: Any) -> dict[str, Any]:
    """Move the subscription (and/or switch its plan) with its event in the outbox, as the lifecycle does; the
    event's envelope."""
    ref = reference()
    sub = subscriptions.subscription_of(buyer.user_id, subscription_id)
    assert sub is not None
    from_plan = ref.plan(sub.tarif_plan_id)
    if "to_plan" in fields:
        sub.tarif_plan_id = seed_id("plan", fields.pop("to_plan"))
    if what is not None:
        machine.move(sub, what, clock.now())
    plan = ref.plan(sub.tarif_plan_id)
    assert plan is not None and from_plan is not None
    if event is SubscriptionUpgraded:
        fields.update(from_plan_id=from_plan.id, to_plan_id=plan.id, invoice_id=seed_id("invoice", "upgrade"))
    data: EventData = event(**subscription_data(sub, plan), **fields)
    happened = Event(data, Actor.system("subscription-lifecycle"))
    tx = Transaction()
    subscriptions.update_subscription(tx, sub, LifecyclePolicy.of(ref))
    tx.events.append(happened)
    tx.commit()
    return happened.envelope()


def test_activation_grants_the_plan_s_levels(api: Api) -> None:
    buyer, _ = subscriber(api, "activated")
    assert levels_of(api, buyer) == ["logged-in"]  # effects are asynchronous (README §1.12)
    delivered = drain_events()
    assert delivered["access-levels"] >= 1
    assert levels_of(api, buyer) == ["logged-in", "subscribed-basic"]


def test_a_redelivered_event_is_applied_once(api: Api) -> None:
    buyer, subscription_id = subscriber(api, "redelivered")
    drain_events()
    [activated] = [e for e in outbox_events("subscription.activated") if e["data"]["user_id"] == buyer.user_id]
    user = find_user(buyer.user_id)
    assert user is not None
    written = user.version
    change(buyer, subscription_id, Move.CANCEL, SubscriptionCancelled, reason="user")
    drain_events()
    assert levels_of(api, buyer) == ["logged-in"]
    # The activation comes again after the cancellation: the receipt makes it a no-op.
    assert dispatch.deliver("access-levels", json.dumps({"detail": activated})) is False
    assert levels_of(api, buyer) == ["logged-in"]
    user = find_user(buyer.user_id)
    assert user is not None and user.version == written + 1  # one write for the cancellation, none for the replay


def test_an_event_handled_after_a_later_change_decides_from_what_it_finds(api: Api) -> None:
    """Delivery order is not guaranteed: an activation handled after the cancellation grants nothing."""
    buyer, subscription_id = subscriber(api, "late")
    [activated] = [e for e in outbox_events("subscription.activated") if e["data"]["user_id"] == buyer.user_id]
    change(buyer, subscription_id, Move.CANCEL, SubscriptionCancelled, reason="user")
    late = {**activated, "id": seed_id("event", f"late-{buyer.user_id}")}
    assert dispatch.deliver("access-levels", json.dumps({"detail": late})) is True
    assert levels_of(api, buyer) == ["logged-in"]


def test_cancellation_removes_the_levels_and_assigns_the_fallback(api: Api) -> None:
    buyer, subscription_id = subscriber(api, "cancelled")
    drain_events()
    user = find_user(buyer.user_id)
    assert user is not None
    basic = [i for i in user.user_access_level_ids if i != seed_id("user_access_level", "logged-in")]
    only_basic = Transaction()
    from chalicelib.access.repository import set_user_levels

    set_user_levels(only_basic, user, basic, clock.now())  # an admin took the default level away
    only_basic.commit()
    assert levels_of(api, buyer) == ["subscribed-basic"]
    change(buyer, subscription_id, Move.CANCEL, SubscriptionCancelled, reason="user")
    drain_events()
    assert levels_of(api, buyer) == ["logged-in"]


def test_expiry_removes_the_levels(api: Api) -> None:
    buyer, subscription_id = subscriber(api, "expired")
    drain_events()
    change(buyer, subscription_id, Move.EXPIRE, SubscriptionExpired, reason="dunning_exhausted")
    drain_events()
    assert levels_of(api, buyer) == ["logged-in"]


def test_an_upgrade_moves_the_levels_to_the_new_plan(api: Api) -> None:
    buyer, subscription_id = subscriber(api, "upgraded")
    drain_events()
    assert levels_of(api, buyer) == ["logged-in", "subscribed-basic"]
    change(buyer, subscription_id, None, SubscriptionUpgraded, to_plan="pro")
    drain_events()
    assert levels_of(api, buyer) == ["logged-in", "subscribed-pro"]


def test_the_consumer_hears_the_events_of_section_5_3() -> None:
    from chalicelib.access.service import EVENT_TYPES
    from chalicelib.events.consumers import BY_NAME

    assert BY_NAME["access-levels"].event_types == EVENT_TYPES
    assert BY_NAME["access-levels"].fed_by_bus
    assert SubscriptionActivated.TYPE in EVENT_TYPES
