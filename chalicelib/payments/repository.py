"""Reads and writes of the payment paths' own records: pay locks and inbound provider events."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist

from chalicelib.core.ids import new_id
from chalicelib.payments.models import PayLockItem, ProviderEventItem
from chalicelib.store.errors import condition_failed, save_if
from chalicelib.store.transactions import Transaction

PAY_LOCK = timedelta(seconds=30)  # longer than any provider call; a crashed pay frees the invoice after it
LOCK_RETENTION = timedelta(minutes=5)
EVENT_RETENTION = timedelta(days=90)
PROVIDER_EVENT = "provider_event"  # the label of the event record in a capture's transaction


def take_pay_lock(invoice_id: str, now: datetime) -> PayLockItem | None:
    """The invoice's pay lock for this request, or None while another pay holds it (an expired one is taken)."""
    lock = PayLockItem(
        *PayLockItem.key(invoice_id),
        owner=new_id(),
        until=now + PAY_LOCK,
        ttl=now + PAY_LOCK + LOCK_RETENTION,
    )
    return save_if(lock, PayLockItem.pk.does_not_exist() | (PayLockItem.until < now))


def release_pay_lock(lock: PayLockItem) -> None:
    """Free the invoice for the next pay — only if the lock is still ours (after expiry another pay may own it)."""
    try:
        lock.delete(condition=PayLockItem.owner == lock.owner)
    except DeleteError as exc:
        if not condition_failed(exc):
            raise


def provider_event_answer(provider: str, event_id: str) -> dict[str, Any] | None:
    """The answer stored with an event already received, or None for a new one."""
    try:
        item = ProviderEventItem.get(*ProviderEventItem.key(provider, event_id), consistent_read=True)
    except DoesNotExist:
        return None
    stored: dict[str, Any] = json.loads(item.answer)
    return stored


def record_provider_event(
    tx: Transaction, provider: str, event_id: str, invoice_id: str, answer: dict[str, Any], now: datetime
) -> None:
    """The event with the answer it got, once per event id (`attribute_not_exists`): a racing delivery of the same
    event has its transaction refused on this part."""
    item = ProviderEventItem(
        *ProviderEventItem.key(provider, event_id),
        provider=provider,
        event_id=event_id,
        invoice_id=invoice_id,
        answer=json.dumps(answer),
        received_at=now,
        ttl=now + EVENT_RETENTION,
    )
    tx.create(item, label=PROVIDER_EVENT)
