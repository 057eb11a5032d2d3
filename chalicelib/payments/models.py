"""Records of the payment paths: the per-invoice pay lock and the attempts of off-session charges (`idempotency`
table), inbound provider events and the sandbox provider's own memory (`provider-events` table)."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)

from chalicelib.store.attributes import DecimalAttribute
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


class ChargeAttemptItem(IdempotencyTable, discriminator="CHARGE_ATTEMPT"):
    """pk `CHARGE#<invoice id>`, sk `ATTEMPT#<attempt, 6 digits>`: one off-session charge attempt of an invoice.

    Claimed (`CLAIMED`, `attribute_not_exists`) in the transaction that counts the attempt on the invoice, before
    the provider is called with the idempotency key `<invoice id>:<attempt>`; closed `CAPTURED`, `DECLINED` or
    `ORPHANED` when its outcome is written. An attempt still `CLAIMED` when the next charge of the invoice starts
    belonged to a charger that crashed: the provider is asked again with the same key."""

    invoice_id = UnicodeAttribute()
    attempt = NumberAttribute()
    provider = UnicodeAttribute()
    status = UnicodeAttribute()
    claimed_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)
    error_code = UnicodeAttribute(null=True)
    payment_reference = UnicodeAttribute(null=True)
    version = VersionAttribute()

    @classmethod
    def partition(cls, invoice_id: str) -> str:
        return f"CHARGE#{invoice_id}"

    @classmethod
    def key(cls, invoice_id: str, attempt: int) -> tuple[str, str]:
        return cls.partition(invoice_id), f"ATTEMPT#{attempt:06d}"

    @property
    def idempotency_key(self) -> str:
        """What the provider deduplicates the charge on (checkout-and-payments.md §10.7)."""
        return f"{self.invoice_id}:{int(self.attempt)}"


class SandboxOutcomeItem(ProviderEventsTable, discriminator="SANDBOX_OUTCOME"):
    """pk `SANDBOX#OUTCOME#<user id>`, sk `OUTCOME`: how the sandbox answers the user's future off-session charges
    (`succeed` when absent; checkout-and-payments.md §10.2)."""

    outcome = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, user_id: str) -> tuple[str, str]:
        return f"SANDBOX#OUTCOME#{user_id}", "OUTCOME"


class SandboxChargeItem(ProviderEventsTable, discriminator="SANDBOX_CHARGE"):
    """pk `SANDBOX#CHARGE#<idempotency key>`, sk `CHARGE`: the sandbox's answer to an off-session charge, kept as a
    real provider keeps it, so a repeated key gets the first answer."""

    succeeded = BooleanAttribute()
    reference = UnicodeAttribute(null=True)
    saved_method = JSONAttribute(null=True)
    error_code = UnicodeAttribute(null=True)
    error_message = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, idempotency_key: str) -> tuple[str, str]:
        return f"SANDBOX#CHARGE#{idempotency_key}", "CHARGE"


class SandboxRefundItem(ProviderEventsTable, discriminator="SANDBOX_REFUND"):
    """pk `SANDBOX#REFUND#<idempotency key>`, sk `REFUND`: a refund the sandbox made, so a repeated key gets the
    same refund (and moves no money twice)."""

    invoice_id = UnicodeAttribute()
    amount = DecimalAttribute()
    reference = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, idempotency_key: str) -> tuple[str, str]:
        return f"SANDBOX#REFUND#{idempotency_key}", "REFUND"


class SandboxRefundedItem(ProviderEventsTable, discriminator="SANDBOX_REFUNDED"):
    """pk `SANDBOX#REFUNDED#<invoice id>`, sk `TOTAL`: how much of the invoice's capture the sandbox gave back;
    like a card processor it never refunds more than it captured."""

    refunded = DecimalAttribute()
    version = VersionAttribute()

    @classmethod
    def key(cls, invoice_id: str) -> tuple[str, str]:
        return f"SANDBOX#REFUNDED#{invoice_id}", "TOTAL"


class ProviderSessionItem(ProviderEventsTable, discriminator="PROVIDER_SESSION"):
    """pk `SESSION#<provider>#<session id>`, sk `SESSION`: a hosted payment session opened for an invoice, so that
    its status is answered to the invoice's owner only (checkout-and-payments.md §10.1)."""

    provider = UnicodeAttribute()
    session_id = UnicodeAttribute()
    invoice_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, provider: str, session_id: str) -> tuple[str, str]:
        return f"SESSION#{provider}#{session_id}", "SESSION"


class WebhookInboxItem(ProviderEventsTable, discriminator="WEBHOOK_INBOX"):
    """pk `INBOX#<provider>#<provider's event id>`, sk `INBOX`: a verified provider webhook, stored before it is
    processed (§9): `RECEIVED` until the `provider-webhooks` consumer applied it, then `PROCESSED` with what it did.
    Written with `attribute_not_exists`, so a delivery the provider repeats is stored — and applied — once."""

    provider = UnicodeAttribute()
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute(null=True)
    payload = UnicodeAttribute()  # the verified raw body, as received
    status = UnicodeAttribute()
    outcome = UnicodeAttribute(null=True)
    received_at = UTCDateTimeAttribute()
    processed_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()

    @classmethod
    def key(cls, provider: str, event_id: str) -> tuple[str, str]:
        return f"INBOX#{provider}#{event_id}", "INBOX"
