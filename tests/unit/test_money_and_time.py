from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from chalicelib.core.money import as_number, format_fixed, format_money, parse_decimal, round_money
from chalicelib.core.times import iso, parse_instant, unix


@pytest.mark.parametrize(
    ("amount", "places", "expected"),
    [
        ("1.005", 2, "1.01"),
        ("1.004", 2, "1.00"),
        ("-1.005", 2, "-1.01"),  # half away from zero, so credit lines round symmetrically
        ("2.5", 0, "3"),
        ("9.9", 2, "9.90"),
        ("1200", 0, "1200"),
        ("0", 2, "0.00"),
        ("1E+3", 2, "1000.00"),
    ],
)
def test_format_money_rounds_half_up_to_the_currency_places(amount: str, places: int, expected: str) -> None:
    assert format_money(Decimal(amount), places) == expected


def test_rates_keep_their_fixed_places() -> None:
    assert format_fixed(Decimal("19"), 2) == "19.00"
    assert format_fixed(Decimal("1.08"), 6) == "1.080000"
    assert format_fixed(Decimal("0"), 4) == "0.0000"


@pytest.mark.parametrize(("raw", "expected"), [(19, "19"), ("19.00", "19.00"), (" 9.99 ", "9.99"), (0.1, "0.1")])
def test_parse_decimal_accepts_numbers_and_decimal_strings(raw: object, expected: str) -> None:
    assert parse_decimal(raw) == Decimal(expected)


@pytest.mark.parametrize("raw", [True, False, None, "abc", "", "NaN", "Infinity", [], {}])
def test_parse_decimal_refuses_everything_else(raw: object) -> None:
    with pytest.raises(ValueError, match="not a decimal"):
        parse_decimal(raw)


def test_json_numbers_for_vbwd_fields() -> None:
    assert as_number(Decimal("9.99")) == 9.99
    assert as_number(Decimal("1200"), 0) == 1200
    assert isinstance(as_number(Decimal("1200"), 0), int)
    assert round_money(Decimal("10.785"), 2) == Decimal("10.79")


def test_iso_writes_utc_with_z_and_six_digits_only_when_needed() -> None:
    assert iso(datetime(2026, 5, 1, 10, 0, tzinfo=UTC)) == "2026-05-01T10:00:00Z"
    assert iso(datetime(2026, 4, 23, 10, 15, 30, 123456, tzinfo=UTC)) == "2026-04-23T10:15:30.123456Z"
    assert iso(datetime(2026, 4, 23, 10, 15, 30, 120000, tzinfo=UTC)) == "2026-04-23T10:15:30.120000Z"
    berlin = timezone(timedelta(hours=2))
    assert iso(datetime(2026, 5, 4, 10, 0, tzinfo=berlin)) == "2026-05-04T08:00:00Z"
    assert iso(None) is None


@pytest.mark.parametrize(
    "text", ["2026-05-01T10:00:00Z", "2026-05-01T12:00:00+02:00", "2026-05-01T10:00:00", "2026-05-01T10:00:00z"]
)
def test_parse_instant_accepts_z_offsets_and_naive_utc(text: str) -> None:
    assert parse_instant(text) == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01T00:00:00Z", "01/05/2026"])
def test_parse_instant_refuses_the_rest(text: str) -> None:
    with pytest.raises(ValueError):
        parse_instant(text)


def test_unix_seconds() -> None:
    assert unix(datetime(1970, 1, 1, 0, 1, tzinfo=UTC)) == 60
