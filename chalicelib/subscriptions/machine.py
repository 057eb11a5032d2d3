"""The subscription and add-on state machines (contract subscriptions.md §4, §10): one table each.

Every change of a subscription's or an add-on subscription's status goes through `move`, which refuses a move the
table does not allow from the current status and sets what the move always sets (its status, the moment it
happened). What else a move carries — periods, dunning fields, plan switches — is decided by the use case, and the
whole change is then written once, on the condition of the version that was read, with its events in the outbox:
an overlapping job run or a replayed request that read the same version loses the write and decides again from
what it finds.

What a status *means* lives here too (subscriptions.md §2.1, §2.3, §5.2): whether it grants access (`is_valid`),
holds its plan's categories, or can still be cancelled — services, serializers and the checkout rules ask these
functions instead of comparing status strings.

`next_step` says what the lifecycle job must do next with an item and when, from its state and the plugin's
policy; the repository writes that moment into the sparse due-time index (GSI2) with every write, so "what is due
now" is one Query per shard and an item that needs nothing is in no index at all.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from chalicelib.subscriptions.models import AddonSubscriptionItem, SubscriptionItem
    from chalicelib.subscriptions.policy import LifecyclePolicy

DUE_SHARDS = 8

PENDING, TRIALING, ACTIVE, PAST_DUE, PAUSED, CANCELLED, EXPIRED = (
    "PENDING",
    "TRIALING",
    "ACTIVE",
    "PAST_DUE",
    "PAUSED",
    "CANCELLED",
    "EXPIRED",
)
ENDED = frozenset({CANCELLED, EXPIRED})


class Move(StrEnum):
    ACTIVATE = "activate"  # the first invoice is paid
    RENEW = "renew"  # a renewal invoice is paid (from PAST_DUE it is the recovery)
    CHANGE_PLAN = "change_plan"  # an upgrade invoice is paid, or an admin changes the plan
    FALL_PAST_DUE = "fall_past_due"  # a renewal charge failed, or the renewal invoice is unpaid at the period end
    RETRY_FAILED = "retry_failed"  # a dunning retry failed (stays PAST_DUE)
    SCHEDULE_CANCEL = "schedule_cancel"  # cancel at the period (or trial) end
    REACTIVATE = "reactivate"  # undo a scheduled cancellation
    SCHEDULE_DOWNGRADE = "schedule_downgrade"  # a pending plan for the next renewal
    REMIND_TRIAL = "remind_trial"  # the trial reminder went out
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    EXPIRE = "expire"
    REINSTATE = "reinstate"  # admin activate, refund reversal (subscriptions.md §4, last row)


def _any(*statuses: str) -> frozenset[str]:
    return frozenset(statuses)


# Move → (the statuses it may start from, the status it leaves; None keeps the status).
SUBSCRIPTION_MOVES: dict[Move, tuple[frozenset[str], str | None]] = {
    Move.ACTIVATE: (_any(PENDING, TRIALING), ACTIVE),
    Move.RENEW: (_any(ACTIVE, PAST_DUE), ACTIVE),
    Move.CHANGE_PLAN: (_any(ACTIVE), ACTIVE),
    Move.FALL_PAST_DUE: (_any(ACTIVE), PAST_DUE),
    Move.RETRY_FAILED: (_any(PAST_DUE), PAST_DUE),
    Move.SCHEDULE_CANCEL: (_any(ACTIVE, TRIALING), None),
    Move.REACTIVATE: (_any(ACTIVE, TRIALING), None),
    Move.SCHEDULE_DOWNGRADE: (_any(ACTIVE), None),
    Move.REMIND_TRIAL: (_any(TRIALING), None),
    Move.PAUSE: (_any(ACTIVE), PAUSED),
    Move.RESUME: (_any(PAUSED), ACTIVE),
    Move.CANCEL: (_any(PENDING, TRIALING, ACTIVE, PAST_DUE, PAUSED), CANCELLED),
    Move.EXPIRE: (_any(TRIALING, ACTIVE, PAST_DUE), EXPIRED),
    Move.REINSTATE: (_any(CANCELLED, EXPIRED), ACTIVE),
}

# Add-on subscriptions (§10): they follow their parent, or — bought alone — live a subscription's life of their own.
ADDON_MOVES: dict[Move, tuple[frozenset[str], str | None]] = {
    Move.ACTIVATE: (_any(PENDING, TRIALING), ACTIVE),
    Move.RENEW: (_any(ACTIVE, PAST_DUE), ACTIVE),
    Move.FALL_PAST_DUE: (_any(ACTIVE, TRIALING), PAST_DUE),
    Move.RETRY_FAILED: (_any(PAST_DUE), PAST_DUE),
    Move.SCHEDULE_CANCEL: (_any(ACTIVE, TRIALING), None),
    Move.REACTIVATE: (_any(ACTIVE, TRIALING), None),
    Move.PAUSE: (_any(ACTIVE, TRIALING, PAST_DUE), PAUSED),
    Move.RESUME: (_any(PAUSED), ACTIVE),
    Move.CANCEL: (_any(PENDING, TRIALING, ACTIVE, PAST_DUE, PAUSED), CANCELLED),
    Move.EXPIRE: (_any(PENDING, TRIALING, ACTIVE, PAST_DUE, PAUSED), EXPIRED),
    Move.REINSTATE: (_any(CANCELLED, EXPIRED), ACTIVE),
}


class NotAllowed(Exception):
    """The table has no such move from the item's status (the caller answers with its own wording)."""

    def __init__(self, kind: str, status: str, what: Move) -> None:
        super().__init__(f"a {kind} cannot {what.value} from {status}")
        self.status = status
        self.move = what


