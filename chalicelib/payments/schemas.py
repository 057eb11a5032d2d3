"""Request and answer models of paying an invoice, marking one paid and the signed payment webhook (contract
checkout-and-payments.md §2.5, §5.4, §8; admin.md §9.4)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from chalicelib.core.ids import is_uuid
from chalicelib.core.money import parse_decimal
from chalicelib.core.validation import Answer, Body, Instant, Money, Uuid, refuse
from chalicelib.invoices.schemas import Invoice, ItemsActivated

SANDBOX_OUTCOMES = ("succeed", "fail", "authorize")


def as_text(value: Any) -> str:
    """How a client's value is named in an error: a string as sent, anything else as JSON (`null`, `5`, `1.5`)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=lambda number: float(number) if isinstance(number, Decimal) else str(number))


def invoice_id_text(value: Any) -> str:
    """An `invoice_id` field of a body: a UUID, lower-cased (400 `Invalid invoice_id format`)."""
    if not is_uuid(value):
        raise refuse("Invalid invoice_id format")
    return str(value).lower()


def given(value: Any) -> bool:
    """`null` and `[]` count as "not given" (checkout-and-payments.md §5.1)."""
    return value is not None and value != []


def code_text(value: Any) -> str | None:
    """A code field (currency, payment method): trimmed; null, `[]` or blank mean "not given". Any other JSON value
    is kept as its JSON text, so the rule that checks the code refuses it by name instead of ignoring it."""
    if not given(value):
        return None
    if isinstance(value, str):
        return value.strip() or None
    return as_text(value)


