"""Idempotency-Key records (contract README §1.10): claimed, completed with the answer, or released.

pk `IDEM#<principal id>#<key>`, sk `IDEM`. A claim is a conditional put (absent, or older than the retention);
completion is conditional on the claim still being ours (`owner`), inside the answering transaction or on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from chalicelib.store.base import IdempotencyTable
from chalicelib.store.errors import save_if
from chalicelib.store.transactions import Transaction

RETENTION = timedelta(hours=24)


class IdempotencyRecordItem(IdempotencyTable, discriminator="IDEMPOTENCY"):
    fingerprint = UnicodeAttribute()
    status = UnicodeAttribute()
    owner = UnicodeAttribute()
    response_status = NumberAttribute(null=True)
    response_body = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, principal_id: str, key: str) -> tuple[str, str]:
        return f"IDEM#{principal_id}#{key}", "IDEM"


@dataclass(frozen=True)
class StoredAnswer:
    """What an earlier request with the same key left: its fingerprint and, once it finished, its answer."""

    fingerprint: str
    status: int | None
    body: str | None


def claim(principal_id: str, key: str, fingerprint: str, owner: str, now: datetime) -> IdempotencyRecordItem | None:
    """Claim the key for this request; None when someone holds it (read `stored` to find out what they left)."""
    pk, sk = IdempotencyRecordItem.key(principal_id, key)
    record = IdempotencyRecordItem(
        pk, sk, fingerprint=fingerprint, status="IN_PROGRESS", owner=owner, created_at=now, ttl=now + RETENTION
    )
    expired = IdempotencyRecordItem.created_at < now - RETENTION
    return save_if(record, IdempotencyRecordItem.pk.does_not_exist() | expired)


def stored(principal_id: str, key: str) -> StoredAnswer | None:
    try:
        item = IdempotencyRecordItem.get(*IdempotencyRecordItem.key(principal_id, key), consistent_read=True)
    except DoesNotExist:
        return None
    finished = item.status == "COMPLETED" and item.response_status is not None
    status = int(item.response_status) if finished and item.response_status is not None else None
    return StoredAnswer(item.fingerprint, status, item.response_body if finished else None)


def _ours(record: IdempotencyRecordItem) -> Condition:
    return IdempotencyRecordItem.owner == record.owner


def complete_in(tx: Transaction, record: IdempotencyRecordItem, status: int, body: str) -> None:
    """Store the answer in the transaction that produces it."""
    record.status = "COMPLETED"
    record.response_status = status
    record.response_body = body
    tx.put(record, (IdempotencyRecordItem.status == "IN_PROGRESS") & _ours(record), label="idempotency")


def complete(record: IdempotencyRecordItem, status: int, body: str) -> None:
    record.update(
        actions=[
            IdempotencyRecordItem.status.set("COMPLETED"),
            IdempotencyRecordItem.response_status.set(status),
            IdempotencyRecordItem.response_body.set(body),
        ],
        condition=_ours(record),
    )


def release(record: IdempotencyRecordItem) -> None:
    """Give the key back (the request did not answer in a way that counts)."""
    record.delete(condition=_ours(record))
