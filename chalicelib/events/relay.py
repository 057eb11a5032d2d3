"""Publishes outbox events to the EventBridge bus, then marks their outbox item published.

Runs from the outbox table's DynamoDB stream in AWS, continuously in the local worker, and as the scheduled
`outbox-relay` sweep everywhere (the safety net for anything a stream invocation missed). Publishing is at least
once: a crash after PutEvents and before the mark publishes again, and consumers deduplicate on the event id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from chalicelib.core import clock
from chalicelib.core.aws import aws_client
from chalicelib.core.config import get_settings
from chalicelib.core.logging import logger
from chalicelib.store.outbox import OutboxItem, mark_published, pending_items

PUT_EVENTS_BATCH = 10


def publish_pending(limit: int = 500) -> dict[str, int]:
    """Publish every pending outbox item (oldest first). Returns counts for the job result."""
    items = pending_items(limit)
    published = publish(items)
    return {"pending": len(items), "published": published}


def publish(items: Iterable[OutboxItem]) -> int:
    """Publish the events of each unpublished item; returns how many events went out."""
    events = aws_client("events")
    bus = get_settings().event_bus_name
    published = 0
    for item in items:
        if item.published_at is not None:
            continue
        envelopes = item.envelopes
        if _put_events(events, bus, envelopes):
            _mark_published(item)
            published += len(envelopes)
    return published


def _put_events(events: Any, bus: str, envelopes: list[dict[str, Any]]) -> bool:
    """True when the bus accepted every event; a partly refused batch is published again later, whole."""
    ok = True
    for start in range(0, len(envelopes), PUT_EVENTS_BATCH):
        chunk = envelopes[start : start + PUT_EVENTS_BATCH]
        entries = [
            {
                "Source": envelope["source"],
                "DetailType": envelope["type"],
                "Detail": json.dumps(envelope, separators=(",", ":"), ensure_ascii=False),
                "EventBusName": bus,
            }
            for envelope in chunk
        ]
        response = events.put_events(Entries=entries)
        for envelope, result in zip(chunk, response.get("Entries", []), strict=False):
            if result.get("ErrorCode"):
                logger.warning("event not published", event_id=envelope["id"], error=result.get("ErrorCode"))
                ok = False
    return ok


def _mark_published(item: OutboxItem) -> None:
    # If another relay marked it first, the events went out at least once either way.
    mark_published(item, clock.now())


def publish_stream_records(records: Iterable[Any]) -> int:
    """Handler body for the outbox table's DynamoDB stream (INSERT records carry the new item)."""
    items = []
    for record in records:
        if getattr(record, "event_name", None) != "INSERT":
            continue
        image = getattr(record, "new_image", None)
        if image:
            items.append(OutboxItem.from_raw_data(image))
    return publish(items)