class PayBody(Body):
    """`POST /user/invoices/<id>/pay`."""

    payment_method_code: Annotated[
        str | None, Field(description="Switch the invoice to this method first (it must be available)")
    ] = None
    sandbox_outcome: Annotated[
        Literal["succeed", "fail", "authorize"] | None, Field(description="Sandbox only (default `succeed`)")
    ] = None

    @field_validator("payment_method_code", mode="before")
    @classmethod
    def _method(cls, value: Any) -> str | None:
        return code_text(value)

    @field_validator("sandbox_outcome", mode="before")
    @classmethod
    def _outcome(cls, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or value not in SANDBOX_OUTCOMES:
            raise refuse(f"Invalid sandbox_outcome: {as_text(value)}")
        return value


class MarkPaidBody(Body):
    """`POST /admin/invoices/<id>/mark-paid`."""

    payment_reference: Annotated[str, Field(min_length=1, max_length=255)] = "MANUAL"
    payment_method: Annotated[str, Field(min_length=1, max_length=50)] = "manual"

    @field_validator("payment_reference", mode="before")
    @classmethod
    def _reference(cls, value: Any) -> str:
        if not isinstance(value, str) or not 1 <= len(value) <= 255:
            raise refuse("payment_reference must be 1-255 characters")
        return value

    @field_validator("payment_method", mode="before")
    @classmethod
    def _method(cls, value: Any) -> str:
        if not isinstance(value, str) or not 1 <= len(value) <= 50:
            raise refuse("payment_method must be 1-50 characters")
        return value


OFF_SESSION_OUTCOMES = ("succeed", "fail")


class SandboxOutcomeBody(Body):
    """`PUT /plugins/sandbox/outcome` (§10.2): how the sandbox answers the caller's future off-session charges."""

    outcome: Annotated[Literal["succeed", "fail"], Field(description="`fail` declines renewals, retries, upgrades")]

    @model_validator(mode="before")
    @classmethod
    def _outcome(cls, data: Any) -> Any:
        value = data.get("outcome") if isinstance(data, dict) else None
        if not isinstance(value, str) or value not in OFF_SESSION_OUTCOMES:
            raise refuse(f"Invalid outcome: {as_text(value)}")
        return data


REQUIRED_NOTIFICATION_FIELDS = ("invoice_id", "payment_reference", "amount", "currency")


class PaymentNotification(Body):
    """`POST /webhooks/payment`, parsed once its signature is verified (§8.1). Checks in the contract's order: the
    required fields, then each field's format."""

    invoice_id: Uuid
    payment_reference: Annotated[str, Field(max_length=255)]
    currency: str
    amount: Annotated[Decimal, Field(description="A decimal string or a JSON number; must equal the invoice total")]
    event_id: Annotated[
        str | None, Field(min_length=1, max_length=255, description="The deduplication key (default: the reference)")
    ] = None
    provider: Annotated[str, Field(max_length=50, description="Recorded as the payment method")] = "webhook"

    @model_validator(mode="before")
    @classmethod
    def _required(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in REQUIRED_NOTIFICATION_FIELDS:
                if data.get(name) in (None, ""):
                    raise refuse(f"{name} is required")
        return data

    @field_validator("invoice_id", mode="before")
    @classmethod
    def _invoice_id(cls, value: Any) -> str:
        return invoice_id_text(value)

    @field_validator("payment_reference", mode="before")
    @classmethod
    def _reference(cls, value: Any) -> str:
        if not isinstance(value, str) or len(value) > 255:
            raise refuse("payment_reference must be a string of at most 255 characters")
        return value

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: Any) -> str:
        if not isinstance(value, str):
            raise refuse("currency must be a string")
        return value

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Decimal:
        try:
            return parse_decimal(value)
        except ValueError as exc:
            raise refuse("Invalid amount") from exc

    @field_validator("event_id", mode="before")
    @classmethod
    def _event_id(cls, value: Any) -> str | None:
        if value is not None and (not isinstance(value, str) or not 1 <= len(value) <= 255):
            raise refuse("event_id must be a string of 1 to 255 characters")
        return value

    @field_validator("provider", mode="before")
    @classmethod
    def _provider(cls, value: Any) -> str:
        if not value:
            return "webhook"
        if not isinstance(value, str) or len(value) > 50:
            raise refuse("provider must be a string of at most 50 characters")
        return value


# --- answers ---------------------------------------------------------------------------------------------------


class SandboxPayment(Answer):
    """The sandbox took or holds the money"""

    provider: Literal["sandbox"]
    status: Literal["captured", "authorized"]
    reference: str


class BankInstructions(Answer):
    """How to pay by bank transfer (§10.3)"""

    text: str | None
    account_holder: str | None
    bank_name: str | None
    iban: str | None
    bic: str | None
    reference: str = Field(description="The invoice number, to quote with the transfer")
    amount: Money
    currency: str
    due_date: Instant | None


class InstructionsPayment(Answer):
    """The buyer pays outside: the admin marks the invoice paid when the money arrives"""

    provider: Literal["invoice"]
    status: Literal["pending"]
    instructions: BankInstructions


class DeclinedPayment(Answer):
    """The provider refused the payment"""

    provider: str
    status: Literal["failed"]
    error_code: str


class PaymentTaken(Answer):
    """Captured (the invoice is PAID, its lines active) or authorized (AUTHORIZED, capture later)"""

    invoice: Invoice
    message: Literal["Payment successful", "Payment authorized"]
    payment: SandboxPayment


class RedirectPayment(Answer):
    """The buyer completes the payment on the provider's hosted page (§10.4–§10.6)"""

    provider: Literal["stripe", "paypal", "yookassa"]
    status: Literal["requires_action"]
    session_id: str
    session_url: str | None
    redirect_url: str | None


class PaymentPending(Answer):
    """Payment instructions issued, or a redirect to the provider's page: the invoice stays PENDING"""

    invoice: Invoice
    message: Literal["Payment instructions issued", "Redirect to complete payment"]
    payment: InstructionsPayment | RedirectPayment


class PaymentDeclined(Answer):
    """The payment failed: the invoice stays PENDING and can be paid again"""

    error: Literal["Payment failed"]
    invoice: Invoice
    payment: DeclinedPayment


class AdminInvoice(Invoice):
    """An invoice as admin routes show it (admin.md §9): with its owner's e-mail"""

    user_email: str | None


class MarkPaidAnswer(Answer):
    """The invoice captured by the admin, and what the capture activated"""

    invoice: AdminInvoice
    message: Literal["Invoice marked as paid"]
    items_activated: ItemsActivated


class WebhookAnswer(Answer):
    """The payment was captured — or, for a repeated event, the first answer with `duplicate: true`"""

    status: Literal["paid"]
    invoice_id: Uuid
    payment_reference: str | None
    items_activated: ItemsActivated
    duplicate: bool | None = Field(None, description="Present (true) when the event was received before")


class WebhookTestAnswer(Answer):
    """The endpoint is reachable; with a signature header, whether it verifies"""

    status: Literal["ok"]
    message: Literal["Webhook endpoint is reachable"]
    signature_valid: bool | None = Field(None, description="Present when an X-VBWD-Signature header was sent")


class SandboxOutcome(Answer):
    """The result of the caller's future off-session sandbox charges"""

    outcome: Literal["succeed", "fail"]


class SessionBody(Body):
    """`POST /plugins/<provider>/create-session` (§10.1)."""

    invoice_id: Uuid

    @model_validator(mode="before")
    @classmethod
    def _required(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("invoice_id") in (None, ""):
            raise refuse("invoice_id is required")
        return data

    @field_validator("invoice_id", mode="before")
    @classmethod
    def _invoice_id(cls, value: Any) -> str:
        return invoice_id_text(value)


class HostedSessionAnswer(Answer):
    """The provider's session for the invoice: where to send the buyer"""

    session_id: str
    session_url: str | None
    payment_intent_id: str | None = Field(None, description="Stripe: the PaymentIntent (manual capture)")
    client_secret: str | None = Field(None, description="Stripe manual capture: the PaymentIntent's client secret")
    capture_method: Literal["manual"] | None = None


class SessionStatusAnswer(Answer):
    """What the provider says of the session; a paid one has been captured before this answer"""

    status: Literal["paid", "unpaid", "pending", "expired", "no_payment_required"]
    amount_total: int = Field(description="Minor units of the currency")
    currency: str
    invoice_id: Uuid
    invoice_status: str | None


class WebhookReceived(Answer):
    """The webhook verified and stored; it is applied from the queue"""

    received: Literal[True]
