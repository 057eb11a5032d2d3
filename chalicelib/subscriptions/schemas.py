"""Request and answer models of the user's subscription and add-on routes (contract subscriptions.md §2, §12.1–§12.2).

`Subscription` and `AddonSubscription` are the objects of §2.1 and §2.3; other domains that answer with them
(checkout) document their answers with these models too. Statuses are `machine.SubscriptionStatus`, billing periods
and plans' short forms the catalog's.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from chalicelib.catalog.schemas import BillingPeriod, CategorySummary, PlanRef
from chalicelib.core.ids import is_uuid
from chalicelib.core.validation import (
    Answer,
    Body,
    Instant,
    Money,
    PagingQuery,
    QueryString,
    Uuid,
    WholeList,
    WholeListKeys,
    one_of,
    refuse,
)
from chalicelib.invoices.schemas import Invoice
from chalicelib.invoices.statuses import InvoiceStatus
from chalicelib.subscriptions import machine
from chalicelib.subscriptions.machine import SubscriptionStatus


class SubscriptionsQuery(PagingQuery):
    """`GET /user/subscriptions`: a whole list, optionally of one status, paged when paging is asked for."""

    status: Annotated[str | None, Field(description="Only subscriptions of this status (case-insensitive)")] = None

    @field_validator("status")
    @classmethod
    def _status(cls, value: str | None) -> str | None:
        return one_of(value, machine.STATUSES, "status")


# --- answers ---------------------------------------------------------------------------------------------------


class PlanSummary(PlanRef):
    """The subscription's plan (§2.2)"""

    price: float = Field(description="A JSON number in the plan's currency")
    currency: str
    billing_period: BillingPeriod
    categories: list[CategorySummary]


class Subscription(Answer):
    """A subscription (§2.1)"""

    id: Uuid
    user_id: Uuid
    tarif_plan_id: Uuid
    pending_plan_id: Uuid | None
    status: SubscriptionStatus
    is_valid: bool
    is_trialing: bool
    days_remaining: int | None
    started_at: Instant | None
    current_period_start: Instant | None
    expires_at: Instant | None
    trial_end_at: Instant | None
    cancel_at_period_end: bool
    cancelled_at: Instant | None
    cancel_reason: str | None
    paused_at: Instant | None
    payment_failed_at: Instant | None
    past_due_since: Instant | None
    next_retry_at: Instant | None
    dunning_attempts: int
    currency: str
    payment_method_code: str | None
    has_saved_payment_method: bool
    pending_invoice_id: Uuid | None
    provider_subscription_id: str | None
    created_at: Instant
    updated_at: Instant


class SubscriptionWithPlan(Subscription):
    """A subscription with its plan and the plan of a scheduled downgrade"""

    plan: PlanSummary | None
    pending_plan: PlanRef | None = Field(description="The plan of a scheduled downgrade (§8.3)")


class AddonSubscription(Answer):
    """An add-on subscription (§2.3)"""

    id: Uuid
    user_id: Uuid
    addon_id: Uuid
    subscription_id: Uuid | None = Field(description="The parent subscription; null for an add-on bought alone")
    invoice_id: Uuid | None
    status: SubscriptionStatus
    is_valid: bool
    starts_at: Instant | None
    expires_at: Instant | None
    cancel_at_period_end: bool
    cancelled_at: Instant | None
    created_at: Instant
    updated_at: Instant


class SubscriptionDetail(SubscriptionWithPlan):
    """A subscription with its plan and its add-on subscriptions, newest first"""

    add_ons: list[AddonSubscription]


class AddonSummary(Answer):
    """The add-on of an add-on subscription (§2.4)"""

    name: str
    slug: str
    description: str | None
    price: Money
    currency: str
    billing_period: BillingPeriod


class AddonSubscriptionWithAddon(AddonSubscription):
    """An add-on subscription with its add-on"""

    addon: AddonSummary | None


class InvoiceSummary(Answer):
    """The invoice that bills an add-on subscription"""

    id: Uuid
    invoice_number: str
    status: InvoiceStatus
    amount: Money
    currency: str


class AddonSubscriptionDetail(AddonSubscriptionWithAddon):
    """An add-on subscription with its add-on and the summary of its invoice"""

    invoice: InvoiceSummary | None


class SubscriptionsAnswer(WholeList):
    """The caller's subscriptions, newest first"""

    subscriptions: list[SubscriptionWithPlan]


class ActiveSubscriptionAnswer(Answer):
    """The caller's primary subscription: the newest one that grants access, or null"""

    subscription: SubscriptionWithPlan | None


class ActiveSubscriptionsAnswer(Answer):
    """Every subscription of the caller that grants access, newest first"""

    subscriptions: list[SubscriptionWithPlan]


class SubscriptionAnswer(Answer):
    """One subscription of the caller with its add-ons"""

    subscription: SubscriptionDetail


class AddonSubscriptionsAnswer(WholeListKeys):
    """The caller's add-on subscriptions, newest first (`total` only when paging was asked for)"""

    total: int | None = None
    addon_subscriptions: list[AddonSubscriptionWithAddon]


