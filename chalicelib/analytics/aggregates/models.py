"""Items of the `analytics` table that the analytics consumer and the snapshot job write (docs/data-model.md).

- Daily bucket: pk `METRICS#<yyyy>`, sk `<scope>#<yyyy-mm-dd>#<shard>` — scope `ALL` (every figure, in the
  default currency), `CUR#<code>` (money in the invoice's own currency), `PLAN#<plan id>`. A year of one scope is
  one Query of one partition.
- Current totals: pk `CURRENT`, sk `TOTALS#<shard>` (the whole business) or `PLAN#<plan id>#<shard>`
  (subscriptions per status, MRR of the plan).

Totals and buckets are split over `SHARDS` items (by the source item's id), so concurrent consumers seldom write
the same item; a read sums the shards it gets from its one Query.
- Contribution: pk `CONTRIB#<SUB|ADDON|INVOICE|NOTE|USER|BALANCE>#<id>`, sk `CONTRIB` — what one source item adds
  to the totals as last applied, and the version of the item it was computed from.
- MRR snapshot: pk `MRR#<yyyy>`, sk `<yyyy-mm-dd>`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute

from chalicelib.store.attributes import DecimalAttribute
from chalicelib.store.base import AnalyticsTable

ZERO = Decimal(0)
SUBSCRIPTION_STATUSES = ("TRIALING", "ACTIVE", "PAST_DUE", "PAUSED")  # the statuses the plan distribution counts
SHARDS = 4


class DailyItem(AnalyticsTable, discriminator="DAILY"):
    """One day of one scope (one shard of it); every attribute is moved by `ADD` only."""

    SUMMED: ClassVar[tuple[str, ...]] = (
        "gross", "tax", "refunds", "invoices_paid", "new_users", "gone_users", "live_delta", "cancelled", "expired",
    )  # fmt: skip

    gross = DecimalAttribute(default=Decimal)  # Σ total_amount of invoices paid that day
    tax = DecimalAttribute(default=Decimal)
    refunds = DecimalAttribute(default=Decimal)  # Σ credit notes issued that day
    invoices_paid = NumberAttribute(default=0)
    new_users = NumberAttribute(default=0)
    gone_users = NumberAttribute(default=0)  # users deleted that day
    live_delta = NumberAttribute(default=0)  # change of the subscriptions ACTIVE or PAST_DUE during the day
    cancelled = NumberAttribute(default=0)  # subscriptions that had been ACTIVE and became CANCELLED that day
    expired = NumberAttribute(default=0)  # … and became EXPIRED that day

    @staticmethod
    def key(scope: str, day: str, shard: int) -> tuple[str, str]:
        return f"METRICS#{day[:4]}", f"{scope}#{day}#{shard}"


class CurrentItem(AnalyticsTable, discriminator="CURRENT"):
    """What holds now (one shard of it); moved by `ADD` only, in the transaction that records the contribution that
    moved it."""

    SUMMED: ClassVar[tuple[str, ...]] = (
        "TRIALING", "ACTIVE", "PAST_DUE", "PAUSED", "mrr", "addons_mrr", "users", "open_invoices", "open_amount",
        "tokens",
    )  # fmt: skip

    TRIALING = NumberAttribute(default=0)
    ACTIVE = NumberAttribute(default=0)
    PAST_DUE = NumberAttribute(default=0)
    PAUSED = NumberAttribute(default=0)
    mrr = DecimalAttribute(default=Decimal)  # subscriptions' MRR (without add-ons)
    addons_mrr = DecimalAttribute(default=Decimal)
    users = NumberAttribute(default=0)
    open_invoices = NumberAttribute(default=0)
    open_amount = DecimalAttribute(default=Decimal)
    tokens = NumberAttribute(default=0)

    @staticmethod
    def key(scope: str, shard: int) -> tuple[str, str]:
        return "CURRENT", f"{scope}#{shard}"


class ContributionItem(AnalyticsTable, discriminator="CONTRIBUTION"):
    """What one source item contributes as last applied (`state`), computed from its `source_version`."""

    source_version = NumberAttribute(default=0)
    state = JSONAttribute(default=dict)
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()  # every write is conditional on the version read (PynamoDB adds the condition)

    @staticmethod
    def key(kind: str, item_id: str) -> tuple[str, str]:
        return f"CONTRIB#{kind}#{item_id}", "CONTRIB"


class MrrSnapshotItem(AnalyticsTable, discriminator="MRR_SNAPSHOT"):
    """The MRR of a day as the snapshot job found it."""

    day = UnicodeAttribute()
    mrr = DecimalAttribute()
    addons_mrr = DecimalAttribute()
    subscriptions = NumberAttribute()
    taken_at = UTCDateTimeAttribute()

    @staticmethod
    def key(day: str) -> tuple[str, str]:
        return f"MRR#{day[:4]}", day
