"""Reads and writes of the payment paths' own records: pay locks, off-session charge attempts, inbound provider
events, and the sandbox provider's memory (the outcome a user chose, the answers it gave)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist

from chalicelib.core.ids import new_id
from chalicelib.invoices import repository as invoice_store
from chalicelib.invoices.models import InvoiceItem
from chalicelib.payments.models import (
    ChargeAttemptItem,
    PayLockItem,
    ProviderEventItem,
    ProviderSessionItem,
    SandboxChargeItem,
    SandboxOutcomeItem,
    SandboxRefundedItem,
    SandboxRefundItem,
    WebhookInboxItem,
)
from chalicelib.store.errors import condition_failed, save_if
from chalicelib.store.transactions import Transaction, TransactionCancelled

PAY_LOCK = timedelta(seconds=30)  # longer than any provider call; a crashed pay frees the invoice after it
LOCK_RETENTION = timedelta(minutes=5)
EVENT_RETENTION = timedelta(days=90)
PROVIDER_EVENT = "provider_event"  # the label of the event record in a capture's transaction
CHARGE_ATTEMPT = "charge_attempt"
ATTEMPT_RETENTION = timedelta(days=90)
SANDBOX_MEMORY = timedelta(days=90)


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


# --- hosted sessions and the webhook inbox (§9–§10) ------------------------------------------------------------

SESSION_RETENTION = timedelta(days=90)
INBOX_RETENTION = timedelta(days=90)
INBOX = "webhook_inbox"  # the label of the inbox record in the transaction that applies it


def remember_session(provider: str, session_id: str, invoice: InvoiceItem, now: datetime) -> None:
    ProviderSessionItem(
        *ProviderSessionItem.key(provider, session_id),
        provider=provider,
        session_id=session_id,
        invoice_id=invoice.id,
        user_id=invoice.user_id,
        created_at=now,
        ttl=now + SESSION_RETENTION,
    ).save()


def find_session(provider: str, session_id: str) -> ProviderSessionItem | None:
    try:
        return ProviderSessionItem.get(*ProviderSessionItem.key(provider, session_id), consistent_read=True)
    except DoesNotExist:
        return None


def store_webhook(
    provider: str, event_id: str, event_type: str | None, payload: bytes, now: datetime
) -> WebhookInboxItem | None:
    """Keep a verified webhook before anything is done with it: the new record, or None when this event id was
    stored before (a repeated delivery)."""
    item = WebhookInboxItem(
        *WebhookInboxItem.key(provider, event_id),
        provider=provider,
        event_id=event_id,
        event_type=event_type,
        payload=payload.decode("utf-8", errors="replace"),
        status="RECEIVED",
        received_at=now,
        ttl=now + INBOX_RETENTION,
    )
    return save_if(item, WebhookInboxItem.pk.does_not_exist())


def stored_webhook(provider: str, event_id: str) -> WebhookInboxItem | None:
    try:
        return WebhookInboxItem.get(*WebhookInboxItem.key(provider, event_id), consistent_read=True)
    except DoesNotExist:
        return None


def mark_webhook_processed(tx: Transaction, item: WebhookInboxItem, outcome: str, now: datetime) -> None:
    """The webhook applied, in the transaction of its effects (version-conditional: two consumers of one redelivered
    message apply it once)."""
    item.status = "PROCESSED"
    item.outcome = outcome
    item.processed_at = now
    tx.put(item, label=INBOX)


# --- off-session charge attempts -------------------------------------------------------------------------------


def open_attempt(invoice_id: str) -> ChargeAttemptItem | None:
    """An attempt of the invoice still `CLAIMED` — its charger crashed after the claim (one consistent Query of the
    invoice's attempts, a handful at most)."""
    query = ChargeAttemptItem.query(ChargeAttemptItem.partition(invoice_id), consistent_read=True)
    return next((a for a in query if isinstance(a, ChargeAttemptItem) and a.status == "CLAIMED"), None)


def claim_attempt(tx: Transaction, invoice: InvoiceItem, provider: str, now: datetime) -> ChargeAttemptItem:
    """Count the next attempt on the invoice (version-conditional) and claim its record (`attribute_not_exists`):
    of two chargers that read the same invoice only one claims the attempt."""
    attempt = int(invoice.payment_attempts or 0) + 1
    invoice.payment_attempts = attempt
    invoice.updated_at = now
    invoice_store.update_invoice(tx, invoice)
    record = ChargeAttemptItem(
        *ChargeAttemptItem.key(invoice.id, attempt),
        invoice_id=invoice.id,
        attempt=attempt,
        provider=provider,
        status="CLAIMED",
        claimed_at=now,
        ttl=now + ATTEMPT_RETENTION,
    )
    tx.create(record, label=CHARGE_ATTEMPT)
    return record


def close_attempt(
    tx: Transaction,
    record: ChargeAttemptItem,
    status: str,
    now: datetime,
    *,
    error_code: str | None = None,
    reference: str | None = None,
) -> None:
    """The attempt's outcome, in the transaction that writes it (conditional on the version claimed)."""
    record.status = status
    record.finished_at = now
    record.error_code = error_code
    record.payment_reference = reference
    tx.put(record, label=CHARGE_ATTEMPT)


# --- the sandbox provider's memory ----------------------------------------------------------------------------

SANDBOX_DEFAULT_OUTCOME = "succeed"


def sandbox_outcome(user_id: str) -> str:
    """How the sandbox answers the user's off-session charges (`succeed` unless the user chose `fail`)."""
    try:
        item = SandboxOutcomeItem.get(*SandboxOutcomeItem.key(user_id), consistent_read=True)
    except DoesNotExist:
        return SANDBOX_DEFAULT_OUTCOME
    return str(item.outcome)


def set_sandbox_outcome(user_id: str, outcome: str, now: datetime) -> None:
    """A plain put: the user's own choice, last one wins."""
    SandboxOutcomeItem(*SandboxOutcomeItem.key(user_id), outcome=outcome, updated_at=now).save()


def sandbox_answer(idempotency_key: str) -> SandboxChargeItem | None:
    try:
        return SandboxChargeItem.get(*SandboxChargeItem.key(idempotency_key), consistent_read=True)
    except DoesNotExist:
        return None


def remember_sandbox_answer(
    idempotency_key: str,
    now: datetime,
    *,
    reference: str | None = None,
    saved_method: dict[str, Any] | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> SandboxChargeItem:
    """Keep the first answer given for a key (`attribute_not_exists`): a charge racing with the same key gets the
    answer that was stored first, whatever it would have answered itself."""
    answer = SandboxChargeItem(
        *SandboxChargeItem.key(idempotency_key),
        succeeded=reference is not None,
        reference=reference,
        saved_method=saved_method,
        error_code=error_code,
        error_message=error_message,
        created_at=now,
        ttl=now + SANDBOX_MEMORY,
    )
    stored = save_if(answer, SandboxChargeItem.pk.does_not_exist())
    if stored is not None:
        return stored
    return SandboxChargeItem.get(answer.pk, answer.sk, consistent_read=True)


def sandbox_refund(idempotency_key: str) -> SandboxRefundItem | None:
    try:
        return SandboxRefundItem.get(*SandboxRefundItem.key(idempotency_key), consistent_read=True)
    except DoesNotExist:
        return None


def sandbox_refunded(invoice_id: str) -> SandboxRefundedItem | None:
    try:
        return SandboxRefundedItem.get(*SandboxRefundedItem.key(invoice_id), consistent_read=True)
    except DoesNotExist:
        return None


def remember_sandbox_refund(
    idempotency_key: str, invoice_id: str, amount: Decimal, captured: Decimal, reference: str, now: datetime
) -> SandboxRefundItem | None:
    """Record a sandbox refund under its key, with the invoice's refunded total, in one transaction: refused (None)
    when the key is already taken or the total would pass what was captured (`captured`); the caller reads which."""
    total = sandbox_refunded(invoice_id) or SandboxRefundedItem(
        *SandboxRefundedItem.key(invoice_id), refunded=Decimal(0)
    )
    if total.refunded + amount > captured:
        return None
    total.refunded = total.refunded + amount
    total.ttl = now + SANDBOX_MEMORY
    record = SandboxRefundItem(
        *SandboxRefundItem.key(idempotency_key),
        invoice_id=invoice_id,
        amount=amount,
        reference=reference,
        created_at=now,
        ttl=now + SANDBOX_MEMORY,
    )
    tx = Transaction()
    tx.create(record, label="sandbox_refund")
    tx.put(total, label="sandbox_refunded")  # on the version read: concurrent refunds add up or one retries
    try:
        tx.commit()
    except TransactionCancelled:
        return None
    return record
