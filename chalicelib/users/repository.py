"""Reads of users; the writes live with the use cases that need them in one transaction."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from chalicelib.store.transactions import Transaction
from chalicelib.users.models import (
    EmailGuardItem,
    UserDetailsItem,
    UserItem,
    details_key,
    email_key,
    user_key,
)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user(user_id: str) -> UserItem | None:
    try:
        return UserItem.get(*user_key(user_id), consistent_read=True)
    except DoesNotExist:
        return None


def find_user_id_by_email(email: str) -> str | None:
    try:
        return EmailGuardItem.get(*email_key(normalize_email(email)), consistent_read=True).user_id
    except DoesNotExist:
        return None


def find_user_by_email(email: str) -> UserItem | None:
    user_id = find_user_id_by_email(email)
    return find_user(user_id) if user_id else None


def find_details(user_id: str) -> UserDetailsItem | None:
    try:
        return UserDetailsItem.get(*details_key(user_id), consistent_read=True)
    except DoesNotExist:
        return None


def mark_trial_used(tx: Transaction, user: UserItem, now: datetime) -> None:
    """The user has had their one trial (subscriptions.md §6): on the condition of the version read, so two
    checkouts racing for it cannot both grant one. The part is labelled `user`."""
    tx.update(user, [UserItem.has_used_trial.set(True), UserItem.updated_at.set(now)], label="user")
