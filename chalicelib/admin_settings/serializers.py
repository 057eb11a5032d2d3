"""JSON shapes of the admin settings objects (admin.md §10–§16)."""

from __future__ import annotations

from typing import Any

from chalicelib.catalog.models import (
    AccessLevelItem,
    CountryItem,
    CurrencyItem,
    PaymentMethodItem,
    TaxClassItem,
    TaxItem,
)
from chalicelib.catalog.serializers import currency as public_currency
from chalicelib.core.money import format_fixed
from chalicelib.core.times import iso


def _stamps(item: Any) -> dict[str, Any]:
    return {"created_at": iso(item.created_at), "updated_at": iso(item.updated_at)}


def _amount(value: Any) -> str | None:
    return None if value is None else format_fixed(value, 2)


def payment_method(item: PaymentMethodItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "code": item.code,
        "name": item.name,
        "description": item.description,
        "short_description": item.short_description,
        "icon": item.icon,
        "plugin_id": item.plugin_id,
        "is_active": item.is_active,
        "is_default": item.is_default,
        "position": int(item.position),
        "min_amount": _amount(item.min_amount),
        "max_amount": _amount(item.max_amount),
        "currencies": list(item.currencies),
        "countries": list(item.countries),
        "fee_type": item.fee_type,
        "fee_amount": format_fixed(item.fee_amount, 4),
        "fee_charged_to": item.fee_charged_to,
        "config": item.config if item.config is not None else {},
        "instructions": item.instructions,
        **_stamps(item),
    }


TRANSLATION_FIELDS = ("name", "description", "short_description", "instructions")


def translation(method: PaymentMethodItem, locale: str, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": values.get("id"),
        "payment_method_id": method.id,
        "locale": locale,
        **{name: values.get(name) for name in TRANSLATION_FIELDS},
    }


def country(item: CountryItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "code": item.code,
        "name": item.name,
        "is_enabled": item.is_enabled,
        "position": int(item.position),
        **_stamps(item),
    }


def currency(item: CurrencyItem) -> dict[str, Any]:
    """The public currency (catalog.md §2.4) with its id, state and stamps."""
    return {"id": item.id, **public_currency(item), "is_active": item.is_active, **_stamps(item)}


def tax_rate(item: TaxItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "code": item.code,
        "description": item.description,
        "rate": format_fixed(item.rate, 2),
        "country_code": item.country_code,
        "region_code": item.region_code,
        "tax_class_id": item.tax_class_id,
        "is_active": item.is_active,
        "is_inclusive": item.is_inclusive,
        **_stamps(item),
    }


def tax_class(item: TaxClassItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "code": item.code,
        "description": item.description,
        "default_rate": format_fixed(item.default_rate, 2),
        "is_default": item.is_default,
        **_stamps(item),
    }


def access_level(item: AccessLevelItem, user_count: int, *, member_level: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": item.id,
        "name": item.name,
        "slug": item.slug,
        "description": item.description,
        "is_system": item.is_system,
        "permissions": list(item.permissions),
        "user_count": user_count,
        **_stamps(item),
    }
    if member_level:
        body["linked_plan_slug"] = item.linked_plan_slug
    return body
