"""Reads and writes of a user's subscriptions and add-on subscriptions (one partition per user).

How big a partition gets: a user holds at most `max_subscriptions_per_user` (default 10) subscriptions that are
TRIALING, ACTIVE, PAST_DUE or PAUSED, each with at most 20 add-ons, plus their history (CANCELLED and EXPIRED
ones). Unpaid checkouts are not bounded yet: every abandoned checkout leaves a PENDING subscription until the
lifecycle job expires it (next issue). Reads of "the user's subscriptions" therefore read the partition whole —
one consistent Query, newest first is sorted in memory (the sort key is the id) — and the whole-list routes
answer at most 1000 items (contract README §1.11).
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.store.base import SubscriptionsTable
from chalicelib.store.transactions import Transaction
from chalicelib.subscriptions.models import (
    SUBSCRIPTION_PREFIX,
    AddonSubscriptionItem,
    SubscriptionItem,
    user_partition,
)

Holding = SubscriptionItem | AddonSubscriptionItem


# --- reads -----------------------------------------------------------------------------------------------------

# The labels of these records in a transaction: a refusal of one means it changed since it was read.
SUBSCRIPTION = "subscription"
ADDON_SUBSCRIPTION = "addon_subscription"


def holdings_of(user_id: str) -> tuple[list[SubscriptionItem], list[AddonSubscriptionItem]]:
    """Every subscription and add-on subscription of the user, by one consistent Query."""
    subscriptions: list[SubscriptionItem] = []
    addons: list[AddonSubscriptionItem] = []
    for item in SubscriptionsTable.query(user_partition(user_id), consistent_read=True):
        if isinstance(item, SubscriptionItem):
            subscriptions.append(item)
        elif isinstance(item, AddonSubscriptionItem):
            addons.append(item)
    return subscriptions, addons


def subscriptions_of(user_id: str) -> list[SubscriptionItem]:
    """The user's subscriptions (not their add-ons), by one consistent Query of the `SUB#` range."""
    query = SubscriptionsTable.query(
        user_partition(user_id), SubscriptionsTable.sk.startswith(SUBSCRIPTION_PREFIX), consistent_read=True
    )
    return [item for item in query if isinstance(item, SubscriptionItem)]


def addon_subscription_exists(addon_subscription_id: str) -> bool:
    """Whether any user holds this add-on subscription (GSI1; tells another user's id from an unknown one)."""
    query = AddonSubscriptionItem.gsi1.query(AddonSubscriptionItem.by_id(addon_subscription_id), limit=1)
    return any(True for _ in query)


def subscription_of(user_id: str, subscription_id: str) -> SubscriptionItem | None:
    try:
        return SubscriptionItem.get(*SubscriptionItem.key(user_id, subscription_id), consistent_read=True)
    except DoesNotExist:
        return None


# --- writes ----------------------------------------------------------------------------------------------------


def add_subscription(tx: Transaction, subscription: SubscriptionItem) -> None:
    """A new subscription, with its index keys (refused if its key is taken)."""
    subscription.index()
    tx.create(subscription, label=SUBSCRIPTION)


def update_subscription(tx: Transaction, subscription: SubscriptionItem) -> None:
    """The subscription as changed, on the condition of the version read."""
    tx.put(subscription, label=SUBSCRIPTION)


def add_addon_subscription(tx: Transaction, addon: AddonSubscriptionItem) -> None:
    """A new add-on subscription, with its index keys (refused if its key is taken)."""
    addon.index()
    tx.create(addon, label=ADDON_SUBSCRIPTION)


def update_addon_subscription(tx: Transaction, addon: AddonSubscriptionItem) -> None:
    """The add-on subscription as changed, on the condition of the version read."""
    tx.put(addon, label=ADDON_SUBSCRIPTION)


def expect_unchanged(tx: Transaction, holding: Holding) -> None:
    """Refuse the transaction if `holding` changed since it was read (its version moved on)."""
    model = type(holding)
    tx.check(model, holding.pk, holding.sk, model.version == holding.version, label=f"unchanged {holding.sk}")
