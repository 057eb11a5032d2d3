"""Calendar period arithmetic (contract subscriptions.md §3)."""

from __future__ import annotations

from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

MONTHS = {"MONTHLY": 1, "QUARTERLY": 3, "YEARLY": 12}
PERIOD_DAYS = {"DAILY": 1, "WEEKLY": 7, "MONTHLY": 30, "QUARTERLY": 90, "YEARLY": 365}


def add_period(start: datetime, period: str, anchor_day: int | None = None) -> datetime | None:
    """End of the period beginning at `start`; None for ONE_TIME (never expires).

    Monthly-based periods land on the anchor day (the day of month of the first period start), clamped to the
    last day of the target month: 31 Jan → 28 Feb → 31 Mar → 30 Apr.
    """
    if period == "ONE_TIME":
        return None
    if period == "DAILY":
        return start + timedelta(days=1)
    if period == "WEEKLY":
        return start + timedelta(days=7)
    if period not in MONTHS:
        raise ValueError(f"unknown billing period {period}")
    day = anchor_day if anchor_day is not None else start.day
    return start + relativedelta(months=MONTHS[period], day=day)
