"""Writes of a user's access levels (the `users` table): the one write the access-levels consumer makes."""

from __future__ import annotations

from datetime import datetime

from chalicelib.access.members import track
from chalicelib.store.transactions import Transaction
from chalicelib.users.models import UserItem


def set_user_levels(tx: Transaction, user: UserItem, level_ids: list[str], now: datetime) -> None:
    """The user's access levels as decided, on the condition of the version read (label `user`)."""
    track(tx, user.id, user.user_access_level_ids, level_ids)
    tx.update(user, [UserItem.user_access_level_ids.set(level_ids), UserItem.updated_at.set(now)], label="user")


def set_admin_levels(tx: Transaction, user: UserItem, level_ids: list[str], now: datetime) -> None:
    """The user's admin access levels (roles), on the condition of the version read (label `user`)."""
    track(tx, user.id, user.access_level_ids, level_ids)
    tx.update(user, [UserItem.access_level_ids.set(level_ids), UserItem.updated_at.set(now)], label="user")
