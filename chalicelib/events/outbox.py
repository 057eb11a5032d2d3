"""The transactional outbox: the events of a state change are one item written in the same transaction.

One item per transaction, holding every event the transaction emits, keeps a capture with many lines inside
DynamoDB's 100-item transaction limit. The relay publishes each event of the item, then marks the item published.
"""

from __future__ import annotations

import json
import zlib
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.core.ids import new_id
from chalicelib.core.times import iso
from chalicelib.events.envelope import Event
from chalicelib.store.attributes import string_list
from chalicelib.store.base import OutboxTable
from chalicelib.store.transactions import Transaction

PENDING_SHARDS = 4
RETENTION = timedelta(days=7)


def pending_shard(batch_id: str) -> str:
    return f"PENDING#{zlib.crc32(batch_id.encode()) % PENDING_SHARDS}"


class OutboxItem(OutboxTable, discriminator="EVENTS"):
    """pk `EVENTS#<batch id>`, sk `EVENTS`. While unpublished it sits in the sparse GSI1 under `PENDING#<shard>`."""

    batch_id = UnicodeAttribute()
    event_types = string_list(default=list)
    event_count = NumberAttribute()
    detail = UnicodeAttribute()  # JSON list of event envelopes (events.md §1)
    created_at = UTCDateTimeAttribute()
    published_at = UTCDateTimeAttribute(null=True)

    @classmethod
    def from_events(cls, events: list[Event], now: datetime) -> OutboxItem:
        batch_id = new_id()
        return cls(
            pk=f"EVENTS#{batch_id}",
            sk="EVENTS",
            batch_id=batch_id,
            event_types=[event.type for event in events],
            event_count=len(events),
            detail=json.dumps([event.envelope() for event in events], separators=(",", ":"), ensure_ascii=False),
            created_at=now,
            gsi1pk=pending_shard(batch_id),
            gsi1sk=f"{iso(now)}#{batch_id}",
            ttl=now + RETENTION,
        )

    @property
    def envelopes(self) -> list[dict[str, Any]]:
        loaded: list[dict[str, Any]] = json.loads(self.detail)
        return loaded


def record(tx: Transaction, *events: Event) -> Transaction:
    """Add events to the transaction that changes the state they describe (written as one outbox item)."""
    tx.events.extend(events)
    return tx


def emit(*events: Event) -> None:
    """Events that accompany no other write (e.g. a failed login) still go through the outbox."""
    record(Transaction(), *events).commit()
