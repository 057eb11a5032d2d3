"""Reads and writes of a user's subscriptions and add-on subscriptions (one partition per user)."""

from __future__ import annotations

from chalicelib.store.base import SubscriptionsTable
from chalicelib.store.transactions import Transaction
from chalicelib.subscriptions.models import AddonSubscriptionItem, SubscriptionItem

# The labels of these records in a transaction: a refusal of one means it changed since it was read.
SUBSCRIPTION = "subscription"
ADDON_SUBSCRIPTION = "addon_subscription"


def holdings_of(user_id: str) -> tuple[list[SubscriptionItem], list[AddonSubscriptionItem]]:
    """Every subscription and add-on subscription of the user, by one consistent Query."""
    subscriptions: list[SubscriptionItem] = []
    addons: list[AddonSubscriptionItem] = []
    for item in SubscriptionsTable.query(f"USER#{user_id}", consistent_read=True):
        if isinstance(item, SubscriptionItem):
            subscriptions.append(item)
        elif isinstance(item, AddonSubscriptionItem):
            addons.append(item)
    return subscriptions, addons


def subscriptions_of(user_id: str) -> list[SubscriptionItem]:
    return holdings_of(user_id)[0]


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
