"""Reads and writes of the activity log (the `analytics` table)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from chalicelib.activity.models import RETENTION, ActivityCountsItem, ActivityItem
from chalicelib.core.paging import Page, PageRequest
from chalicelib.store.transactions import Transaction, TransactionCancelled


def add(entry: ActivityItem) -> bool:
    """One new entry, counted in the log's totals in the same transaction. False when an entry of the same moment
    and id exists already (an event recorded before): nothing is written or counted again."""
    tx = Transaction()
    tx.create(entry, label="activity")
    tx.count(ActivityCountsItem, *ActivityCountsItem.key(), {"total": 1, entry.source: 1})
    try:
        tx.commit()
    except TransactionCancelled as refused:
        if refused.failed == ["activity"]:
            return False
        raise
    return True


def counts() -> ActivityCountsItem | None:
    try:
        return ActivityCountsItem.get(*ActivityCountsItem.key())
    except DoesNotExist:
        return None


def _months(now: datetime) -> list[str]:
    """The month partitions that can still hold entries, newest first."""
    months, year, month = [], now.year, now.month
    oldest = now - RETENTION
    while (year, month) >= (oldest.year, oldest.month):
        months.append(f"ACTIVITY#{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def _filter(type_prefix: str | None, user_id: str | None) -> Condition | None:
    condition: Condition | None = None
    if type_prefix:
        condition = ActivityItem.type.startswith(type_prefix)
    if user_id:
        about = (ActivityItem.actor_id == user_id) | (ActivityItem.user_id == user_id)
        condition = about if condition is None else condition & about
    return condition


def entries_page(
    request: PageRequest, now: datetime, *, type_prefix: str | None, user_id: str | None, source: str | None
) -> Page[ActivityItem]:
    """A page of the log newest first: of one source, one Query of its GSI1 partition; of every source, the month
    partitions from this one back, each a Query, until the page is full. The filters are filter expressions on
    those Queries; `Limit` and the continuation key (partition and key) make the page, so a deep page costs what
    it skips only without a cursor. The total is the maintained count of the source (or of the log); with a
    `type` or `user_id` filter it is the entries found so far (the log keeps no count per filter)."""
    condition = _filter(type_prefix, user_id)
    partitions = [f"SOURCE#{source}"] if source else _months(now)
    after = request.after or {}
    if after.get("partition") in partitions:
        partitions = partitions[partitions.index(after["partition"]) :]
    skip = 0 if request.after else request.offset
    items: list[ActivityItem] = []
    next_key: dict[str, Any] | None = None
    resume = after.get("key")
    for partition in partitions:
        for item, key in _entries(partition, source is not None, condition, resume, skip + request.limit + 1):
            if skip:
                skip -= 1
                continue
            if len(items) == request.limit:
                return Page(
                    items, _total(source, condition, request, items, more=True), request.offset, request.limit, next_key
                )
            items.append(item)
            next_key = {"partition": partition, "key": key}
        resume = None
    return Page(items, _total(source, condition, request, items, more=False), request.offset, request.limit, None)


def _entries(
    partition: str, by_source: bool, condition: Condition | None, resume: dict[str, Any] | None, page_size: int
) -> Iterator[tuple[ActivityItem, dict[str, Any]]]:
    query: Any = ActivityItem.gsi1.query if by_source else ActivityItem.query
    results = query(
        partition,
        filter_condition=condition,
        scan_index_forward=False,
        last_evaluated_key=resume,
        page_size=min(page_size, 1000),
    )
    for item in results:
        if isinstance(item, ActivityItem):
            yield item, _key_of(item, by_source)


def _key_of(item: ActivityItem, by_source: bool) -> dict[str, Any]:
    """The continuation key that resumes right after `item` (DynamoDB's LastEvaluatedKey form)."""
    key = {"pk": {"S": item.pk}, "sk": {"S": item.sk}}
    if by_source:
        key |= {"gsi1pk": {"S": str(item.gsi1pk)}, "gsi1sk": {"S": str(item.gsi1sk)}}
    return key


def _total(source: str | None, condition: Condition | None, request: PageRequest, items: list[Any], more: bool) -> int:
    if condition is None:
        found = counts()
        if found is not None:
            return int(getattr(found, source) if source else found.total)
        return 0
    return request.offset + len(items) + (1 if more else 0)
