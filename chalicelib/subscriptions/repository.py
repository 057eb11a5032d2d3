"""Reads of a user's subscriptions and add-on subscriptions (one partition per user)."""

from __future__ import annotations

from chalicelib.store.base import SubscriptionsTable
from chalicelib.subscriptions.models import AddonSubscriptionItem, SubscriptionItem


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
