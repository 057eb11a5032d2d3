"""Request and answer models of the admin's billing routes (contract admin.md §8.8, §9.6)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from chalicelib.auth.schemas import EMAIL_PATTERN
from chalicelib.core.ids import is_uuid
from chalicelib.core.money import parse_decimal
from chalicelib.core.times import parse_instant
from chalicelib.core.validation import Answer, Body, Instant, Money, PageKeys, PagingQuery, Uuid, one_of, refuse
from chalicelib.invoices.schemas import CreditNote
from chalicelib.invoices.statuses import INVOICE_STATUSES
from chalicelib.payments.schemas import AdminInvoice
from chalicelib.subscriptions.machine import STATUSES as SUBSCRIPTION_STATUSES
from chalicelib.subscriptions.schemas import AddonSubscription, SubscriptionWithPlan
from chalicelib.users.emails import MAX_EMAIL_LENGTH, normalize_email

DEFAULT_REASON = "Admin refund"
DEFAULT_REFERENCE = "ADMIN_REFUND"


def _text(value: Any, name: str, limit: int) -> str | None:
    """An optional free text: None when absent or empty, else a string of at most `limit` characters."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise refuse(f"{name} must be a string of at most {limit} characters")
    return value


class RefundBody(Body):
    """`POST /admin/invoices/<id>/refund` and `/admin/subscriptions/<id>/refund` (checkout-and-payments.md §7.2)."""

    amount: Decimal | None = Field(None, description="Money in the invoice currency; default the remainder")
    reason: Annotated[str, Field(max_length=500)] = DEFAULT_REASON
    refund_reference: Annotated[str, Field(max_length=255)] = DEFAULT_REFERENCE

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Decimal | None:
        if value is None:
            return None
        try:
            return parse_decimal(value)
        except ValueError as exc:
            raise refuse("Invalid amount") from exc

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, value: Any) -> str:
        return _text(value, "reason", 500) or DEFAULT_REASON

    @field_validator("refund_reference", mode="before")
    @classmethod
    def _reference(cls, value: Any) -> str:
        return _text(value, "refund_reference", 255) or DEFAULT_REFERENCE


class AdminSubscription(SubscriptionWithPlan):
    """A subscription as admin routes show it (admin.md §8): with its owner and the names VBWD's screens read"""

    user_email: str | None
    user_name: str | None
    plan_id: Uuid
    plan_name: str | None
    current_period_end: Instant | None
    canceled_at: Instant | None


class InvoiceRefundAnswer(Answer):
    """The refunded invoice and the credit note that records the refund"""

    invoice: AdminInvoice
    credit_note: CreditNote
    message: Literal["Invoice refunded", "Invoice partially refunded"]


class SubscriptionRefundAnswer(Answer):
    """The subscription after the refund of its latest paid invoice"""

    subscription: AdminSubscription
    invoice: AdminInvoice
    credit_note: CreditNote
    message: str


class AdminInvoiceDetail(AdminInvoice):
    """An invoice with its owner, plan and subscription (admin.md §9.2)"""

    user_name: str | None
    plan_name: str | None
    plan_description: str | None
    plan_billing_period: str | None
    plan_price: Money | None
    subscription_status: str | None
    subscription_start_date: Instant | None
    subscription_end_date: Instant | None
    subscription_is_trial: bool | None
    subscription_trial_end: Instant | None
    payment_attempts: int
    last_payment_error: str | None
    provider_session_id: str | None


class InvoiceDetailAnswer(Answer):
    """One invoice as the admin sees it"""

    invoice: AdminInvoiceDetail


class InvoiceVoidAnswer(Answer):
    """The voided invoice"""

    invoice: AdminInvoice
    message: Literal["Invoice voided"]


class MessageAnswer(Answer):
    """What was done"""

    message: str


class CreditNotesAnswer(Answer):
    """The invoice's credit notes, oldest first"""

    credit_notes: list[CreditNote]


class NoFields(Body):
    """A POST that reads no body (whatever is sent is ignored)."""


def _date(value: str | None) -> date | None:
    if value is None or value.strip() == "":
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise refuse(f"Invalid date: {value}") from exc


