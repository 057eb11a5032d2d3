"""Event payloads emitted so far (contract events.md §2). Field names are the contract's `data` keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from chalicelib.events.envelope import EventData

if TYPE_CHECKING:
    from chalicelib.tokens.models import TokenEntryItem


@dataclass(frozen=True)
class UserRegistered(EventData):
    TYPE = "user.registered"
    SOURCE = "vbwd.users"
    user_id: str
    email: str
    source: Literal["self", "admin"]


@dataclass(frozen=True)
class UserUpdated(EventData):
    TYPE = "user.updated"
    SOURCE = "vbwd.users"
    user_id: str
    changed_fields: list[str]


@dataclass(frozen=True)
class UserSuspended(EventData):
    TYPE = "user.suspended"
    SOURCE = "vbwd.users"
    user_id: str
    reason: str | None


@dataclass(frozen=True)
class UserActivated(EventData):
    TYPE = "user.activated"
    SOURCE = "vbwd.users"
    user_id: str


@dataclass(frozen=True)
class UserDeleted(EventData):
    TYPE = "user.deleted"
    SOURCE = "vbwd.users"
    user_id: str


@dataclass(frozen=True)
class ImpersonationStarted(EventData):
    TYPE = "admin.impersonation_started"
    SOURCE = "vbwd.auth"
    WEBHOOK = False
    admin_id: str
    user_id: str
    expires_at: str


@dataclass(frozen=True)
class PasswordResetRequested(EventData):
    TYPE = "user.password_reset_requested"
    SOURCE = "vbwd.users"
    WEBHOOK = False  # carries the reset link, a secret
    user_id: str
    email: str
    reset_url: str
    expires_at: str


@dataclass(frozen=True)
class PasswordChanged(EventData):
    TYPE = "user.password_changed"
    SOURCE = "vbwd.users"
    user_id: str
    via: Literal["change", "reset", "admin"]


@dataclass(frozen=True)
class LoginFailed(EventData):
    TYPE = "auth.login_failed"
    SOURCE = "vbwd.auth"
    WEBHOOK = False
    email: str
    ip: str
    failure_count: int


@dataclass(frozen=True)
class AccountLocked(EventData):
    TYPE = "auth.locked"
    SOURCE = "vbwd.auth"
    WEBHOOK = False
    email: str
    until: str


@dataclass(frozen=True)
class LoggedOut(EventData):
    TYPE = "auth.logout"
    SOURCE = "vbwd.auth"
    WEBHOOK = False
    user_id: str
    sid: str


@dataclass(frozen=True)
class RefreshReuseDetected(EventData):
    TYPE = "auth.refresh_reuse_detected"
    SOURCE = "vbwd.auth"
    WEBHOOK = False
    user_id: str
    family_id: str
    ip: str


@dataclass(frozen=True)
class TokensCredited(EventData):
    TYPE = "tokens.credited"
    SOURCE = "vbwd.tokens"
    user_id: str
    transaction_id: str
    amount: int
    balance_after: int
    transaction_type: str
    reference_id: str | None

    @classmethod
    def of(cls, entry: TokenEntryItem) -> TokensCredited:
        return cls(
            entry.user_id,
            entry.id,
            int(entry.amount),
            int(entry.balance_after),
            entry.transaction_type,
            entry.reference_id,
        )


@dataclass(frozen=True)
class TokensDebited(EventData):
    TYPE = "tokens.debited"
    SOURCE = "vbwd.tokens"
    user_id: str
    transaction_id: str
    amount: int
    balance_after: int
    transaction_type: str
    reference_id: str | None
    reference: str | None
    shortfall: int

    @classmethod
    def of(cls, entry: TokenEntryItem) -> TokensDebited:
        return cls(
            entry.user_id,
            entry.id,
            int(entry.amount),
            int(entry.balance_after),
            entry.transaction_type,
            entry.reference_id,
            entry.reference,
            int(entry.shortfall),
        )


# --- invoices and payments (vbwd.billing) ---------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceCreated(EventData):
    TYPE = "invoice.created"
    SOURCE = "vbwd.billing"
    invoice_id: str
    invoice_number: str
    user_id: str
    billing_reason: str
    subscription_id: str | None
    currency: str
    total_amount: str
    due_date: str | None


@dataclass(frozen=True)
class InvoicePaid(EventData):
    TYPE = "invoice.paid"
    SOURCE = "vbwd.billing"
    invoice_id: str
    invoice_number: str
    user_id: str
    user_email: str
    user_name: str
    amount: str
    currency: str
    paid_at: str
    paid_date: str
    payment_reference: str
    provider: str
    invoice_url: str


@dataclass(frozen=True)
class InvoiceAuthorized(EventData):
    TYPE = "invoice.authorized"
    SOURCE = "vbwd.billing"
    invoice_id: str
    invoice_number: str
    user_id: str
    amount: str
    currency: str
    payment_intent_id: str
    provider: str


@dataclass(frozen=True)
class InvoiceVoided(EventData):
    TYPE = "invoice.voided"
    SOURCE = "vbwd.billing"
    invoice_id: str
    invoice_number: str
    user_id: str
    reason: str


@dataclass(frozen=True)
class InvoiceReleased(EventData):
    TYPE = "invoice.released"
    SOURCE = "vbwd.billing"
    invoice_id: str
    invoice_number: str
    user_id: str
    amount: str
    currency: str


@dataclass(frozen=True)
class InvoiceResent(EventData):
    TYPE = "invoice.resent"
    SOURCE = "vbwd.billing"
    WEBHOOK = False  # an admin's chore, not a change of the invoice
    invoice_id: str
    sent_to: str


@dataclass(frozen=True)
class InvoicePaymentFailed(EventData):
    TYPE = "invoice.payment_failed"
    SOURCE = "vbwd.billing"
    invoice_id: str
    invoice_number: str
    user_id: str
    provider: str
    error_code: str
    error_message: str
    attempt: int


@dataclass(frozen=True)
class InvoiceRefunded(EventData):
    TYPE = "invoice.refunded"
    SOURCE = "vbwd.billing"
    invoice_id: str
    invoice_number: str
    user_id: str
    amount: str
    currency: str
    refund_reference: str | None  # None: settled outside the system (bank transfer, manual)
    credit_note_id: str
    full: bool


@dataclass(frozen=True)
class CreditNoteCreated(EventData):
    TYPE = "credit_note.created"
    SOURCE = "vbwd.billing"
    credit_note_id: str
    credit_note_number: str
    invoice_id: str
    user_id: str
    amount: str
    currency: str
    reason: str


@dataclass(frozen=True)
class PaymentCaptured(EventData):
    TYPE = "payment.captured"
    SOURCE = "vbwd.billing"
    invoice_id: str
    payment_reference: str
    amount: str
    currency: str
    provider: str
    transaction_id: str | None


@dataclass(frozen=True)
class PaymentAuthorized(EventData):
    TYPE = "payment.authorized"
    SOURCE = "vbwd.billing"
    invoice_id: str
    payment_intent_id: str
    amount: str
    currency: str
    provider: str


@dataclass(frozen=True)
class PaymentRefunded(EventData):
    TYPE = "payment.refunded"
    SOURCE = "vbwd.billing"
    invoice_id: str
    amount: str
    currency: str
    provider: str
    refund_reference: str | None


@dataclass(frozen=True)
class PaymentFailed(EventData):
    TYPE = "payment.failed"
    SOURCE = "vbwd.billing"
    invoice_id: str
    provider: str
    error_code: str
    error_message: str
    off_session: bool


@dataclass(frozen=True)
class PaymentDisputed(EventData):
    TYPE = "payment.disputed"
    SOURCE = "vbwd.billing"
    invoice_id: str
    provider: str
    dispute_id: str | None
    amount: str | None
    currency: str | None
    reason: str | None


@dataclass(frozen=True)
class PaymentOrphaned(EventData):
    TYPE = "payment.orphaned"
    SOURCE = "vbwd.billing"
    invoice_id: str
    provider: str
    payment_reference: str
    amount: str
    currency: str
    refunded: bool


@dataclass(frozen=True)
class PaymentAmountMismatch(EventData):
    TYPE = "payment.amount_mismatch"
    SOURCE = "vbwd.billing"
    invoice_id: str
    provider: str
    payment_reference: str
    expected: str
    received: str
    currency: str


@dataclass(frozen=True)
class RefundReversed(EventData):
    TYPE = "refund.reversed"
    SOURCE = "vbwd.billing"
    invoice_id: str
    credit_note_id: str
    provider: str


# --- subscriptions and add-ons (vbwd.subscriptions) ------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionEventData(EventData):
    """The fields every subscription event carries (events.md §2.3)."""

    SOURCE = "vbwd.subscriptions"
    subscription_id: str
    user_id: str
    plan_id: str
    plan_slug: str
    plan_name: str
    status: str


@dataclass(frozen=True)
class SubscriptionCreated(SubscriptionEventData):
    TYPE = "subscription.created"
    invoice_id: str
    trial_end_at: str | None


@dataclass(frozen=True)
class SubscriptionTrialStarted(SubscriptionEventData):
    TYPE = "subscription.trial_started"
    trial_end_at: str | None


@dataclass(frozen=True)
class SubscriptionActivated(SubscriptionEventData):
    TYPE = "subscription.activated"
    started_at: str | None
    expires_at: str | None


@dataclass(frozen=True)
class SubscriptionCancelled(SubscriptionEventData):
    TYPE = "subscription.cancelled"
    reason: str


@dataclass(frozen=True)
class SubscriptionTrialWillEnd(SubscriptionEventData):
    TYPE = "subscription.trial_will_end"
    trial_end_at: str | None
    invoice_id: str | None


@dataclass(frozen=True)
class SubscriptionRenewalUpcoming(SubscriptionEventData):
    TYPE = "subscription.renewal_upcoming"
    invoice_id: str
    amount: str
    currency: str
    period_start: str | None
    period_end: str | None


@dataclass(frozen=True)
class SubscriptionRenewed(SubscriptionEventData):
    TYPE = "subscription.renewed"
    invoice_id: str
    previous_expires_at: str | None
    expires_at: str | None


@dataclass(frozen=True)
class SubscriptionUpgraded(SubscriptionEventData):
    TYPE = "subscription.upgraded"
    from_plan_id: str
    to_plan_id: str
    invoice_id: str


@dataclass(frozen=True)
class SubscriptionDowngradeScheduled(SubscriptionEventData):
    TYPE = "subscription.downgrade_scheduled"
    pending_plan_id: str


@dataclass(frozen=True)
class SubscriptionDowngraded(SubscriptionEventData):
    TYPE = "subscription.downgraded"
    from_plan_id: str
    to_plan_id: str
    invoice_id: str


@dataclass(frozen=True)
class SubscriptionPlanChanged(SubscriptionEventData):
    TYPE = "subscription.plan_changed"
    from_plan_id: str
    to_plan_id: str


@dataclass(frozen=True)
class SubscriptionCancellationScheduled(SubscriptionEventData):
    TYPE = "subscription.cancellation_scheduled"
    expires_at: str | None
    reason: str


@dataclass(frozen=True)
class SubscriptionReactivated(SubscriptionEventData):
    TYPE = "subscription.reactivated"
    expires_at: str | None


@dataclass(frozen=True)
class SubscriptionExpired(SubscriptionEventData):
    TYPE = "subscription.expired"
    reason: str


@dataclass(frozen=True)
class SubscriptionPaused(SubscriptionEventData):
    TYPE = "subscription.paused"
    paused_at: str | None


@dataclass(frozen=True)
class SubscriptionResumed(SubscriptionEventData):
    TYPE = "subscription.resumed"
    expires_at: str | None


@dataclass(frozen=True)
class SubscriptionPaymentFailed(SubscriptionEventData):
    TYPE = "subscription.payment_failed"
    invoice_id: str
    attempt: int
    next_retry_at: str | None
    error_message: str | None


@dataclass(frozen=True)
class SubscriptionPastDue(SubscriptionEventData):
    TYPE = "subscription.past_due"
    invoice_id: str | None
    past_due_since: str | None


@dataclass(frozen=True)
class SubscriptionExtended(SubscriptionEventData):
    TYPE = "subscription.extended"
    days: int
    expires_at: str | None


@dataclass(frozen=True)
class AddonEventData(EventData):
    SOURCE = "vbwd.subscriptions"
    addon_subscription_id: str
    addon_id: str
    addon_slug: str
    user_id: str
    subscription_id: str | None
    starts_at: str | None
    expires_at: str | None


@dataclass(frozen=True)
class AddonActivated(AddonEventData):
    TYPE = "addon.activated"


@dataclass(frozen=True)
class AddonCancellationScheduled(AddonEventData):
    TYPE = "addon.cancellation_scheduled"


@dataclass(frozen=True)
class AddonCancelled(AddonEventData):
    TYPE = "addon.cancelled"
    reason: str


@dataclass(frozen=True)
class AddonRenewed(AddonEventData):
    TYPE = "addon.renewed"
    invoice_id: str


@dataclass(frozen=True)
class AddonExpired(AddonEventData):
    TYPE = "addon.expired"
    reason: str


@dataclass(frozen=True)
class SettingsUpdated(EventData):
    TYPE = "settings.updated"
    SOURCE = "vbwd.platform"
    WEBHOOK = False
    keys: list[str]


@dataclass(frozen=True)
class PluginEnabled(EventData):
    TYPE = "plugin.enabled"
    SOURCE = "vbwd.platform"
    WEBHOOK = False
    name: str


@dataclass(frozen=True)
class PluginDisabled(EventData):
    TYPE = "plugin.disabled"
    SOURCE = "vbwd.platform"
    WEBHOOK = False
    name: str
