"""Subscriptions and add-on subscriptions in the `subscriptions` table, partitioned by user.

The user's partition makes "this user's subscriptions" one consistent Query. Its sparse local index `live` holds
only the items that still count — subscriptions that hold a place (TRIALING, ACTIVE, PAST_DUE, PAUSED) and add-on
subscriptions not yet ended — so checkout and capture read a user's live holdings strongly consistent whatever
their history. GSI1 finds one by id for admin routes; GSI2 (sparse, sharded `DUE#<0–7>`) holds the moment of the
lifecycle job's next step for the item (`chalicelib.subscriptions.machine.next_step`); GSI3 lists all
subscriptions for the admin.
"""

from __future__ import annotations

import zlib
from datetime import datetime

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)

from chalicelib.core.times import sortable
from chalicelib.store.attributes import string_list
from chalicelib.store.base import CountersTable, SubscriptionsTable

# What the statuses mean lives in `machine`; these names stay importable from here for the modules that use them.
from chalicelib.subscriptions.machine import HOLDING_STATUSES as HOLDING_STATUSES
from chalicelib.subscriptions.machine import VALID_STATUSES as VALID_STATUSES

SUBSCRIPTION_PREFIX = "SUB#"
ADDON_PREFIX = "ADDON#"
LIVE_ADDON_STATUSES = frozenset({"PENDING", "TRIALING", "ACTIVE", "PAST_DUE", "PAUSED"})


def due_partition(shard: int) -> str:
    return f"DUE#{shard}"


def due_keys(item_id: str, due_at: datetime | None, kind: str) -> tuple[str | None, str | None]:
    """GSI2 keys of an item whose next lifecycle step is due at `due_at` (none when nothing is due)."""
    from chalicelib.subscriptions.machine import due_shard

    if due_at is None:
        return None, None
    return due_partition(due_shard(item_id)), f"{sortable(due_at)}#{kind}#{item_id}"


def user_partition(user_id: str) -> str:
    """The partition of everything a user holds: subscriptions and add-on subscriptions."""
    return f"USER#{user_id}"


ALL_SUBSCRIPTIONS = "SUBSCRIPTIONS"  # GSI3 pk: every subscription, newest first
ALL_COUNTS = "COUNT#SUBSCRIPTIONS"  # counters pk; sk `<shard>`: the subscriptions of one shard, in all and per status
COUNT_SHARDS = 16


def subscriptions_in(status: str) -> str:
    """GSI4 pk: the subscriptions of one status, newest first."""
    return f"SUBS#{status}"


class SubscriptionItem(SubscriptionsTable, discriminator="SUBSCRIPTION"):
    """pk `USER#<user id>`, sk `SUB#<id>`; GSI1 `SUB#<id>`; GSI2 `DUE#<shard>` while a step is due; GSI3
    `SUBSCRIPTIONS` and GSI4 `SUBS#<status>` by creation time (`<sortable created_at>#<id>`, the admin's list);
    LSI `live` while it holds a place."""

    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    tarif_plan_id = UnicodeAttribute()
    pending_plan_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    started_at = UTCDateTimeAttribute(null=True)
    current_period_start = UTCDateTimeAttribute(null=True)
    expires_at = UTCDateTimeAttribute(null=True)
    trial_end_at = UTCDateTimeAttribute(null=True)
    anchor_day = NumberAttribute(null=True)
    cancel_at_period_end = BooleanAttribute(default=False)
    cancelled_at = UTCDateTimeAttribute(null=True)
    cancel_reason = UnicodeAttribute(null=True)
    paused_at = UTCDateTimeAttribute(null=True)
    payment_failed_at = UTCDateTimeAttribute(null=True)
    past_due_since = UTCDateTimeAttribute(null=True)
    next_retry_at = UTCDateTimeAttribute(null=True)
    dunning_attempts = NumberAttribute(default=0)
    currency = UnicodeAttribute()
    payment_method_code = UnicodeAttribute(null=True)
    saved_payment_method = JSONAttribute(null=True)
    pending_invoice_id = UnicodeAttribute(null=True)
    renewal_invoice_id = UnicodeAttribute(null=True)  # the open renewal invoice of the next period, if any
    non_renewing_reason = UnicodeAttribute(null=True)  # why nothing can bill the next period: it expires at its end
    trial_reminder_sent_at = UTCDateTimeAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)  # the lifecycle job's next step (GSI2), derived on every write
    due_step = UnicodeAttribute(null=True)
    provider_subscription_id = UnicodeAttribute(null=True)
    # The plan's is_single categories when it was bought: activation cancels the user's other subscriptions in them.
    exclusive_category_ids = string_list(default=list)
    # `<plan id>#<status>` the plan's subscriber counts hold this item under (set by the repository on every write)
    counted_as = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @classmethod
    def key(cls, user_id: str, subscription_id: str) -> tuple[str, str]:
        return user_partition(user_id), f"{SUBSCRIPTION_PREFIX}{subscription_id}"

    def index(self) -> None:
        from chalicelib.subscriptions.machine import HOLDING_STATUSES

        self.gsi1pk, self.gsi1sk = f"SUB#{self.id}", "SUB"
        newest = f"{sortable(self.created_at)}#{self.id}"
        self.gsi3pk, self.gsi3sk = ALL_SUBSCRIPTIONS, newest
        self.gsi4pk, self.gsi4sk = subscriptions_in(self.status), newest
        self.live_sk = self.sk if self.status in HOLDING_STATUSES else None
        self.gsi2pk, self.gsi2sk = due_keys(self.id, self.due_at, "SUB")

    @property
    def has_saved_payment_method(self) -> bool:
        return bool(self.saved_payment_method)


