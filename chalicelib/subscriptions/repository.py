"""Reads of a user's subscriptions."""

from __future__ import annotations

from chalicelib.subscriptions.models import SubscriptionItem


def subscriptions_of(user_id: str) -> list[SubscriptionItem]:
    query = SubscriptionItem.query(f"USER#{user_id}", SubscriptionItem.sk.startswith("SUB#"), consistent_read=True)
    return [item for item in query if isinstance(item, SubscriptionItem)]
