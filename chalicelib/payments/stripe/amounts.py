"""Stripe amounts: integers in the currency's smallest unit, whole units for Stripe's zero-decimal currencies.

Exact or refused: an amount with more places than Stripe's unit takes is never rounded (README §1.8).
"""

from __future__ import annotations

from decimal import Decimal

from chalicelib.payments.hosted import ProviderError

# Stripe's zero-decimal currencies (`amount` in whole units) and the three-decimal ones.
ZERO_DECIMAL = frozenset(
    ("BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF")
)
THREE_DECIMAL = frozenset(("BHD", "JOD", "KWD", "OMR", "TND"))


def places(currency: str) -> int:
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    return 3 if code in THREE_DECIMAL else 2


def to_minor(amount: Decimal, currency: str) -> int:
    """`amount` (major units) as Stripe's integer; ProviderError when it is not a whole number of minor units."""
    scaled = Decimal(amount).scaleb(places(currency))
    if scaled != scaled.to_integral_value():
        raise ProviderError(f"Amount {amount} {currency.upper()} has more decimal places than Stripe accepts")
    return int(scaled)


def to_major(amount: int | None, currency: str) -> Decimal:
    """Stripe's integer `amount` in major units, with the currency's places (`Decimal("12.50")`, `Decimal("500")`)."""
    digits = places(currency)
    return Decimal(int(amount or 0)).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))
