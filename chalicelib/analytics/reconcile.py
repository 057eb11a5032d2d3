"""Bring the analytics aggregates in line with the stored items, user by user (an operator's chore, e.g. after
the seed — which writes users, subscriptions and invoices without events — or to heal a consumer outage longer
than the queue keeps messages).

It applies every item's contribution exactly as the consumer does, so it is idempotent: a second run moves
nothing. Users are listed by the users' list index and each user's items by the Queries of their partitions — no
Scan — but it reads everything, so it is never on a request path or in a scheduled job.
"""

from __future__ import annotations

from typing import Any

from chalicelib.analytics import consumer
from chalicelib.core import clock
from chalicelib.invoices.repository import invoices_of
from chalicelib.subscriptions.repository import holdings_of
from chalicelib.users.repository import all_user_ids


def reconcile_user(user_id: str) -> None:
    consumer.apply_user(user_id, clock.now())
    subscriptions, addons = holdings_of(user_id)
    for sub in subscriptions:
        consumer.apply_subscription(user_id, sub.id)
    for addon_sub in addons:
        consumer.apply_addon(user_id, addon_sub.id)
    for invoice in sorted(invoices_of(user_id), key=lambda i: i.invoiced_at):  # oldest first: latest paid line wins
        consumer.apply_invoice(invoice.id)
    consumer.apply_balance(user_id)


def reconcile_all() -> dict[str, Any]:
    users = 0
    for user_id in all_user_ids():
        reconcile_user(user_id)
        users += 1
    return {"users": users}
