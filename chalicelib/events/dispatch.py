"""Delivers one queued event to its consumer, exactly once per consumer as far as the consumer can tell.

A receipt item (idempotency table) is claimed before the handler runs and completed after it; a failed handler
releases the claim so the queue's redelivery retries it, and a completed receipt makes redeliveries no-ops.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError, PutError

from chalicelib.core import clock
from chalicelib.core.logging import logger
from chalicelib.events.consumers import BY_NAME
from chalicelib.store.base import IdempotencyTable
from chalicelib.store.errors import condition_failed

RECEIPT_RETENTION = timedelta(days=7)
CLAIM_LEASE = timedelta(minutes=5)


class ReceiptItem(IdempotencyTable, discriminator="RECEIPT"):
    """pk `RECEIPT#<consumer>#<event id>`, sk `RECEIPT`."""

    status = UnicodeAttribute()
    lease_until = UTCDateTimeAttribute()


def envelope_of(message_body: str) -> dict[str, Any]:
    """SQS bodies are EventBridge events; our envelope is their `detail`."""
    message = json.loads(message_body)
    detail = message.get("detail", message)
    if isinstance(detail, str):
        detail = json.loads(detail)
    if not isinstance(detail, dict):
        raise ValueError("event detail is not an object")
    return detail


def deliver(consumer_name: str, message_body: str) -> bool:
    """Run the consumer's handler for this message. Returns False when it was a duplicate or not for it."""
    consumer = BY_NAME[consumer_name]
    envelope = envelope_of(message_body)
    if envelope.get("type") not in consumer.event_types:
        return False
    receipt = _claim(consumer_name, str(envelope["id"]))
    if receipt is None:
        return False
    try:
        consumer.load()(envelope)
    except Exception:
        _release(receipt)
        raise
    receipt.update(actions=[ReceiptItem.status.set("DONE")])
    logger.info("event consumed", consumer=consumer_name, event_type=envelope.get("type"), event_id=envelope["id"])
    return True


def _claim(consumer_name: str, event_id: str) -> ReceiptItem | None:
    now = clock.now()
    receipt = ReceiptItem(
        pk=f"RECEIPT#{consumer_name}#{event_id}",
        sk="RECEIPT",
        status="CLAIMED",
        lease_until=now + CLAIM_LEASE,
        ttl=now + RECEIPT_RETENTION,
    )
    stale_claim = (ReceiptItem.status == "CLAIMED") & (ReceiptItem.lease_until < now)
    try:
        receipt.save(condition=ReceiptItem.pk.does_not_exist() | stale_claim)
    except PutError as exc:
        if condition_failed(exc):
            return None
        raise
    return receipt


def _release(receipt: ReceiptItem) -> None:
    try:
        receipt.delete(condition=ReceiptItem.status == "CLAIMED")
    except DeleteError:
        logger.warning("could not release receipt", receipt=receipt.pk)
