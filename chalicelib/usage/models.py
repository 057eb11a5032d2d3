"""Usage meters and usage references in the `ledger` table (the user's partition, beside the token balance).

Keys are built here and in `repository.py` only (docs/data-model.md § ledger).
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute

from chalicelib.core.times import sortable
from chalicelib.store.base import LedgerTable

METER_PREFIX = "USAGE#"
REFERENCE_PREFIX = "USAGEREF#"


def _partition(user_id: str) -> str:
    return f"USER#{user_id}"


class UsageMeterItem(LedgerTable, discriminator="USAGE"):
    """pk `USER#<id>`, sk `USAGE#<period start, sortable>#<feature>`: how much of a feature the user used in one
    billing period. One Query of `USAGE#<period start>#` reads every meter of the period; a new period starts new
    meters, so nothing is ever reset."""

    user_id = UnicodeAttribute()
    feature = UnicodeAttribute()
    period_start = UTCDateTimeAttribute()
    period_end = UTCDateTimeAttribute()
    used = NumberAttribute(default=0)
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @classmethod
    def period_prefix(cls, period_start: datetime) -> str:
        return f"{METER_PREFIX}{sortable(period_start)}#"

    @classmethod
    def key(cls, user_id: str, period_start: datetime, feature: str) -> tuple[str, str]:
        return _partition(user_id), f"{cls.period_prefix(period_start)}{feature}"

    @classmethod
    def partition(cls, user_id: str) -> str:
        return _partition(user_id)


class UsageReferenceItem(LedgerTable, discriminator="USAGE_REFERENCE"):
    """pk `USER#<id>`, sk `USAGEREF#<feature>#<client reference>`: a report with this reference was counted once;
    `answer` is what it was answered, given again to a repeat."""

    quantity = NumberAttribute()
    answer = JSONAttribute()
    created_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, user_id: str, feature: str, reference: str) -> tuple[str, str]:
        return _partition(user_id), f"{REFERENCE_PREFIX}{feature}#{reference}"
