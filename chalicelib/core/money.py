"""Money is Decimal, rounded ROUND_HALF_UP to the currency's places, and travels as a string."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ZERO = Decimal("0")


def quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def round_money(amount: Decimal, places: int = 2) -> Decimal:
    return amount.quantize(quantum(places), rounding=ROUND_HALF_UP)


def format_money(amount: Decimal, places: int = 2) -> str:
    """`Decimal("9.9")` → `"9.90"`; JPY (0 places) `Decimal("1200")` → `"1200"`. Never an exponent."""
    return f"{round_money(amount, places):f}"


def format_fixed(value: Decimal, places: int) -> str:
    """Rates and other non-money decimals with a fixed number of places (`"19.00"`, `"1.080000"`)."""
    return format_money(value, places)


def parse_decimal(value: object) -> Decimal:
    """A JSON number or a decimal string → Decimal. Booleans and non-finite values are refused."""
    if isinstance(value, bool) or value is None:
        raise ValueError("not a decimal")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation as exc:
            raise ValueError("not a decimal") from exc
    else:
        raise ValueError("not a decimal")
    if not result.is_finite():
        raise ValueError("not a decimal")
    return result


def as_number(amount: Decimal, places: int = 2) -> float | int:
    """The JSON number form some VBWD fields need (`price_float`, `display_price`)."""
    rounded = round_money(amount, places)
    return int(rounded) if places == 0 else float(rounded)
