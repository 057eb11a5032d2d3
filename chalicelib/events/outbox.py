"""The transactional outbox: an event is an item written in the same transaction as the state it reports."""

from __future__ import annotations

import json
import zlib
from datetime import datetime, timedelta

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.core.times import iso
from chalicelib.events.envelope import Event
from chalicelib.store.base import OutboxTable
from chalicelib.store.transactions import Transaction

PENDING_SHARDS = 4
RETENTION = timedelta(days=7)


def pending_shard(event_id: str) -> str:
    return f"PENDING#{zlib.crc32(event_id.encode()) % PENDING_SHARDS}"


class OutboxItem(OutboxTable, discriminator="EVENT"):
    """pk `EVENT#<id>`, sk `EVENT`. While unpublished it sits in the sparse GSI1 under `PENDING#<shard>`."""

    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    source = UnicodeAttribute()
    detail = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    published_at = UTCDateTimeAttribute(null=True)

    @classmethod
    def from_event(cls, event: Event) -> OutboxItem:
        shard = pending_shard(event.id)
        return cls(
            pk=f"EVENT#{event.id}",
            sk="EVENT",
            event_id=event.id,
            event_type=event.type,
            source=event.source,
            detail=json.dumps(event.envelope(), separators=(",", ":"), ensure_ascii=False),
            created_at=event.occurred_at,
            gsi1pk=shard,
            gsi1sk=f"{iso(event.occurred_at)}#{event.id}",
            ttl=event.occurred_at + RETENTION,
        )

    def mark_published(self, when: datetime) -> None:
        self.published_at = when


def record(tx: Transaction, *events: Event) -> Transaction:
    """Add the events to the transaction that changes the state they describe."""
    for event in events:
        tx.create(OutboxItem.from_event(event), label=f"event:{event.type}")
    return tx


def emit(*events: Event) -> None:
    """Events that accompany no other write (e.g. a failed login) still go through the outbox."""
    record(Transaction(), *events).commit()
