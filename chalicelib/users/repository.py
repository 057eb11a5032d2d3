"""Reads and writes of users, their e-mail guards and their billing details (the `users` table)."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.access.members import track
from chalicelib.core.ids import new_id
from chalicelib.core.paging import Page, PageRequest
from chalicelib.store.paging import query_page
from chalicelib.store.reads import batch_get
from chalicelib.store.transactions import Transaction
from chalicelib.users.emails import could_be_registered, normalize_email
from chalicelib.users.models import (
    DELETED,
    EmailGuardItem,
    UserDetailsItem,
    UserItem,
    UserTotalItem,
    all_users,
    details_key,
    email_key,
    email_prefix_partition,
    user_key,
    users_in,
    users_with_role,
)

TOTALS = "user_totals"
Standing = tuple[str, str]  # (status, role): what decides which lists and totals hold a user


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


def users_by_id(user_ids: list[str]) -> dict[str, UserItem]:
    """Several users (one BatchGetItem per 100), by id; unknown ids are left out."""
    wanted = list(dict.fromkeys(user_ids))
    found = batch_get([(UserItem, *user_key(user_id)) for user_id in wanted]) if wanted else []
    return {item.id: item for item in found if isinstance(item, UserItem)}


def details_of(user_ids: list[str]) -> dict[str, UserDetailsItem]:
    """The details of several users (one BatchGetItem per 100), by user id; users without details are left out."""
    found = batch_get([(UserDetailsItem, *details_key(user_id)) for user_id in user_ids]) if user_ids else []
    return {item.user_id: item for item in found if isinstance(item, UserDetailsItem)}


# --- the admin lists ---------------------------------------------------------------------------------------------


def user_total(status: str | None = None, role: str | None = None) -> int:
    """The maintained total of a list (users not deleted, unless `status` is `DELETED`): one GetItem."""
    try:
        return int(UserTotalItem.get(*UserTotalItem.key(status, role), consistent_read=True).value)
    except DoesNotExist:
        return 0


def _users_only(page: Page[Any]) -> Page[UserItem]:
    return Page([i for i in page.items if isinstance(i, UserItem)], page.total, page.offset, page.limit, page.next_key)


def users_page(request: PageRequest, status: str | None = None, role: str | None = None) -> Page[UserItem]:
    """Users newest first: a Query of GSI1 `USERS`, of GSI2 `USERS#<status>` or of GSI4 `USERS#ROLE#<role>` (with
    both, GSI4 filtered by status), `Limit` and the continuation key; the total from its counter."""
    total = user_total(status, role)
    condition = None
    if role is not None:
        index: Any = UserItem.gsi4
        partition = users_with_role(role)
        if status is not None:
            condition = UserItem.status == status
            if status == DELETED:
                index, partition, condition = UserItem.gsi2, users_in(status), UserItem.role == role
    elif status is not None:
        index, partition = UserItem.gsi2, users_in(status)
    else:
        index, partition = UserItem.gsi1, all_users()
    query = functools.partial(index.query, partition, filter_condition=condition, scan_index_forward=False)
    return _users_only(query_page(query, request, total))


def email_search_page(
    prefix: str, request: PageRequest, status: str | None = None, role: str | None = None
) -> Page[UserItem]:
    """Users whose e-mail address starts with `prefix` (lower-cased), in address order: a Query of GSI3 whose key
    condition is the prefix, so only matching users are read; status and role filter what it reads. The total is
    a `Select=COUNT` Query of the same key condition."""
    if not could_be_registered(prefix):
        return Page([], 0, request.offset, request.limit)  # longer than any address (and than a key condition)
    conditions = []
    if status is not None:
        conditions.append(UserItem.status == status)
    if role is not None:
        conditions.append(UserItem.role == role)
    condition = functools.reduce(lambda a, b: a & b, conditions) if conditions else None
    partition, starts = email_prefix_partition(prefix), UserItem.gsi3sk.startswith(prefix)
    total = UserItem.gsi3.count(partition, starts, filter_condition=condition)
    query = functools.partial(UserItem.gsi3.query, partition, starts, filter_condition=condition)
    return _users_only(query_page(query, request, total))


# --- writes ----------------------------------------------------------------------------------------------------


def _move_totals(tx: Transaction, before: Standing | None, after: Standing | None) -> None:
    """The list totals follow a user from one (status, role) to another (None: not counted — new or removed)."""
    deltas: Counter[tuple[str, str]] = Counter()
    for standing, step in ((before, -1), (after, 1)):
        if standing is not None:
            for key in UserTotalItem.keys_of(*standing):
                deltas[key] += step
    for (hash_key, range_key), delta in deltas.items():
        if delta:
            tx.count(UserTotalItem, hash_key, range_key, {"value": delta}, label=TOTALS)


def add_user(tx: Transaction, user: UserItem) -> None:
    """A new account and the guard that makes its e-mail address its own: refused (label `email`) when another
    account holds the address, whatever the early check saw. The list totals count it in the same transaction."""
    tx.create(user, label="user")
    tx.create(EmailGuardItem.new(user.email, user.id), label="email")
    _move_totals(tx, None, (user.status, user.role))
    track(tx, user.id, [], [*user.access_level_ids, *user.user_access_level_ids])


def save_user(tx: Transaction, user: UserItem, was: Standing, now: datetime) -> None:
    """The user as changed (status, role, levels, details of the profile), on the condition of the version read;
    its list and search keys and the list totals follow its status and role (`was` is what it was read with)."""
    user.updated_at = now
    user.index_for_lists()
    tx.put(user, label="user")
    _move_totals(tx, was, (user.status, user.role))


def end_sessions(user: UserItem, now: datetime) -> None:
    """Every session opened before `now` ends (`tokens_valid_after`); written by the next `save_user`."""
    user.tokens_valid_after = now


def erase_user(tx: Transaction, user: UserItem, details: UserDetailsItem | None, was: Standing, now: datetime) -> None:
    """A force-deleted user (admin.md §3.8): status `DELETED`, the address replaced, the name and details gone,
    every session ended, the address free for a new account. The record stays for its invoices' history."""
    old_email = user.email
    track(tx, user.id, [*user.access_level_ids, *user.user_access_level_ids], [])  # a deleted user holds no level
    user.access_level_ids, user.user_access_level_ids = [], []
    user.status = DELETED
    user.email = f"deleted-{user.id}@deleted.invalid"
    user.display_name = None
    end_sessions(user, now)
    save_user(tx, user, was, now)
    tx.delete(EmailGuardItem(*email_key(old_email)), label="email")
    if details is not None:
        tx.delete(details, label="details")


