"""Delivers one queued event to its consumer, exactly once per consumer as far as the consumer can tell.

A receipt (`chalicelib.store.receipts`) is claimed before the handler runs and completed after it; a failed
handler releases the claim so the queue's redelivery retries it, and a completed receipt makes redeliveries no-ops.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.core import clock
from chalicelib.core.logging import logger
from chalicelib.events.consumers import BY_NAME
from chalicelib.store import receipts


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
    receipt = receipts.claim(consumer_name, str(envelope["id"]), clock.now())
    if receipt is None:
        return False
    try:
        consumer.load()(envelope)
    except Exception:
        receipts.release(receipt)
        raise
    receipts.complete(receipt)
    logger.info("event consumed", consumer=consumer_name, event_type=envelope.get("type"), event_id=envelope["id"])
    return True
