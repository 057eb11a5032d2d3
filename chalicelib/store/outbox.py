"""The outbox item: the events of one transaction, written by that transaction (the storage half of the outbox).

One item per transaction, holding every event the transaction emits, keeps a capture with many lines inside
DynamoDB's 100-item transaction limit. The store knows only envelopes (plain dicts); what an event is lives in
`chalicelib.events`. While unpublished an item sits in the sparse GSI1 under `PENDING#<shard>`, which the relay
sweeps.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.core.ids import new_id
from chalicelib.core.times import iso
from chalicelib.store.attributes import string_list
from chalicelib.store.base import OutboxTable

PENDING_SHARDS = 4
RETENTION = timedelta(days=7)


class Enveloped(Protocol):
    """What the store needs of an event: when it happened and its wire envelope (events.md §1)."""

    @property
    def type(self) -> str: ...

    @property
    def occurred_at(self) -> datetime: ...

    def envelope(self) -> dict[str, Any]: ...


def pending_shard(batch_id: str) -> str:
    return f"PENDING#{zlib.crc32(batch_id.encode()) % PENDING_SHARDS}"


def pending_shards() -> list[str]:
    return [f"PENDING#{shard}" for shard in range(PENDING_SHARDS)]


class OutboxItem(OutboxTable, discriminator="EVENTS"):
    """pk `EVENTS#<batch id>`, sk `EVENTS`."""

    batch_id = UnicodeAttribute()
    event_types = string_list(default=list)
    event_count = NumberAttribute()
    detail = UnicodeAttribute()  # JSON list of event envelopes (events.md §1)
    created_at = UTCDateTimeAttribute()
    published_at = UTCDateTimeAttribute(null=True)

    @classmethod
    def from_events(cls, events: Iterable[Enveloped]) -> OutboxItem:
        listed = list(events)
        now = min(event.occurred_at for event in listed)
        batch_id = new_id()
        return cls(
            pk=f"EVENTS#{batch_id}",
            sk="EVENTS",
            batch_id=batch_id,
            event_types=[event.type for event in listed],
            event_count=len(listed),
            detail=json.dumps([event.envelope() for event in listed], separators=(",", ":"), ensure_ascii=False),
            created_at=now,
            gsi1pk=pending_shard(batch_id),
            gsi1sk=f"{iso(now)}#{batch_id}",
            ttl=now + RETENTION,
        )

    @property
    def envelopes(self) -> list[dict[str, Any]]:
        loaded: list[dict[str, Any]] = json.loads(self.detail)
        return loaded


def pending_items(limit: int) -> list[OutboxItem]:
    """Unpublished items, oldest first (one Query per shard of the sparse index)."""
    items: list[OutboxItem] = []
    for shard in pending_shards():
        items.extend(item for item in OutboxItem.gsi1.query(shard, limit=limit) if isinstance(item, OutboxItem))
    items.sort(key=lambda item: item.created_at)
    return items[:limit]


def mark_published(item: OutboxItem, now: datetime) -> bool:
    """Take the item out of the pending index; False when another relay marked it first."""
    from pynamodb.exceptions import UpdateError

    try:
        item.update(
            actions=[OutboxItem.published_at.set(now), OutboxItem.gsi1pk.remove(), OutboxItem.gsi1sk.remove()],
            condition=OutboxItem.published_at.does_not_exist(),
        )
    except UpdateError:
        return False
    return True