def _table(item: SubscriptionItem | AddonSubscriptionItem) -> tuple[str, dict[Move, tuple[frozenset[str], str | None]]]:
    from chalicelib.subscriptions.models import SubscriptionItem

    if isinstance(item, SubscriptionItem):
        return "subscription", SUBSCRIPTION_MOVES
    return "add-on subscription", ADDON_MOVES


def allowed(item: SubscriptionItem | AddonSubscriptionItem, what: Move) -> bool:
    _, table = _table(item)
    starts, _ = table.get(what, (frozenset(), None))
    return item.status in starts


def move(item: SubscriptionItem | AddonSubscriptionItem, what: Move, now: datetime) -> str:
    """Apply `what` to `item` (in memory); returns the status it left. The caller writes the item."""
    kind, table = _table(item)
    if what not in table or item.status not in table[what][0]:
        raise NotAllowed(kind, item.status, what)
    before = item.status
    target = table[what][1]
    if target is not None:
        item.status = target
    if what is Move.CANCEL:
        item.cancelled_at = item.cancelled_at or now
        item.cancel_at_period_end = False
    elif what is Move.SCHEDULE_CANCEL:
        item.cancel_at_period_end = True
        item.cancelled_at = now
    elif what is Move.REACTIVATE:
        item.cancel_at_period_end = False
        item.cancelled_at = None
        item.cancel_reason = None
    elif what is Move.PAUSE and hasattr(item, "paused_at"):
        item.paused_at = now
    elif what is Move.RESUME and hasattr(item, "paused_at"):
        item.paused_at = None
    elif what in (Move.CHANGE_PLAN, Move.REINSTATE):
        item.non_renewing_reason = None  # a new plan, or an admin's decision, can be billed again
    item.updated_at = now
    return before


# --- what is due next ------------------------------------------------------------------------------------------


class Step(StrEnum):
    TRIAL_REMINDER = "trial_reminder"  # `subscription.trial_will_end`
    TRIAL_END = "trial_end"  # unpaid → EXPIRED; scheduled cancel → CANCELLED
    RENEWAL = "renewal"  # issue the renewal invoice, charge the saved method
    RENEWAL_UNPAID = "renewal_unpaid"  # the period ended with the renewal unpaid → PAST_DUE
    DUNNING = "dunning"  # the next retry (or reminder) of a PAST_DUE item, or its expiry after the last one
    PERIOD_END = "period_end"  # a scheduled cancellation takes effect
    EXPIRY = "expiry"  # the period ended and nothing renews it → EXPIRED


@dataclass(frozen=True)
class Due:
    at: datetime
    step: Step