class AdminInvoicesQuery(PagingQuery):
    """`GET /admin/invoices/` (admin.md §9.1): a page, newest `invoiced_at` first."""

    status: Annotated[str | None, Field(description="Only invoices of this status (case-insensitive)")] = None
    user_id: Annotated[str | None, Field(description="Only this user's invoices")] = None
    search: Annotated[str | None, Field(description="An invoice number, or the owner's e-mail (exact)")] = None
    date_from: Annotated[str | None, Field(description="First day of `invoiced_at`, inclusive (YYYY-MM-DD)")] = None
    date_to: Annotated[str | None, Field(description="Last day of `invoiced_at`, inclusive (YYYY-MM-DD)")] = None

    @field_validator("status")
    @classmethod
    def _status(cls, value: str | None) -> str | None:
        return one_of(value, INVOICE_STATUSES, "status")

    @field_validator("user_id")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        return _uuid_filter(value, "user_id")

    @field_validator("date_from", "date_to")
    @classmethod
    def _dates(cls, value: str | None) -> str | None:
        parsed = _date(value)
        return parsed.isoformat() if parsed else None


class AdminInvoicesAnswer(PageKeys):
    """A page of invoices, newest first, with its paging keys (README §1.11)"""

    invoices: list[AdminInvoice]


def _uuid_filter(value: str | None, name: str) -> str | None:
    if value is None or value == "":
        return None
    if not is_uuid(value):
        raise refuse(f"Invalid {name} format")
    return value.lower()


class AdminSubscriptionsQuery(PagingQuery):
    """`GET /admin/subscriptions/` (admin.md §8.2): a page, newest first."""

    status: Annotated[
        str | None, Field(description="Only subscriptions of this status (case-insensitive; `canceled` accepted)")
    ] = None
    user_id: Annotated[str | None, Field(description="Only this user's subscriptions")] = None
    plan_id: Annotated[str | None, Field(description="Only subscriptions of this plan")] = None
    plan: Annotated[str | None, Field(description="Only subscriptions of the plan of this name (case-insensitive)")] = (
        None
    )
    search: Annotated[str | None, Field(description="The owner's e-mail (exact, case-insensitive)")] = None

    @field_validator("status")
    @classmethod
    def _status(cls, value: str | None) -> str | None:
        if value is not None and value.strip().upper() == "CANCELED":
            return "CANCELLED"
        return one_of(value, SUBSCRIPTION_STATUSES, "status")

    @field_validator("user_id")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        return _uuid_filter(value, "user_id")

    @field_validator("plan_id")
    @classmethod
    def _plan(cls, value: str | None) -> str | None:
        return _uuid_filter(value, "plan_id")


class AdminSubscriptionsAnswer(PageKeys):
    """A page of subscriptions, newest first, with its paging keys (README §1.11)"""

    subscriptions: list[AdminSubscription]


class AdminCancelBody(Body):
    """`POST /admin/subscriptions/<id>/cancel` (admin.md §8.5)."""

    reason: Annotated[str | None, Field(max_length=500)] = None
    immediately: bool = True

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, value: Any) -> str | None:
        return _text(value, "reason", 500)

    @field_validator("immediately", mode="before")
    @classmethod
    def _immediately(cls, value: Any) -> bool:
        if value is None:
            return True
        if not isinstance(value, bool):
            raise refuse("immediately must be a boolean")
        return value


