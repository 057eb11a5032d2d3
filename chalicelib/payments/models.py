"""Records of the payment paths: the per-invoice pay lock (`idempotency` table) and inbound provider events
(`provider-events` table)."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.store.base import IdempotencyTable, ProviderEventsTable


class PayLockItem(IdempotencyTable, discriminator="PAY_LOCK"):
    """pk `PAYLOCK#<invoice id>`, sk `LOCK`: one payment start per invoice at a time (409 for the others)."""

    owner = UnicodeAttribute()
    until = UTCDateTimeAttribute()

    @classmethod
    def key(cls, invoice_id: str) -> tuple[str, str]:
        return f"PAYLOCK#{invoice_id}", "LOCK"


class ProviderEventItem(ProviderEventsTable, discriminator="PROVIDER_EVENT"):
    """pk `EVENT#<provider>#<event id>`: an inbound payment notification, stored with the answer it got."""

    provider = UnicodeAttribute()
    event_id = UnicodeAttribute()
    invoice_id = UnicodeAttribute(null=True)
    answer = UnicodeAttribute()
    received_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, provider: str, event_id: str) -> tuple[str, str]:
        return f"EVENT#{provider}#{event_id}", "EVENT"
