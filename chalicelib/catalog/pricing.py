"""Currency conversion and tax (contract catalog.md §3, checkout-and-payments.md §3.2–§3.3)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from chalicelib.catalog.models import CurrencyItem, TaxClassItem, TaxItem
from chalicelib.core.errors import BadRequest
from chalicelib.core.money import ZERO, round_money

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Currencies:
    by_code: dict[str, CurrencyItem]

    @classmethod
    def of(cls, items: Iterable[CurrencyItem]) -> Currencies:
        return cls({item.code: item for item in items})

    @property
    def default(self) -> CurrencyItem:
        for item in self.by_code.values():
            if item.is_default:
                return item
        raise LookupError("no default currency is configured")

    def places(self, code: str) -> int:
        item = self.by_code.get(code)
        return int(item.decimal_places) if item else 2

    def active(self, code: str) -> CurrencyItem:
        """The active currency `code` (already upper-cased), else 400 `Unknown currency: <CODE>`."""
        item = self.by_code.get(code)
        if item is None or not item.is_active:
            raise BadRequest(f"Unknown currency: {code}")
        return item

    def display(self, requested: str | None) -> CurrencyItem:
        return self.active(requested.strip().upper()) if requested else self.default

    def convert(self, amount: Decimal, source: str, target: CurrencyItem) -> Decimal:
        """`amount / rate(source) × rate(target)`, rounded to the target's places; unchanged if already there."""
        if source == target.code:
            return amount
        origin = self.by_code.get(source)
        if origin is None:
            raise LookupError(f"price in unknown currency {source}")
        converted = amount / origin.exchange_rate * target.exchange_rate
        return round_money(converted, int(target.decimal_places))


def applicable_tax(country: str | None, taxes: Iterable[TaxItem], classes: Iterable[TaxClassItem]) -> TaxItem | None:
    """checkout-and-payments.md §3.3: active, that country, no region; the default class's, else classless, else
    the lowest code."""
    if not country:
        return None
    candidates = sorted(
        (t for t in taxes if t.is_active and t.country_code == country and not t.region_code),
        key=lambda t: t.code,
    )
    if not candidates:
        return None
    default_class = next((c.id for c in classes if c.is_default), None)
    for tax in candidates:
        if default_class is not None and tax.tax_class_id == default_class:
            return tax
    for tax in candidates:
        if tax.tax_class_id is None:
            return tax
    return candidates[0]


@dataclass(frozen=True)
class TaxSplit:
    net: Decimal
    tax: Decimal
    gross: Decimal


def split(total: Decimal, tax: TaxItem | None, places: int) -> TaxSplit:
    """Net, tax and gross of one line, each rounded ROUND_HALF_UP to the currency's places."""
    if tax is None:
        return TaxSplit(total, round_money(ZERO, places), total)
    rate = tax.rate
    if tax.is_inclusive:
        net = round_money(total / (1 + rate / HUNDRED), places)
        return TaxSplit(net, total - net, total)
    amount = round_money(total * rate / HUNDRED, places)
    return TaxSplit(total, amount, total + amount)
