"""Catalog reads: each kind is one strongly consistent Query of its partition."""

from __future__ import annotations

from typing import Any, TypeVar

from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from chalicelib.catalog.models import (
    USER_ACCESS_LEVEL_PK,
    AccessLevelItem,
    AddonItem,
    CategoryItem,
    CountryItem,
    CurrencyItem,
    LanguageItem,
    ManifestItem,
    PaymentMethodItem,
    PlanItem,
    PluginItem,
    SettingsItem,
    TaxClassItem,
    TaxItem,
    TokenBundleItem,
)
from chalicelib.catalog.settings import with_defaults

M = TypeVar("M", bound=Model)


def _all(model: type[M], pk: str) -> list[M]:
    return [item for item in model.query(pk, consistent_read=True) if isinstance(item, model)]


def _one(model: type[M], pk: str, sk: str) -> M | None:
    try:
        return model.get(pk, sk, consistent_read=True)
    except DoesNotExist:
        return None


def currencies() -> list[CurrencyItem]:
    return _all(CurrencyItem, CurrencyItem.PK)


def countries() -> list[CountryItem]:
    return _all(CountryItem, CountryItem.PK)


def find_country(code: str) -> CountryItem | None:
    return _one(CountryItem, CountryItem.PK, code.upper())


def taxes() -> list[TaxItem]:
    return _all(TaxItem, TaxItem.PK)


def tax_classes() -> list[TaxClassItem]:
    return _all(TaxClassItem, TaxClassItem.PK)


def categories() -> list[CategoryItem]:
    return _all(CategoryItem, CategoryItem.PK)


def plans() -> list[PlanItem]:
    return _all(PlanItem, PlanItem.PK)


def find_plan(plan_id: str) -> PlanItem | None:
    return _one(PlanItem, PlanItem.PK, plan_id)


def token_bundles() -> list[TokenBundleItem]:
    return _all(TokenBundleItem, TokenBundleItem.PK)


def find_token_bundle(bundle_id: str) -> TokenBundleItem | None:
    return _one(TokenBundleItem, TokenBundleItem.PK, bundle_id)


def addons() -> list[AddonItem]:
    return _all(AddonItem, AddonItem.PK)


def find_addon(addon_id: str) -> AddonItem | None:
    return _one(AddonItem, AddonItem.PK, addon_id)


def payment_methods() -> list[PaymentMethodItem]:
    return _all(PaymentMethodItem, PaymentMethodItem.PK)


def languages() -> list[LanguageItem]:
    return _all(LanguageItem, LanguageItem.PK)


def plugins() -> list[PluginItem]:
    return _all(PluginItem, PluginItem.PK)


def admin_access_levels() -> list[AccessLevelItem]:
    return _all(AccessLevelItem, AccessLevelItem.PK)


def user_access_levels() -> list[AccessLevelItem]:
    return _all(AccessLevelItem, USER_ACCESS_LEVEL_PK)


def manifest(app: str) -> ManifestItem | None:
    return _one(ManifestItem, ManifestItem.PK, app)


def settings() -> dict[str, Any]:
    """The admin settings (admin.md §14) over their defaults."""
    stored = _one(SettingsItem, SettingsItem.PK, SettingsItem.SK)
    return with_defaults(stored.values if stored else {})
