"""Subscriptions and add-on subscriptions in the `subscriptions` table, partitioned by user.

The user's partition makes "this user's subscriptions" one consistent Query (checkout's is_single rule, the
active-subscription read after a capture). GSI1 finds one by id for admin routes; GSI2 (sparse, sharded) lists
what the lifecycle job must look at before a given time; GSI3 lists all subscriptions for the admin.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)

from chalicelib.core.times import iso
from chalicelib.store.attributes import string_list
from chalicelib.store.base import SubscriptionsTable

# What the statuses mean lives in `states`; these names stay importable from here for the modules that use them.
from chalicelib.subscriptions.states import HOLDING_STATUSES as HOLDING_STATUSES
from chalicelib.subscriptions.states import VALID_STATUSES as VALID_STATUSES

SUBSCRIPTION_PREFIX = "SUB#"
ADDON_PREFIX = "ADDON#"


def user_partition(user_id: str) -> str:
    """The partition of everything a user holds: subscriptions and add-on subscriptions."""
    return f"USER#{user_id}"


class SubscriptionItem(SubscriptionsTable, discriminator="SUBSCRIPTION"):
    """pk `USER#<user id>`, sk `SUB#<id>`; GSI1 `SUB#<id>`; GSI3 `SUBSCRIPTIONS` by creation time."""

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
    provider_subscription_id = UnicodeAttribute(null=True)
    # The plan's is_single categories when it was bought: activation cancels the user's other subscriptions in them.
    exclusive_category_ids = string_list(default=list)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @classmethod
    def key(cls, user_id: str, subscription_id: str) -> tuple[str, str]:
        return user_partition(user_id), f"{SUBSCRIPTION_PREFIX}{subscription_id}"

    def index(self) -> None:
        self.gsi1pk, self.gsi1sk = f"SUB#{self.id}", "SUB"
        self.gsi3pk, self.gsi3sk = "SUBSCRIPTIONS", f"{iso(self.created_at)}#{self.id}"

    @property
    def has_saved_payment_method(self) -> bool:
        return bool(self.saved_payment_method)


class AddonSubscriptionItem(SubscriptionsTable, discriminator="ADDON_SUBSCRIPTION"):
    """pk `USER#<user id>`, sk `ADDON#<id>`; GSI1 `ADDONSUB#<id>`."""

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
