"""What a subscription's status means (contract subscriptions.md §2.1, §2.3, §4, §5.2): the one place that knows.

Services, serializers and the checkout rules ask this module whether a subscription grants access, holds its
plan's categories, or can still be cancelled, instead of comparing status strings themselves. The lifecycle issue
grows it into the full state machine of §4 (which transitions exist, and what each one sets).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from chalicelib.subscriptions.models import AddonSubscriptionItem, SubscriptionItem

# SubscriptionStatus (README §1.6), also the statuses of add-on subscriptions; the order is the contract's. The
# answer models of every domain that shows a subscription name this type.
SubscriptionStatus = Literal["PENDING", "TRIALING", "ACTIVE", "PAST_DUE", "PAUSED", "CANCELLED", "EXPIRED"]
STATUSES: tuple[str, ...] = get_args(SubscriptionStatus)

# Statuses that grant access while the period lasts (`is_valid`, §2.1); PAST_DUE is the dunning grace.
VALID_STATUSES = frozenset({"TRIALING", "ACTIVE", "PAST_DUE"})

# Statuses that hold a place in an is_single category and count towards max_subscriptions_per_user (§5.2;
# checkout-and-payments.md §5.1 rules 4–5). PENDING does not: several unpaid checkouts may exist.
HOLDING_STATUSES = frozenset({"TRIALING", "ACTIVE", "PAST_DUE", "PAUSED"})

# Statuses a subscription or add-on subscription never leaves by itself (only an admin or a refund reversal).
ENDED_STATUSES = frozenset({"CANCELLED", "EXPIRED"})


def is_valid(subscription: SubscriptionItem, now: datetime) -> bool:
    """Grants access: TRIALING or ACTIVE with no end or an end in the future, or PAST_DUE (grace), §2.1."""
    if subscription.status == "PAST_DUE":
        return True
    return subscription.status in VALID_STATUSES and _not_ended(subscription.expires_at, now)


def holds_category(subscription: SubscriptionItem) -> bool:
    return subscription.status in HOLDING_STATUSES


def addon_is_valid(addon: AddonSubscriptionItem, now: datetime, parent: SubscriptionItem | None) -> bool:
    """§2.3: TRIALING or ACTIVE, or PAST_DUE beside a PAST_DUE parent, and no end or an end in the future."""
    live = addon.status in ("TRIALING", "ACTIVE") or (
        addon.status == "PAST_DUE" and parent is not None and parent.status == "PAST_DUE"
    )
    return live and _not_ended(addon.expires_at, now)


def addon_cancellable(addon: AddonSubscriptionItem) -> bool:
    """§12.2: not when already ended, nor when its cancellation is already scheduled."""
    return addon.status not in ENDED_STATUSES and not addon.cancel_at_period_end


def addon_cancel_waits_for_period_end(addon: AddonSubscriptionItem, billing_period: str) -> bool:
    """§12.2: an ACTIVE recurring add-on runs to its period end; every other cancellable one ends at once."""
    return addon.status == "ACTIVE" and billing_period != "ONE_TIME" and addon.expires_at is not None


def still_wanted(status: str | None) -> bool:
    """Whether an invoice line's item (subscription, add-on subscription, purchase) is still to be delivered."""
    return status is None or status not in ENDED_STATUSES


def _not_ended(expires_at: datetime | None, now: datetime) -> bool:
    return expires_at is None or expires_at > now