def remove_user(tx: Transaction, user: UserItem, details: UserDetailsItem | None, was: Standing) -> None:
    """A user with no history, deleted with their e-mail guard and details, on the condition of the version read."""
    tx.delete(user, label="user")  # PynamoDB conditions a versioned item's delete on the version read
    tx.delete(EmailGuardItem(*email_key(user.email)), label="email")
    if details is not None:
        tx.delete(details, label="details")
    track(tx, user.id, [*user.access_level_ids, *user.user_access_level_ids], [])
    _move_totals(tx, was, None)


def import_users(users: Iterable[UserItem]) -> int:
    """Write many new users at once (batch writes of the users and their e-mail guards, then one update per list
    total) — for loading a stage or a benchmark, never on a request path. Nothing checks that the addresses are
    free: the caller brings users no account has."""
    deltas: Counter[tuple[str, str]] = Counter()
    written = 0
    with UserItem.batch_write() as batch:
        for user in users:
            user.index_for_lists()
            batch.save(user)
            batch.save(EmailGuardItem.new(user.email, user.id))
            for key in UserTotalItem.keys_of(user.status, user.role):
                deltas[key] += 1
            written += 1
    totals = Transaction()
    for (hash_key, range_key), delta in deltas.items():
        totals.count(UserTotalItem, hash_key, range_key, {"value": delta}, label=TOTALS)
    totals.commit()
    return written


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


def remember_payment_customer(tx: Transaction, user: UserItem, provider: str, customer_id: str) -> None:
    """The customer a provider created for the user, kept so the next session reuses it (§10.4)."""
    customers = {**(user.payment_customers or {}), provider: customer_id}
    user.payment_customers = customers
    tx.update(user, [UserItem.payment_customers.set(customers)], label="user", add_version_condition=False)


def mark_trial_used(tx: Transaction, user: UserItem, now: datetime) -> None:
    """The user has had their one trial (subscriptions.md §6): on the condition of the version read, so two
    checkouts racing for it cannot both grant one. The part is labelled `user`."""
    tx.update(user, [UserItem.has_used_trial.set(True), UserItem.updated_at.set(now)], label="user")


def all_user_ids() -> Iterator[str]:
    """Every user's id, newest first: a Query of the users' list index (GSI1 `USERS`), a page at a time."""
    for user in UserItem.gsi1.query("USERS", scan_index_forward=False):
        if isinstance(user, UserItem):
            yield user.id
