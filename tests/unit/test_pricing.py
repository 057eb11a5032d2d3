from decimal import Decimal

import pytest

from chalicelib.catalog.models import CurrencyItem, TaxClassItem, TaxItem
from chalicelib.catalog.pricing import Currencies, applicable_tax, split
from chalicelib.core.errors import BadRequest


def currency(code: str, rate: str, places: int = 2, default: bool = False, active: bool = True) -> CurrencyItem:
    return CurrencyItem(
        "CURRENCY",
        code,
        code=code,
        exchange_rate=Decimal(rate),
        decimal_places=places,
        is_default=default,
        is_active=active,
    )


CURRENCIES = Currencies.of(
    [
        currency("EUR", "1.000000", default=True),
        currency("USD", "1.080000"),
        currency("JPY", "160.000000", 0),
        currency("XXX", "2.000000", active=False),
    ]
)


def tax(
    code: str,
    country: str,
    rate: str,
    *,
    inclusive: bool = False,
    klass: str | None = None,
    region: str | None = None,
    active: bool = True,
) -> TaxItem:
    return TaxItem(
        "TAX",
        code,
        code=code,
        country_code=country,
        rate=Decimal(rate),
        is_inclusive=inclusive,
        tax_class_id=klass,
        region_code=region,
        is_active=active,
    )


def test_conversion_goes_through_the_default_currency_and_rounds_to_the_target() -> None:
    assert CURRENCIES.convert(Decimal("9.99"), "EUR", CURRENCIES.by_code["USD"]) == Decimal("10.79")
    assert CURRENCIES.convert(Decimal("9.99"), "EUR", CURRENCIES.by_code["JPY"]) == Decimal("1598")
    assert CURRENCIES.convert(Decimal("10.99"), "USD", CURRENCIES.by_code["EUR"]) == Decimal("10.18")
    assert CURRENCIES.convert(Decimal("9.99"), "EUR", CURRENCIES.by_code["EUR"]) == Decimal("9.99")


def test_display_currency_must_be_active() -> None:
    assert CURRENCIES.display(None).code == "EUR"
    assert CURRENCIES.display(" usd ").code == "USD"
    for code in ("XXX", "ABC"):
        with pytest.raises(BadRequest, match=f"Unknown currency: {code}"):
            CURRENCIES.display(code.lower())


def test_exclusive_tax_is_added_per_line() -> None:
    line = split(Decimal("9.99"), tax("VAT_DE", "DE", "19.00"), 2)
    assert (line.net, line.tax, line.gross) == (Decimal("9.99"), Decimal("1.90"), Decimal("11.89"))
    bundle = split(Decimal("3.00"), tax("VAT_DE", "DE", "19.00"), 2)
    assert (bundle.net, bundle.tax, bundle.gross) == (Decimal("3.00"), Decimal("0.57"), Decimal("3.57"))


def test_inclusive_tax_is_carved_out_of_the_price() -> None:
    line = split(Decimal("9.99"), tax("VAT_TH", "TH", "7.00", inclusive=True), 2)
    assert (line.net, line.tax, line.gross) == (Decimal("9.34"), Decimal("0.65"), Decimal("9.99"))


def test_credit_lines_round_symmetrically() -> None:
    line = split(Decimal("-5.00"), tax("VAT_DE", "DE", "19.00"), 2)
    assert (line.net, line.tax, line.gross) == (Decimal("-5.00"), Decimal("-0.95"), Decimal("-5.95"))


def test_no_tax_keeps_the_price() -> None:
    line = split(Decimal("9.99"), None, 2)
    assert (line.net, line.tax, line.gross) == (Decimal("9.99"), Decimal("0.00"), Decimal("9.99"))


def test_tax_selection_prefers_the_default_class_then_classless_then_lowest_code() -> None:
    classes = [TaxClassItem("TAX_CLASS", "std", id="std", is_default=True), TaxClassItem("TAX_CLASS", "red", id="red")]
    reduced = tax("VAT_DE_REDUCED", "DE", "7.00", klass="red")
    standard = tax("VAT_DE", "DE", "19.00", klass="std")
    classless = tax("VAT_DE_ZZ", "DE", "5.00")
    assert applicable_tax("DE", [reduced, standard, classless], classes) is standard
    assert applicable_tax("DE", [reduced, classless], classes) is classless
    assert applicable_tax("DE", [reduced, tax("VAT_DE_A", "DE", "9.00", klass="red")], classes).code == "VAT_DE_A"


def test_tax_selection_ignores_inactive_regional_and_foreign_taxes() -> None:
    taxes = [
        tax("VAT_DE", "DE", "19.00", active=False),
        tax("VAT_DE_BY", "DE", "18.00", region="BY"),
        tax("VAT_AT", "AT", "20.00"),
    ]
    assert applicable_tax("DE", taxes, []) is None
    assert applicable_tax(None, taxes, []) is None
