"""The proration of a plan change (contract subscriptions.md §8.1): a pure function of prices, period and time.

The unused part of the current period is credited at the current plan's daily rate:
`credit = round_half_up(current_price / period_days × days_remaining)` to the currency's places, computed with one
division so that the rate is never rounded on the way. Two guards the formula leaves implicit: no credit is ever
more than the price that was paid for the period (a 31-day month, a resumed pause or an admin extension leave more
days than `period_days`), and the invoice's credit line never takes off more than the new price, so what is due is
never negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from chalicelib.core.money import ZERO, round_money

# DAILY 1, WEEKLY 7, MONTHLY 30, QUARTERLY 90, YEARLY 365; ONE_TIME has none.
from chalicelib.subscriptions.periods import PERIOD_DAYS as PERIOD_DAYS

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Proration:
    days_remaining: int
    daily_rate: Decimal  # exact (as exact as Decimal's 28 digits): shown with 6 places
    credit: Decimal  # the unused time, in the currency's places
    new_price: Decimal
    credit_applied: Decimal  # what the invoice's credit line takes off: the credit, at most the new price
    amount_due: Decimal  # before tax: the new price less the applied credit


def whole_days_left(expires_at: datetime | None, now: datetime) -> int:
    """`max(0, floor((expires_at − now) / 1 day))`; 0 for a period that never ends."""
    if expires_at is None:
        return 0
    return max(0, (expires_at - now) // ONE_DAY)


def prorate(
    *,
    current_price: Decimal,
    current_period: str,
    new_price: Decimal,
    expires_at: datetime | None,
    now: datetime,
    places: int,
    enabled: bool = True,
) -> Proration:
    """§8.1 for a change from a plan at `current_price` (billed every `current_period`) to one at `new_price`,
    both already in the subscription's currency. `enabled` is the plugin's `proration_enabled`."""
    period_days = PERIOD_DAYS.get(current_period)
    days = whole_days_left(expires_at, now)
    daily_rate = current_price / period_days if period_days else ZERO
    credit = round_money(ZERO, places)
    if enabled and period_days:
        credit = min(round_money(current_price * days / period_days, places), round_money(current_price, places))
    applied = min(credit, new_price)
    return Proration(
        days_remaining=days,
        daily_rate=daily_rate,
        credit=credit,
        new_price=new_price,
        credit_applied=applied,
        amount_due=new_price - applied,
    )
