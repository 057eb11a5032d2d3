"""The proration formula (contract subscriptions.md §8.1): the contract's examples exactly, the edges, and
properties over every price, period and moment."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.subscriptions.proration import PERIOD_DAYS, prorate

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
RECURRING = ("DAILY", "WEEKLY", "MONTHLY", "QUARTERLY", "YEARLY")


def days(n: float) -> datetime:
    return NOW + timedelta(days=n)


def test_basic_with_15_days_left_to_pro_credits_5_00_and_charges_24_99() -> None:
    result = prorate(
        current_price=Decimal("9.99"),
        current_period="MONTHLY",
        new_price=Decimal("29.99"),
        expires_at=days(15),
        now=NOW,
        places=2,
    )
    assert (result.days_remaining, result.daily_rate, result.credit) == (15, Decimal("0.333"), Decimal("5.00"))
    assert (result.amount_due, result.credit_applied, result.new_price) == (
        Decimal("24.99"),
        Decimal("5.00"),
        Decimal("29.99"),
    )
    assert str(result.credit) == "5.00" and str(result.amount_due) == "24.99"


def test_pro_with_10_days_left_to_basic_credits_10_00_and_charges_nothing() -> None:
    result = prorate(
        current_price=Decimal("29.99"),
        current_period="MONTHLY",
        new_price=Decimal("9.99"),
        expires_at=days(10),
        now=NOW,
        places=2,
    )
    assert (result.days_remaining, result.credit, result.amount_due) == (10, Decimal("10.00"), Decimal("0.00"))
    assert result.credit_applied == Decimal("9.99")  # the credit line never takes off more than the new price
    assert str(result.amount_due) == "0.00"


def test_the_daily_rate_is_exact_not_rounded() -> None:
    result = prorate(
        current_price=Decimal("29.99"),
        current_period="MONTHLY",
        new_price=Decimal("99.99"),
        expires_at=days(1),
        now=NOW,
        places=2,
    )
    assert result.daily_rate == Decimal("29.99") / 30
    assert result.credit == Decimal("1.00")  # 0.99966… rounded half up


@pytest.mark.parametrize(
    ("period", "length"), [("DAILY", 1), ("WEEKLY", 7), ("MONTHLY", 30), ("QUARTERLY", 90), ("YEARLY", 365)]
)
def test_period_days_of_the_current_plan(period: str, length: int) -> None:
    assert PERIOD_DAYS[period] == length
    result = prorate(
        current_price=Decimal(length),
        current_period=period,
        new_price=Decimal(1000),
        expires_at=days(1),
        now=NOW,
        places=2,
    )
    assert (result.daily_rate, result.credit) == (Decimal(1), Decimal("1.00"))


def test_days_remaining_are_whole_days_rounded_down() -> None:
    almost_three = NOW + timedelta(days=3) - timedelta(microseconds=1)
    result = prorate(
        current_price=Decimal("30"),
        current_period="MONTHLY",
        new_price=Decimal("50"),
        expires_at=almost_three,
        now=NOW,
        places=2,
    )
    assert (result.days_remaining, result.credit) == (2, Decimal("2.00"))


def test_an_expired_period_leaves_no_days_and_no_credit() -> None:
    result = prorate(
        current_price=Decimal("9.99"),
        current_period="MONTHLY",
        new_price=Decimal("29.99"),
        expires_at=days(-2),
        now=NOW,
        places=2,
    )
    assert (result.days_remaining, result.credit, result.amount_due) == (0, Decimal("0.00"), Decimal("29.99"))


def test_no_credit_when_proration_is_disabled() -> None:
    result = prorate(
        current_price=Decimal("9.99"),
        current_period="MONTHLY",
        new_price=Decimal("29.99"),
        expires_at=days(15),
        now=NOW,
        places=2,
        enabled=False,
    )
    assert (result.days_remaining, result.credit, result.amount_due) == (15, Decimal("0.00"), Decimal("29.99"))


def test_no_credit_from_a_one_time_plan() -> None:
    result = prorate(
        current_price=Decimal("499.99"),
        current_period="ONE_TIME",
        new_price=Decimal("29.99"),
        expires_at=None,
        now=NOW,
        places=2,
    )
    assert (result.days_remaining, result.daily_rate, result.credit, result.amount_due) == (
        0,
        Decimal(0),
        Decimal("0.00"),
        Decimal("29.99"),
    )


def test_money_has_the_currency_places() -> None:
    result = prorate(
        current_price=Decimal("1000"),
        current_period="MONTHLY",
        new_price=Decimal("3000"),
        expires_at=days(7),
        now=NOW,
        places=0,
    )
    assert (str(result.credit), str(result.amount_due)) == ("233", "2767")  # 233.33… JPY has no minor unit


def test_a_31_day_month_never_credits_more_than_was_paid() -> None:
    result = prorate(
        current_price=Decimal("9.99"),
        current_period="MONTHLY",
        new_price=Decimal("29.99"),
        expires_at=days(31),  # bought on 1 March at this very moment
        now=NOW,
        places=2,
    )
    assert (result.days_remaining, result.credit, result.amount_due) == (31, Decimal("9.99"), Decimal("20.00"))


def test_a_half_rounds_up() -> None:
    result = prorate(
        current_price=Decimal("0.03"),
        current_period="MONTHLY",
        new_price=Decimal("1.00"),
        expires_at=days(5),
        now=NOW,
        places=2,
    )
    assert result.credit == Decimal("0.01")  # exactly 0.005


# --- properties -------------------------------------------------------------------------------------------------

prices = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False, allow_infinity=False)
places = st.sampled_from([0, 2, 3])
periods = st.sampled_from(RECURRING)
# Up to two of the longest periods left, to the microsecond (an upgrade mid-way through any moment of it).
remaining = st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=730))


def exact_credit(price: Decimal, period: str, whole_days: int, at_places: int) -> Decimal:
    """The formula with exact fractions, rounded half up once, and never more than the price that was paid."""
    scaled = Fraction(price) * whole_days / PERIOD_DAYS[period] * 10**at_places
    rounded = Decimal(math.floor(scaled + Fraction(1, 2))).scaleb(-at_places)
    return min(rounded, price.quantize(Decimal(1).scaleb(-at_places), rounding=ROUND_HALF_UP))


@given(current=prices, new=prices, period=periods, left=remaining, at_places=places)
def test_the_credit_is_the_exact_formula_rounded_half_up_once(
    current: Decimal, new: Decimal, period: str, left: timedelta, at_places: int
) -> None:
    result = prorate(
        current_price=current,
        current_period=period,
        new_price=new,
        expires_at=NOW + left,
        now=NOW,
        places=at_places,
    )
    assert result.days_remaining == max(0, left // timedelta(days=1))
    assert result.credit == exact_credit(current, period, result.days_remaining, at_places)


@given(current=prices, new=prices, period=periods, left=remaining, at_places=places)
def test_amount_due_is_never_negative_and_the_applied_credit_never_exceeds_the_new_price(
    current: Decimal, new: Decimal, period: str, left: timedelta, at_places: int
) -> None:
    result = prorate(
        current_price=current,
        current_period=period,
        new_price=new,
        expires_at=NOW + left,
        now=NOW,
        places=at_places,
    )
    assert result.amount_due >= 0
    assert 0 <= result.credit_applied <= result.new_price
    assert result.amount_due == result.new_price - result.credit_applied


@given(current=prices, new=prices, period=periods, left=remaining, at_places=places)
def test_the_credit_never_exceeds_the_current_price(
    current: Decimal, new: Decimal, period: str, left: timedelta, at_places: int
) -> None:
    """Not even with more days left than the period has (a 31-day month, a resumed pause, an extension)."""
    result = prorate(
        current_price=current,
        current_period=period,
        new_price=new,
        expires_at=NOW + left,
        now=NOW,
        places=at_places,
    )
    assert result.credit <= current.quantize(Decimal(1).scaleb(-at_places), rounding=ROUND_HALF_UP)


@given(
    current=prices,
    new=prices,
    period=periods,
    first=st.integers(min_value=0, max_value=400),
    more=st.integers(min_value=0, max_value=400),
    at_places=places,
)
def test_more_days_left_never_give_less_credit_nor_more_to_pay(
    current: Decimal, new: Decimal, period: str, first: int, more: int, at_places: int
) -> None:
    def at(left: int):  # type: ignore[no-untyped-def]
        return prorate(
            current_price=current,
            current_period=period,
            new_price=new,
            expires_at=days(left),
            now=NOW,
            places=at_places,
        )

    fewer, longer = at(first), at(first + more)
    assert fewer.credit <= longer.credit
    assert fewer.amount_due >= longer.amount_due
