"""JSON shapes of catalog objects (contract catalog.md §2)."""

from __future__ import annotations

from typing import Any

from chalicelib.catalog.models import (
    AddonItem,
    CategoryItem,
    CountryItem,
    CurrencyItem,
    PaymentMethodItem,
    PlanItem,
    TaxItem,
    TokenBundleItem,
)
from chalicelib.catalog.pricing import Currencies
from chalicelib.core.money import as_number, format_fixed, format_money
from chalicelib.core.times import iso


def category_summary(category: CategoryItem) -> dict[str, Any]:
    return {"id": category.id, "name": category.name, "slug": category.slug, "is_single": category.is_single}


def plan(item: PlanItem, currencies: Currencies, categories: dict[str, CategoryItem]) -> dict[str, Any]:
    places = currencies.places(item.currency)
    currency = currencies.by_code.get(item.currency)
    return {
        "id": item.id,
        "name": item.name,
        "slug": item.slug,
        "description": item.description,
        "price_float": as_number(item.price, places),
        "price": {
            "price_decimal": format_money(item.price, places),
            "price_float": as_number(item.price, places),
            "currency_code": item.currency,
            "currency_symbol": currency.symbol if currency else item.currency,
        },
        "currency": item.currency,
        "billing_period": item.billing_period,
        "features": item.features if item.features is not None else {},
        "trial_days": int(item.trial_days),
        "is_active": item.is_active,
        "is_recurring": item.billing_period != "ONE_TIME",
        "sort_order": int(item.sort_order),
        "categories": [category_summary(categories[c]) for c in item.category_ids if c in categories],
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
    }


def category(item: CategoryItem, plan_count: int, children: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "slug": item.slug,
        "description": item.description,
        "parent_id": item.parent_id,
        "is_single": item.is_single,
        "sort_order": int(item.sort_order),
        "plan_count": plan_count,
        "children": children,
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
    }


def currency(item: CurrencyItem) -> dict[str, Any]:
    return {
        "code": item.code,
        "name": item.name,
        "symbol": item.symbol,
        "exchange_rate": format_fixed(item.exchange_rate, 6),
        "decimal_places": int(item.decimal_places),
        "is_default": item.is_default,
    }


def public_tax(item: TaxItem) -> dict[str, Any]:
    return {
        "code": item.code,
        "name": item.name,
        "rate": format_fixed(item.rate, 2),
        "country_code": item.country_code,
        "region_code": item.region_code,
        "is_inclusive": item.is_inclusive,
    }


def token_bundle(item: TokenBundleItem, currencies: Currencies) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "description": item.description,
        "token_amount": int(item.token_amount),
        "price": format_money(item.price, currencies.places(item.currency)),
        "currency": item.currency,
        "is_active": item.is_active,
        "sort_order": int(item.sort_order),
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
    }


def addon(item: AddonItem, currencies: Currencies, plans: dict[str, PlanItem]) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "slug": item.slug,
        "description": item.description,
        "price": format_money(item.price, currencies.places(item.currency)),
        "currency": item.currency,
        "billing_period": item.billing_period,
        "config": item.config if item.config is not None else {},
        "is_active": item.is_active,
        "is_recurring": item.billing_period != "ONE_TIME",
        "sort_order": int(item.sort_order),
        "tarif_plan_ids": list(item.plan_ids),
        "tarif_plans": [{"id": p, "name": plans[p].name} for p in item.plan_ids if p in plans],
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
    }


def public_country(item: CountryItem) -> dict[str, Any]:
    return {"code": item.code, "name": item.name}


TRANSLATED_FIELDS = ("name", "description", "short_description", "instructions")


def public_payment_method(item: PaymentMethodItem, locale: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": item.id,
        "code": item.code,
        "name": item.name,
        "description": item.description,
        "short_description": item.short_description,
        "icon": item.icon,
        "is_default": item.is_default,
        "is_active": item.is_active,
        "position": int(item.position),
        "fee_type": item.fee_type,
        "fee_amount": format_fixed(item.fee_amount, 4),
        "fee_charged_to": item.fee_charged_to,
        "instructions": item.instructions,
    }
    translation = _translation(item, locale)
    for name in TRANSLATED_FIELDS:
        if translation.get(name):
            body[name] = translation[name]
    return body


def _translation(item: PaymentMethodItem, locale: str | None) -> dict[str, Any]:
    if not locale:
        return {}
    translations = item.translations or {}
    wanted = locale.strip()
    for candidate in (wanted, wanted.replace("_", "-"), wanted.split("-")[0].split("_")[0]):
        for key, value in translations.items():
            if key.lower() == candidate.lower() and isinstance(value, dict):
                return value
    return {}
