"""Consumer receipts (idempotency table): an event is applied once per consumer, however often it is delivered.

pk `RECEIPT#<consumer>#<event id>`, sk `RECEIPT`. A receipt is claimed before the consumer's handler runs
(absent, or a claim whose lease ran out — the handler that held it died), marked `DONE` after, and released when
the handler failed so that the queue's redelivery runs it again. A `DONE` receipt turns every later delivery into
a no-op; it expires with the retention, long after the queue's last possible redelivery.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError

from chalicelib.core.logging import logger
from chalicelib.store.base import IdempotencyTable
from chalicelib.store.errors import save_if

RETENTION = timedelta(days=7)
CLAIM_LEASE = timedelta(minutes=5)


class ReceiptItem(IdempotencyTable, discriminator="RECEIPT"):
    """pk `RECEIPT#<consumer>#<event id>`, sk `RECEIPT`."""

    status = UnicodeAttribute()
    lease_until = UTCDateTimeAttribute()

    @classmethod
    def key(cls, consumer_name: str, event_id: str) -> tuple[str, str]:
        return f"RECEIPT#{consumer_name}#{event_id}", "RECEIPT"


def claim(consumer_name: str, event_id: str, now: datetime) -> ReceiptItem | None:
    """Claim the event for the consumer; None when it was done already or another delivery holds a live claim."""
    pk, sk = ReceiptItem.key(consumer_name, event_id)
    receipt = ReceiptItem(pk, sk, status="CLAIMED", lease_until=now + CLAIM_LEASE, ttl=now + RETENTION)
    stale_claim = (ReceiptItem.status == "CLAIMED") & (ReceiptItem.lease_until < now)
    return save_if(receipt, ReceiptItem.pk.does_not_exist() | stale_claim)


def complete(receipt: ReceiptItem) -> None:
    """The handler ran: every later delivery of the event is a no-op."""
    receipt.update(actions=[ReceiptItem.status.set("DONE")])


def release(receipt: ReceiptItem) -> None:
    """The handler failed: give the claim back so a redelivery runs it again (a lost release only waits out the
    lease)."""
    try:
        receipt.delete(condition=ReceiptItem.status == "CLAIMED")
    except DeleteError:
        logger.warning("could not release receipt", receipt=receipt.pk)
