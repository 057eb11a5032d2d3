"""What paying an invoice can come to, in domain terms (contract checkout-and-payments.md §2.5, §5.4).

A provider reports how a payment started (`ProviderStart`); the payments service applies it — captures, authorizes,
records a declined attempt — and answers with a `PaymentOutcome`. Neither knows HTTP: the pay route maps the kind
to its status.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class PaymentKind(Enum):
    CAPTURED = "captured"  # the money is taken: the invoice is PAID and its lines active
    AUTHORIZED = "authorized"  # the money is held for a later capture: the invoice is AUTHORIZED
    INSTRUCTIONS = "instructions"  # the buyer pays outside (bank transfer): the invoice stays PENDING
    DECLINED = "declined"  # refused: the invoice stays PENDING, the attempt is counted
    REDIRECT = "redirect"  # the buyer pays on the provider's hosted page: the invoice stays PENDING until capture


@dataclass(frozen=True)
class Payment:
    """The payment that captures an invoice: who took the money and under which reference."""

    provider: str
    reference: str
    transaction_id: str | None = None
    saved_method: dict[str, Any] | None = None  # a method the provider can charge again (off-session)
    intent_id: str | None = None  # the provider's id of the money taken (PaymentIntent, capture): what refunds name


@dataclass(frozen=True)
class ProviderStart:
    """How a provider started paying an invoice. `payment` is the provider's public description (§2.5); the rest
    is what the payments service needs to apply it: the payment to capture with, the authorization's intent id, the
    decline's error."""

    kind: PaymentKind
    payment: dict[str, Any]
    captured_by: Payment | None = None
    intent_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class PaymentOutcome:
    """The answer of a pay: the invoice after it (JSON, §2.1), the `payment` object, the message."""

    kind: PaymentKind
    invoice: dict[str, Any]
    payment: dict[str, Any]
    message: str


@dataclass(frozen=True)
class SavedMethodCharge:
    """What a provider reports for an off-session charge of a saved method (checkout-and-payments.md §10.7):
    captured with `payment`, or declined with a code and a message. Domain terms only: never an HTTP status."""

    payment: Payment | None = None
    error_code: str | None = None
    error_message: str | None = None

    @classmethod
    def captured(cls, payment: Payment) -> SavedMethodCharge:
        return cls(payment=payment)

    @classmethod
    def declined(cls, code: str, message: str) -> SavedMethodCharge:
        return cls(error_code=code, error_message=message)

    @property
    def succeeded(self) -> bool:
        return self.payment is not None


class ProviderRefundFailed(Exception):
    """The provider refused to give the money back; the message is the provider's."""


class RefundKeyInUse(Exception):
    """The idempotency key already names a refund of another amount: someone else is refunding this invoice."""


class ProviderCaptureFailed(Exception):
    """The provider refused to capture an authorization; the message is the provider's."""
