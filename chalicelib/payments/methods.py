"""Which payment methods can take money for a given invoice (catalog.md §4.12, checkout-and-payments.md §5.1 rule 8)."""

from __future__ import annotations

from decimal import Decimal

from chalicelib.catalog.models import PaymentMethodItem
from chalicelib.catalog.repository import Reference


def provider_of(method: PaymentMethodItem) -> str | None:
    """The provider plugin behind a method (`None` for the core bank-transfer method)."""
    return method.plugin_id or ("sandbox" if method.code == "sandbox" else None)


def is_listable(method: PaymentMethodItem) -> bool:
    """Active, and its provider plugin (if any) enabled and configured — never offer what cannot take money."""
    from chalicelib.core.config import get_settings
    from chalicelib.payments.hosted import is_configured
    from chalicelib.plugins.registry import is_enabled

    if not method.is_active:
        return False
    provider = provider_of(method)
    if provider is None:
        return True
    if provider == "sandbox":
        return is_enabled(provider) and get_settings().is_sandbox_enabled
    return is_enabled(provider) and is_configured(provider)


def accepts(method: PaymentMethodItem, currency: str | None, country: str | None, amount: Decimal | None) -> bool:
    """The method's currency and country lists and amount bounds admit the payment (empty lists admit all)."""
    if currency and method.currencies and currency.upper() not in {c.upper() for c in method.currencies}:
        return False
    if country and method.countries and country.upper() not in {c.upper() for c in method.countries}:
        return False
    if amount is not None and method.min_amount is not None and amount < method.min_amount:
        return False
    return not (amount is not None and method.max_amount is not None and amount > method.max_amount)


def usable(ref: Reference, code: str, currency: str, country: str | None, amount: Decimal) -> PaymentMethodItem | None:
    """The method `code` when it can pay this invoice now: listable, accepting it, with a provider that runs here."""
    from chalicelib.payments.providers import has_provider

    method = next((m for m in ref.payment_methods if m.code == code), None)
    if method is None or not is_listable(method) or not accepts(method, currency, country, amount):
        return None
    return method if has_provider(method.code) else None


def default_method(ref: Reference, currency: str, country: str | None, amount: Decimal) -> PaymentMethodItem | None:
    method = next((m for m in ref.payment_methods if m.is_default), None)
    if method is None:
        return None
    return usable(ref, method.code, currency, country, amount)
