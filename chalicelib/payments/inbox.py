"""Provider webhooks: verify, persist, then process (contract checkout-and-payments.md §9).

`receive` runs in the webhook's request: the provider verifies the raw bytes (its own scheme), the webhook is
stored under the provider's event id (`attribute_not_exists`: a repeated delivery is stored once), a task is sent to
the `provider-webhooks` queue, and the provider gets 200 `{"received": true}` at once. `handle` is that queue's
consumer: it reads the stored webhook, lets the provider translate it (re-fetching its object where the event
alone is not authoritative) and applies it (`chalicelib.payments.provider_events`), once.

A webhook stored but not yet applied when the provider delivers it again is queued again, so a task lost between
the store and the queue (a crash, SQS refusing) is recovered by the provider's own retry; the queue's deduplication
and the inbox record's status keep the second task from applying anything twice.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.core import clock
from chalicelib.core.errors import BadRequest, ServiceUnavailable
from chalicelib.core.logging import logger
from chalicelib.events.tasks import Task, enqueue
from chalicelib.payments import provider_events, repository
from chalicelib.payments.hosted import InvalidWebhook
from chalicelib.payments.sessions import calling, hosted

CONSUMER = "provider-webhooks"
TASK_TYPE = "payment.webhook_received"
RECEIVED = {"received": True}


def _task(code: str, event_id: str) -> Task:
    key = f"webhook:{code}:{event_id}"
    return Task(TASK_TYPE, key, group=key, data={"provider": code, "event_id": event_id})


def _queue(code: str, event_id: str) -> None:
    if enqueue(CONSUMER, [_task(code, event_id)]) != 1:
        raise ServiceUnavailable("Webhook not queued; deliver it again")


def receive(code: str, headers: dict[str, str], body: bytes, source_ip: str | None) -> dict[str, Any]:
    """Verify the webhook on its raw bytes, store it once and queue it; the provider's answer (§9)."""
    implementation = hosted(code)
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        payload = calling(lambda: implementation.verify_webhook(lowered, body, source_ip))
    except InvalidWebhook as exc:
        raise BadRequest(exc.message) from exc
    event_id, event_type = implementation.event_key(payload)
    stored = repository.store_webhook(code, event_id, event_type, body, clock.now())
    if stored is None:
        earlier = repository.stored_webhook(code, event_id)
        if earlier is None or earlier.status == "PROCESSED":
            return RECEIVED  # a repeated delivery: nothing more to do
    _queue(code, event_id)
    return RECEIVED


def handle(envelope: dict[str, Any]) -> None:
    """The `provider-webhooks` consumer: apply one stored webhook (a processed one is skipped)."""
    data = envelope.get("data") or {}
    code, event_id = str(data.get("provider")), str(data.get("event_id"))
    inbox = repository.stored_webhook(code, event_id)
    if inbox is None or inbox.status == "PROCESSED":
        return

    event = hosted(code).translate(json.loads(inbox.payload))
    outcome = provider_events.apply(event, inbox)
    logger.info("provider webhook applied", provider=code, event_id=event_id, kind=event.kind.value, outcome=outcome)