class AddonSubscriptionItem(SubscriptionsTable, discriminator="ADDON_SUBSCRIPTION"):
    """pk `USER#<user id>`, sk `ADDON#<id>`; GSI1 `ADDONSUB#<id>`; GSI2 while a step of its own is due; LSI `live`
    until it ends."""

    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    addon_id = UnicodeAttribute()
    subscription_id = UnicodeAttribute(null=True)
    invoice_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    starts_at = UTCDateTimeAttribute(null=True)
    expires_at = UTCDateTimeAttribute(null=True)
    cancel_at_period_end = BooleanAttribute(default=False)
    cancelled_at = UTCDateTimeAttribute(null=True)
    cancel_reason = UnicodeAttribute(null=True)
    paused_at = UTCDateTimeAttribute(null=True)
    # An independent recurring add-on renews and dunns on its own (subscriptions.md §10).
    renewal_invoice_id = UnicodeAttribute(null=True)
    non_renewing_reason = UnicodeAttribute(null=True)
    payment_failed_at = UTCDateTimeAttribute(null=True)
    past_due_since = UTCDateTimeAttribute(null=True)
    next_retry_at = UTCDateTimeAttribute(null=True)
    dunning_attempts = NumberAttribute(default=0)
    payment_method_code = UnicodeAttribute(null=True)
    saved_payment_method = JSONAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)
    due_step = UnicodeAttribute(null=True)
    # `<add-on id>#<status>` the add-on's subscriber counts hold this item under (set by the repository)
    counted_as = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @classmethod
    def key(cls, user_id: str, addon_subscription_id: str) -> tuple[str, str]:
        return user_partition(user_id), f"{ADDON_PREFIX}{addon_subscription_id}"

    @classmethod
    def by_id(cls, addon_subscription_id: str) -> str:
        """GSI1 partition of one add-on subscription, whoever holds it."""
        return f"ADDONSUB#{addon_subscription_id}"

    def index(self) -> None:
        self.gsi1pk, self.gsi1sk = self.by_id(self.id), "ADDONSUB"
        self.live_sk = self.sk if self.status in LIVE_ADDON_STATUSES else None
        self.gsi2pk, self.gsi2sk = due_keys(self.id, self.due_at, "ADDON")


class BilledPeriodItem(SubscriptionsTable, discriminator="BILLED_PERIOD"):
    """pk `PERIOD#<subscription or add-on subscription id>`, sk `<sortable period start>`: the one renewal invoice
    that bills this period. Created (`attribute_not_exists`) in the transaction that issues it, so no period is
    ever invoiced twice, however many lifecycle runs overlap."""

    holder_id = UnicodeAttribute()
    invoice_id = UnicodeAttribute()
    period_start = UTCDateTimeAttribute()
    period_end = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, holder_id: str, period_start: datetime) -> tuple[str, str]:
        return f"PERIOD#{holder_id}", sortable(period_start)


class SubscriberCounts(CountersTable):
    """How many subscriptions (or add-on subscriptions) one plan (add-on) has, in all and per status.

    Moved by `ADD` in the transaction of every write that creates a subscription or changes its plan or status
    (`subscriptions.repository`), so an admin reads a plan's subscribers with one GetItem and never counts them."""

    total = NumberAttribute(default=0)
    PENDING = NumberAttribute(default=0)
    TRIALING = NumberAttribute(default=0)
    ACTIVE = NumberAttribute(default=0)
    PAST_DUE = NumberAttribute(default=0)
    PAUSED = NumberAttribute(default=0)
    CANCELLED = NumberAttribute(default=0)
    EXPIRED = NumberAttribute(default=0)

    @classmethod
    def key(cls, owner_id: str) -> tuple[str, str]:
        raise NotImplementedError

    def of(self, status: str) -> int:
        return int(getattr(self, status))


class PlanSubscribersItem(SubscriberCounts, discriminator="PLAN_SUBSCRIBERS"):
    """pk `COUNT#PLAN#<plan id>#SUBS`, sk `COUNT`."""

    @classmethod
    def key(cls, plan_id: str) -> tuple[str, str]:
        return f"COUNT#PLAN#{plan_id}#SUBS", "COUNT"


class SubscriptionCountsItem(SubscriberCounts, discriminator="SUBSCRIPTION_COUNTS"):
    """pk `COUNT#SUBSCRIPTIONS`, sk `<shard>` (`00`…`15`, by the subscription id): every subscription in all and per
    status, spread over shards so concurrent writes of different subscriptions rarely touch one counter item."""

    @classmethod
    def key(cls, owner_id: str) -> tuple[str, str]:
        return ALL_COUNTS, f"{zlib.crc32(owner_id.encode()) % COUNT_SHARDS:02d}"


class AddonSubscribersItem(SubscriberCounts, discriminator="ADDON_SUBSCRIBERS"):
    """pk `COUNT#ADDON#<add-on id>#SUBS`, sk `COUNT`."""

    @classmethod
    def key(cls, addon_id: str) -> tuple[str, str]:
        return f"COUNT#ADDON#{addon_id}#SUBS", "COUNT"


class ProviderSubscriptionLinkItem(SubscriptionsTable, discriminator="PROVIDER_SUBSCRIPTION_LINK"):
    """pk `PROVIDERSUB#<provider>#<provider's subscription id>`, sk `LINK`: which subscription a legacy provider
    subscription (Stripe `sub_…`, checkout-and-payments.md §10.4) is, for its webhooks (one GetItem)."""

    user_id = UnicodeAttribute()
    subscription_id = UnicodeAttribute()

    @classmethod
    def key(cls, provider: str, provider_subscription_id: str) -> tuple[str, str]:
        return f"PROVIDERSUB#{provider}#{provider_subscription_id}", "LINK"
