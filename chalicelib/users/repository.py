"""Reads and writes of users, their e-mail guards and their billing details (the `users` table)."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from chalicelib.access.members import track
from chalicelib.core.ids import new_id
from chalicelib.store.transactions import Transaction
from chalicelib.users.emails import could_be_registered, normalize_email
from chalicelib.users.models import (
    EmailGuardItem,
    UserDetailsItem,
    UserItem,
    details_key,
    email_key,
    user_key,
)


def find_user(user_id: str) -> UserItem | None:
    try:
        return UserItem.get(*user_key(user_id), consistent_read=True)
    except DoesNotExist:
        return None


def find_user_id_by_email(email: str) -> str | None:
    """The account holding the address; None, without a read, for an address no account can have."""
    address = normalize_email(email)
    if not could_be_registered(address):
        return None
    try:
        return EmailGuardItem.get(*email_key(address), consistent_read=True).user_id
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


def new_details(user_id: str, now: datetime) -> UserDetailsItem:
    """An empty details record for a user who has none yet (written by `save_details`)."""
    pk, sk = details_key(user_id)
    return UserDetailsItem(pk=pk, sk=sk, id=new_id(), user_id=user_id, created_at=now, updated_at=now)


# --- writes ----------------------------------------------------------------------------------------------------


def add_user(tx: Transaction, user: UserItem) -> None:
    """A new account and the guard that makes its e-mail address its own: refused (label `email`) when another
    account holds the address, whatever the early check saw."""
    tx.create(user, label="user")
    tx.create(EmailGuardItem.new(user.email, user.id), label="email")
    track(tx, user.id, [], [*user.access_level_ids, *user.user_access_level_ids])


def record_login(tx: Transaction, user: UserItem, now: datetime) -> None:
    tx.update(user, [UserItem.last_login_at.set(now)], label="user", add_version_condition=False)


def set_password(tx: Transaction, user: UserItem, password_hash: str, now: datetime) -> None:
    """A new password hash; every session opened before `now` ends (`tokens_valid_after`)."""
    tx.update(
        user,
        [
            UserItem.password_hash.set(password_hash),
            UserItem.tokens_valid_after.set(now),
            UserItem.updated_at.set(now),
        ],
        label="user",
        add_version_condition=False,
    )


def add_details_if_absent(tx: Transaction, details: UserDetailsItem) -> None:
    """A user's first billing details (refused if the user has details already)."""
    tx.create(details, label="details")


def save_details(tx: Transaction, details: UserDetailsItem) -> None:
    """The details record as changed, on the condition of the version read (created when new)."""
    tx.put(details, label="details")


def rename(tx: Transaction, user: UserItem, display_name: str | None, now: datetime) -> None:
    """The login name the details' first and last name make (auth.md §2.1), on the version read."""
    rename_action = UserItem.display_name.set(display_name) if display_name else UserItem.display_name.remove()
    tx.update(user, [rename_action, UserItem.updated_at.set(now)], label="user")


def mark_trial_used(tx: Transaction, user: UserItem, now: datetime) -> None:
    """The user has had their one trial (subscriptions.md §6): on the condition of the version read, so two
    checkouts racing for it cannot both grant one. The part is labelled `user`."""
    tx.update(user, [UserItem.has_used_trial.set(True), UserItem.updated_at.set(now)], label="user")