class AddonSubscriptionAnswer(Answer):
    """One add-on subscription of the caller with its invoice"""

    addon_subscription: AddonSubscriptionDetail


class AddonCancelAnswer(Answer):
    """The add-on subscription after the cancellation (ended now, or scheduled for its period end)"""

    addon_subscription: AddonSubscriptionWithAddon
    message: Literal["Add-on cancelled successfully"]


# --- plan changes, cancel, pause (§8–§9) -------------------------------------------------------------------------

MAX_REASON = 500
TRUE_WORDS, FALSE_WORDS = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no"})


def _plan_id(value: Any, name: str, required: str) -> str:
    """A plan id as the contract checks it: missing, null or blank → `required`; anything but a UUID string →
    `Invalid <name> format`. Lower-cased."""
    if value is None or value == "":
        raise refuse(required)
    if not is_uuid(value):
        raise refuse(f"Invalid {name} format")
    return str(value).lower()


class PlanChangeBody(Body):
    """`POST …/upgrade` and `…/downgrade`: the plan to change to."""

    REQUIRED_PLAIN: ClassVar[dict[str, str]] = {"plan_id": "plan_id is required"}

    plan_id: Annotated[Uuid, Field(description="The plan to change to")]

    @model_validator(mode="before")
    @classmethod
    def _rules(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {"plan_id": _plan_id(data.get("plan_id"), "plan_id", "plan_id is required")}


class ProrationQuery(QueryString):
    """`GET …/proration?new_plan_id=`: the plan a change would move to."""

    new_plan_id: Annotated[str | None, Field(json_schema_extra={"format": "uuid"})] = None

    @model_validator(mode="before")
    @classmethod
    def _rules(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        required = "new_plan_id query parameter is required"
        return {"new_plan_id": _plan_id(data.get("new_plan_id"), "new_plan_id", required)}

    @property
    def plan_id(self) -> str:
        assert self.new_plan_id is not None
        return self.new_plan_id


class CancelQuery(QueryString):
    """`POST …/cancel?immediately=true`: end now instead of at the period end."""

    immediately: Annotated[str | None, Field(description="true: end now (false, 1/0, yes/no also read)")] = None

    @field_validator("immediately")
    @classmethod
    def _immediately(cls, value: str | None) -> str | None:
        if value is None or value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
            return value
        raise refuse("Invalid value for immediately")

    @property
    def now(self) -> bool:
        return self.immediately is not None and self.immediately.strip().lower() in TRUE_WORDS


class CancelBody(Body):
    """`POST …/cancel`: an optional reason, kept as `cancel_reason` (default `user`)."""

    reason: Annotated[str | None, Field(max_length=MAX_REASON, description="Why (≤ 500 characters)")] = None

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise refuse("reason must be a string")
        if len(value) > MAX_REASON:
            raise refuse(f"reason must be at most {MAX_REASON} characters")
        return value.strip() or None


class ProrationPreview(Answer):
    """What a change to the named plan would bill now (§8.1)"""

    credit: Money
    amount_due: Money
    days_remaining: int
    currency: str
    daily_rate: str = Field(description="The current plan's daily rate, 6 places")
    new_plan_price: Money


class ProrationAnswer(Answer):
    """The proration of a change to the named plan; nothing is written"""

    proration: ProrationPreview


class Proration(Answer):
    """The credit for the unused time and what is due before tax"""

    credit: Money
    amount_due: Money
    days_remaining: int
    currency: str


class UpgradeAnswer(Answer):
    """The subscription, its upgrade invoice and the proration; the plan switched when the message says so"""

    subscription: SubscriptionWithPlan
    invoice: Invoice
    proration: Proration
    message: Literal[
        "Upgrade invoice created. The plan changes when it is paid.", "Subscription upgraded successfully."
    ]


class PendingInvoiceConflict(Answer):
    """An unpaid upgrade or renewal invoice of the subscription must be paid first"""

    error: str
    invoice_id: Uuid


class DowngradeAnswer(Answer):
    """The subscription with its pending plan"""

    subscription: SubscriptionWithPlan
    message: Literal["Downgrade scheduled for next renewal."]


class CancelAnswer(Answer):
    """The subscription after the cancellation (scheduled for its period end, or ended now)"""

    subscription: SubscriptionWithPlan
    message: Literal["Subscription cancelled. Access continues until expiration.", "Subscription cancelled."]


class ReactivateAnswer(Answer):
    """The subscription, no longer scheduled for cancellation"""

    subscription: SubscriptionWithPlan
    message: Literal["Subscription reactivated."]


class PauseAnswer(Answer):
    """The paused subscription"""

    subscription: SubscriptionWithPlan
    message: Literal["Subscription paused."]


class ResumeAnswer(Answer):
    """The resumed subscription, its expiry moved on by the pause's length"""

    subscription: SubscriptionWithPlan
    message: Literal["Subscription resumed. Expiration extended by pause duration."]
