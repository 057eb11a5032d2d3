"""Publishes outbox events to the EventBridge bus, then marks them published.

Runs from the outbox table's DynamoDB stream in AWS, continuously in the local worker, and as the scheduled
`outbox-relay` sweep everywhere (the safety net for anything a stream invocation missed). Publishing is at least
once: a crash after PutEvents and before the mark publishes again, and consumers deduplicate on the event id.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.core import clock
from chalicelib.core.aws import aws_client
from chalicelib.core.config import get_settings
from chalicelib.core.logging import logger
from chalicelib.events.outbox import PENDING_SHARDS, OutboxItem

PUT_EVENTS_BATCH = 10


def publish_pending(limit: int = 500) -> dict[str, int]:
    """Publish every pending outbox event (oldest first per shard). Returns counts for the job result."""
    items: list[OutboxItem] = []
    for shard in range(PENDING_SHARDS):
        query = OutboxItem.gsi1.query(f"PENDING#{shard}", limit=limit)
        items.extend(item for item in query if isinstance(item, OutboxItem))
    items.sort(key=lambda item: item.created_at)
    published = publish(items[:limit])
    return {"pending": len(items), "published": published}


def publish(items: Iterable[OutboxItem]) -> int:
    settings = get_settings()
    events = aws_client("events")
    batch: list[OutboxItem] = []
    published = 0
    for item in items:
        if item.published_at is not None:
            continue
        batch.append(item)
        if len(batch) == PUT_EVENTS_BATCH:
            published += _publish_batch(events, settings.event_bus_name, batch)
            batch = []
    if batch:
        published += _publish_batch(events, settings.event_bus_name, batch)
    return published


def _publish_batch(events: Any, bus: str, batch: list[OutboxItem]) -> int:
    entries = [
        {"Source": item.source, "DetailType": item.event_type, "Detail": item.detail, "EventBusName": bus}
        for item in batch
    ]
    response = events.put_events(Entries=entries)
    published = 0
    now = clock.now()
    for item, result in zip(batch, response.get("Entries", []), strict=False):
        if result.get("ErrorCode"):
            logger.warning("event not published", event_id=item.event_id, error=result.get("ErrorCode"))
            continue
        # If another relay marked it first, the event went out at least once either way.
        with contextlib.suppress(UpdateError):
            item.update(
                actions=[
                    OutboxItem.published_at.set(now),
                    OutboxItem.gsi1pk.remove(),
                    OutboxItem.gsi1sk.remove(),
                ],
                condition=OutboxItem.published_at.does_not_exist(),
            )
        published += 1
    return published


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
