"""Who holds each access level (admin.md §16 `user_count`, `GET /admin/access/levels/<id>/users`).

A user's levels are lists on the user record, which no index can answer "who holds level X" from. So each holding
is also an item of its own — pk `LEVEL#<level id>`, sk `USER#<user id>` in the `users` table, one partition per
level, Queried a page at a time — and each level has a counter (`COUNT#LEVEL#<id>` in `counters`) moved by `ADD`
in the same transaction. Every write of a user's level lists calls `track` with the lists before and after, in
the transaction that writes them, so holdings and counts move exactly with the lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib.access.models import LevelCountItem, LevelMemberItem
from chalicelib.core.paging import Page, PageRequest
from chalicelib.store.paging import query_page
from chalicelib.store.reads import batch_get
from chalicelib.store.transactions import Transaction, TransactionCancelled


def track(tx: Transaction, user_id: str, before: Iterable[str], after: Iterable[str]) -> None:
    """The holdings and counts of a user whose level ids (admin and user levels alike) go from `before` to
    `after`, written with that change."""
    held, kept = set(before), set(after)
    for level_id in sorted(kept - held):
        tx.put(LevelMemberItem(*LevelMemberItem.key(level_id, user_id), user_id=user_id), label="level_member")
        tx.count(LevelCountItem, *LevelCountItem.key(level_id), {LevelCountItem.FIELD: 1}, label="level_count")
    for level_id in sorted(held - kept):
        tx.delete(LevelMemberItem(*LevelMemberItem.key(level_id, user_id)), label="level_member")
        tx.count(LevelCountItem, *LevelCountItem.key(level_id), {LevelCountItem.FIELD: -1}, label="level_count")


def forget(level_id: str, user_id: str) -> None:
    """Drop the holding of a user who no longer exists, with its count."""
    tx = Transaction()
    tx.delete(LevelMemberItem(*LevelMemberItem.key(level_id, user_id)), LevelMemberItem.user_id.exists())
    tx.count(LevelCountItem, *LevelCountItem.key(level_id), {LevelCountItem.FIELD: -1}, label="level_count")
    try:
        tx.commit()
    except TransactionCancelled:
        return  # already dropped by another cleanup


def counts(level_ids: list[str]) -> dict[str, int]:
    """How many users hold each level, in one BatchGetItem."""
    found = batch_get([(LevelCountItem, *LevelCountItem.key(i)) for i in level_ids]) if level_ids else []
    return {
        level_id: int(item.members) if isinstance(item, LevelCountItem) else 0
        for level_id, item in zip(level_ids, found, strict=True)
    }


def holders(level_id: str, request: PageRequest) -> Page[Any]:
    """A page of the ids of the users holding the level (by user id), with the maintained total."""
    total = counts([level_id])[level_id]

    def query(**kwargs: Any) -> Any:
        return LevelMemberItem.query(f"LEVEL#{level_id}", consistent_read=True, **kwargs)

    return query_page(query, request, total).map(lambda item: str(item.user_id))