class ExtendBody(Body):
    """`POST /admin/subscriptions/<id>/extend` (admin.md §8.4)."""

    days: Annotated[int, Field(ge=1, le=3650)] = 30

    @field_validator("days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> int:
        if value is None:
            return 30
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
            raise refuse("days must be a positive integer")
        return value


class AdminSubscriptionAnswer(Answer):
    """The subscription after the admin's change"""

    subscription: AdminSubscription
    message: str


class PaymentRecord(Answer):
    """An invoice of the subscription, in its payment history"""

    id: Uuid
    invoice_number: str
    amount: float
    currency: str
    status: str
    billing_reason: str
    created_at: Instant


class AdminSubscriptionDetail(AdminSubscription):
    """A subscription with its plan, add-ons and payment history (admin.md §8.3)"""

    plan_description: str | None
    plan_price: Money | None
    plan_billing_period: str | None
    add_ons: list[AddonSubscription]
    payment_history: list[PaymentRecord]


class AdminSubscriptionDetailAnswer(Answer):
    """One subscription as the admin sees it"""

    subscription: AdminSubscriptionDetail


class InvoiceDuplicateAnswer(Answer):
    """The new invoice"""

    invoice: AdminInvoice
    message: Literal["Invoice duplicated successfully"]


class PlanBody(Body):
    """`PUT /admin/subscriptions/<id>/plan` (admin.md §8.7)."""

    REQUIRED_PLAIN: ClassVar[dict[str, str]] = {"plan_id": "plan_id is required"}

    plan_id: str

    @field_validator("plan_id", mode="before")
    @classmethod
    def _plan(cls, value: Any) -> str:
        if value is None or value == "":
            raise refuse("plan_id is required")
        if not isinstance(value, str) or not is_uuid(value):
            raise refuse("Invalid plan_id format")
        return value.lower()


class ResendBody(Body):
    """`POST /admin/invoices/<id>/resend` (admin.md §9.11): an address other than the owner's, if any."""

    email: Annotated[str | None, Field(description="Where to send it; default the owner's e-mail")] = None

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> str | None:
        if value is None or value == "":
            return None
        email = normalize_email(value) if isinstance(value, str) else ""
        if len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(email):
            raise refuse("Invalid email format")
        return email


class ResendAnswer(Answer):
    """Where the invoice mail went"""

    message: Literal["Invoice sent"]
    sent_to: str


CREATABLE_STATUSES = ("ACTIVE", "TRIALING")
MAX_BILLING_PERIOD_MONTHS = 1200


def _uuid(value: Any, name: str) -> str:
    if value is None or value == "":
        raise refuse(f"{name} is required")
    if not isinstance(value, str) or not is_uuid(value):
        raise refuse(f"Invalid {name} format")
    return value.lower()


class CreateSubscriptionBody(Body):
    """`POST /admin/subscriptions/` (admin.md §8.1): `plan_id` may be sent as `tarif_plan_id`."""

    REQUIRED_PLAIN: ClassVar[dict[str, str]] = {"user_id": "user_id is required", "plan_id": "plan_id is required"}

    user_id: str
    plan_id: str
    started_at: datetime | None = Field(None, description="Default now (`Z`, an offset or naive UTC)")
    status: Literal["ACTIVE", "TRIALING"] = Field("ACTIVE", description="active (default) or trialing")
    billing_period_months: int | None = Field(
        None, ge=1, le=MAX_BILLING_PERIOD_MONTHS, description="The first period in calendar months"
    )

    @model_validator(mode="before")
    @classmethod
    def _plan_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("plan_id") in (None, "") and "tarif_plan_id" in data:
            return {**data, "plan_id": data["tarif_plan_id"]}
        return data

    @field_validator("user_id", mode="before")
    @classmethod
    def _user(cls, value: Any) -> str:
        return _uuid(value, "user_id")

    @field_validator("plan_id", mode="before")
    @classmethod
    def _plan(cls, value: Any) -> str:
        return _uuid(value, "plan_id")

    @field_validator("started_at", mode="before")
    @classmethod
    def _started(cls, value: Any) -> datetime | None:
        if value is None or value == "":
            return None
        try:
            return parse_instant(value)
        except ValueError as exc:
            raise refuse("Invalid started_at format. Use ISO 8601.") from exc

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: Any) -> str:
        if value is None or value == "":
            return "ACTIVE"
        status = value.upper() if isinstance(value, str) else value
        if status not in CREATABLE_STATUSES:
            raise refuse(f"Invalid status: {value}")
        return str(status)

    @field_validator("billing_period_months", mode="before")
    @classmethod
    def _months(cls, value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BILLING_PERIOD_MONTHS:
            raise refuse("Invalid billing_period_months")
        return value


class CreatedInvoice(Answer):
    """The invoice of the new subscription"""

    id: Uuid
    invoice_number: str
    amount: Money
    currency: str
    status: str


class CreatedSubscriptionAnswer(Answer):
    """The new subscription: VBWD's flat keys plus the full objects"""

    id: Uuid
    user_id: Uuid
    tarif_plan_id: Uuid
    status: Literal["ACTIVE", "TRIALING"]
    started_at: Instant | None
    expires_at: Instant | None
    trial_end_at: Instant | None
    created_at: Instant
    subscription: AdminSubscription
    invoice: CreatedInvoice


class AuthorizationAnswer(Answer):
    """What became of an authorization (admin.md §9.9, §9.10)"""

    invoice_id: Uuid
    status: Literal["PAID", "CANCELLED"]
