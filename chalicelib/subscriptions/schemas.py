"""Request and answer models of the user's subscription and add-on routes (contract subscriptions.md §2, §12.1–§12.2).

`Subscription` and `AddonSubscription` are the objects of §2.1 and §2.3; other domains that answer with them
(checkout) document their answers with these models too. Statuses are `states.SubscriptionStatus`, billing periods
and plans' short forms the catalog's.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from chalicelib.catalog.schemas import BillingPeriod, CategorySummary, PlanRef
from chalicelib.core.validation import Answer, Instant, Money, PagingQuery, Uuid, WholeList, WholeListKeys, one_of
from chalicelib.invoices.statuses import InvoiceStatus
from chalicelib.subscriptions import states
from chalicelib.subscriptions.states import SubscriptionStatus


class SubscriptionsQuery(PagingQuery):
    """`GET /user/subscriptions`: a whole list, optionally of one status, paged when paging is asked for."""

    status: Annotated[str | None, Field(description="Only subscriptions of this status (case-insensitive)")] = None

    @field_validator("status")
    @classmethod
    def _status(cls, value: str | None) -> str | None:
        return one_of(value, states.STATUSES, "status")


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
