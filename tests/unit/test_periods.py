from datetime import UTC, datetime

import pytest

from chalicelib.subscriptions.periods import add_period


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_monthly_keeps_the_anchor_day_clamped_to_month_end() -> None:
    start = at("2026-01-31T10:00:00")
    february = add_period(start, "MONTHLY")
    march = add_period(february, "MONTHLY", anchor_day=31)  # type: ignore[arg-type]
    april = add_period(march, "MONTHLY", anchor_day=31)  # type: ignore[arg-type]
    assert (february, march, april) == (at("2026-02-28T10:00:00"), at("2026-03-31T10:00:00"), at("2026-04-30T10:00:00"))


def test_monthly_mid_month() -> None:
    assert add_period(at("2026-05-15T09:00:00"), "MONTHLY") == at("2026-06-15T09:00:00")


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("DAILY", "2026-05-16T09:00:00"),
        ("WEEKLY", "2026-05-22T09:00:00"),
        ("QUARTERLY", "2026-08-15T09:00:00"),
        ("YEARLY", "2027-05-15T09:00:00"),
    ],
)
def test_other_periods(period: str, expected: str) -> None:
    assert add_period(at("2026-05-15T09:00:00"), period) == at(expected)


def test_yearly_from_a_leap_day_clamps_to_28_february() -> None:
    assert add_period(at("2024-02-29T00:00:00"), "YEARLY") == at("2025-02-28T00:00:00")


def test_one_time_never_expires() -> None:
    assert add_period(at("2026-05-15T09:00:00"), "ONE_TIME") is None


def test_unknown_period_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown billing period"):
        add_period(at("2026-05-15T09:00:00"), "HOURLY")