def next_step(item: SubscriptionItem | AddonSubscriptionItem, policy: LifecyclePolicy) -> Due | None:
    """The lifecycle job's next task for the item, or None when nothing will happen until someone acts."""
    from chalicelib.subscriptions.models import SubscriptionItem

    if isinstance(item, SubscriptionItem):
        return _subscription_step(item, policy)
    return _addon_step(item, policy)


def _subscription_step(sub: SubscriptionItem, policy: LifecyclePolicy) -> Due | None:
    if sub.provider_subscription_id:
        # A legacy subscription still billed by the provider's own recurring billing (Stripe): the provider renews,
        # retries and ends it, and its webhooks move it (checkout-and-payments.md §10.4) — never the job.
        return None
    if sub.status == TRIALING and sub.trial_end_at is not None:
        reminder = sub.trial_end_at - policy.trial_reminder
        if sub.trial_reminder_sent_at is None and not sub.cancel_at_period_end and reminder < sub.trial_end_at:
            return Due(max(reminder, sub.started_at or reminder), Step.TRIAL_REMINDER)
        return Due(sub.trial_end_at, Step.TRIAL_END)
    if sub.status == ACTIVE and sub.expires_at is not None:
        if sub.cancel_at_period_end:
            return Due(sub.expires_at, Step.PERIOD_END)
        return _renewal_step(sub, policy)
    if sub.status == PAST_DUE:
        if sub.next_retry_at is not None:
            return Due(sub.next_retry_at, Step.DUNNING)
        if sub.expires_at is not None:
            return Due(sub.expires_at, Step.EXPIRY)
    return None


def _addon_step(addon: AddonSubscriptionItem, policy: LifecyclePolicy) -> Due | None:
    """Linked add-ons follow their parent (its steps carry them), except a cancellation of their own scheduled for
    their period end; an independent recurring add-on renews and dunns like a subscription."""
    if addon.expires_at is None or addon.status in ENDED:
        return None
    if addon.cancel_at_period_end and addon.status in (ACTIVE, TRIALING):
        return Due(addon.expires_at, Step.PERIOD_END)
    if addon.subscription_id is not None:
        return None
    if addon.status == ACTIVE:
        return _renewal_step(addon, policy)
    if addon.status == PAST_DUE:
        return Due(addon.next_retry_at or addon.expires_at, Step.DUNNING if addon.next_retry_at else Step.EXPIRY)
    return None


def _renewal_step(item: SubscriptionItem | AddonSubscriptionItem, policy: LifecyclePolicy) -> Due:
    """An ACTIVE item on a recurring period that is not scheduled to end: its renewal.

    Nothing can bill the next period (`non_renewing_reason`) → it expires at the period end. Otherwise the renewal
    invoice is issued the lead time before the end, and — with a saved method — charged at once: an issued invoice
    not yet charged (a crash between the two writes) is still due at that same moment. Without a saved method the
    invoice waits for its payment until the period ends (`RENEWAL_UNPAID`).
    """
    assert item.expires_at is not None
    if item.non_renewing_reason is not None:
        return Due(item.expires_at, Step.EXPIRY)
    if item.renewal_invoice_id is None or item.saved_payment_method:
        return Due(item.expires_at - policy.renewal_lead_time, Step.RENEWAL)
    return Due(item.expires_at, Step.RENEWAL_UNPAID)


def due_shard(item_id: str) -> int:
    return zlib.crc32(item_id.encode()) % DUE_SHARDS


def retry_moments(first_failure: datetime, policy: LifecyclePolicy) -> list[datetime]:
    """The dunning retries after the first failed charge (`dunning_retry_days` days after it)."""
    return [first_failure + timedelta(days=days) for days in policy.dunning_retry_days]


def retry_after(first_failure: datetime, attempts: int, policy: LifecyclePolicy) -> datetime | None:
    """When the next retry falls after `attempts` failed attempts (the first one included); None after the last.

    Attempt 1 is the renewal charge (or, for a bank transfer, the invoice unpaid at the period end); attempts
    2 … n + 1 fall on the n days of `dunning_retry_days` after the first failure.
    """
    moments = retry_moments(first_failure, policy)
    return moments[attempts - 1] if 1 <= attempts <= len(moments) else None


# What the statuses mean.

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
ENDED_STATUSES = ENDED


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
