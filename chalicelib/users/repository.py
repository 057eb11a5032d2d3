"""Reads of users, and the writes other domains add to their transactions."""

from __future__ import annotations

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


def add_new_user(tx: Transaction, user: UserItem) -> None:
    """A new user and the guard that makes its (normalized) e-mail its own; the parts are labelled `user` and
    `email`, so a refusal of `email` means the address is taken."""
    tx.create(user, label="user")
    tx.create(EmailGuardItem.new(user.email, user.id), label="email")


def add_details_if_absent(tx: Transaction, details: UserDetailsItem) -> None:
    """A user's first billing details (refused if the user has details already)."""
    tx.create(details, label="details")
