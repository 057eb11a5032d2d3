"""Seeds reference data and the catalog (seed-data.md §3–§10): only what is missing is written."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar

from pynamodb.models import Model

from chalicelib.catalog.models import (
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
    UniqueGuardItem,
    UserAccessLevelItem,
)
from chalicelib.core.ids import seed_id
from chalicelib.plugins.registry import PLUGINS
from chalicelib.seed import data
from chalicelib.seed.countries import COUNTRIES, ENABLED
from chalicelib.store.reads import batch_get

M = TypeVar("M", bound=Model)


def write_missing(model: type[M], items: Iterable[M]) -> int:
    """Batch-write the items whose keys are not stored yet (one BatchGetItem per 100 keys); returns how many.

    What exists is left untouched, so seeding twice never duplicates or overwrites a record.
    """
    candidates = list(items)
    found = batch_get([(model, getattr(i, "pk"), getattr(i, "sk")) for i in candidates])  # noqa: B009
    missing = [item for item, existing in zip(candidates, found, strict=True) if existing is None]
    if not missing:
        return 0
    with model.batch_write() as batch:
        for item in missing:
            if "version" in model.get_attributes() and getattr(item, "version", None) is None:
                item.version = 1  # type: ignore[attr-defined]
            batch.save(item)
    return len(missing)


def _write_guards(kind: str, owners: dict[str, str]) -> None:
    """Uniqueness guards of seeded slugs and codes, so later admin writes respect them."""
    write_missing(
        UniqueGuardItem,
        [UniqueGuardItem(*UniqueGuardItem.key(kind, value), owner_id=owner) for value, owner in owners.items()],
    )


def seed_reference(now: datetime, stage: str) -> dict[str, int]:
    """What every stage gets, prod included (seed-data.md §1)."""
    created: dict[str, int] = {}
    enabled = {code: position for position, code in enumerate(ENABLED)}
    created["countries"] = write_missing(
        CountryItem,
        (
            CountryItem(
                *CountryItem.key(code),
                id=seed_id("country", code),
                code=code,
                name=name,
                is_enabled=code in enabled,
                position=enabled.get(code, 999),
                created_at=now,
                updated_at=now,
            )
            for code, name in COUNTRIES
        ),
    )
    created["currencies"] = write_missing(
        CurrencyItem,
        (
            CurrencyItem(
                *CurrencyItem.key(c["code"]),
                id=seed_id("currency", c["code"]),
                code=c["code"],
                name=c["name"],
                symbol=c["symbol"],
                exchange_rate=c["exchange_rate"],
                decimal_places=c["decimal_places"],
                is_default=c.get("is_default", False),
                is_active=True,
                created_at=now,
                updated_at=now,
            )
            for c in data.CURRENCIES
        ),
    )
    created["languages"] = write_missing(
        LanguageItem,
        (
            LanguageItem(*LanguageItem.key(code), code=code, name=name, sort_order=i, created_at=now, updated_at=now)
            for i, (code, name) in enumerate(data.LANGUAGES)
        ),
    )
    created["access_levels"] = write_missing(
        AccessLevelItem,
        (
            _level(AccessLevelItem, "access_level", level, now)
            for level in data.ADMIN_ACCESS_LEVELS
            if level["is_system"] or stage != "prod"
        ),
    )
    created["user_access_levels"] = write_missing(
        UserAccessLevelItem,
        (
            _level(UserAccessLevelItem, "user_access_level", level, now)
            for level in data.USER_ACCESS_LEVELS
            if level["is_system"] or stage != "prod"
        ),
    )
    created["tax_classes"] = write_missing(
        TaxClassItem,
        (
            TaxClassItem(
                *TaxClassItem.key(seed_id("tax_class", c["code"])),
                id=seed_id("tax_class", c["code"]),
                code=c["code"],
                name=c["name"],
                default_rate=c["default_rate"],
                is_default=c["is_default"],
                created_at=now,
                updated_at=now,
            )
            for c in data.TAX_CLASSES
        ),
    )
    methods = [m for m in data.PAYMENT_METHODS if m["code"] == "invoice" or stage != "prod"]
    created["payment_methods"] = write_missing(
        PaymentMethodItem, (_payment_method(method, stage, now) for method in methods)
    )
    _write_guards("PAYMENT_METHOD_CODE", {m["code"]: seed_id("payment_method", m["code"]) for m in methods})
    created["settings"] = write_missing(
        SettingsItem,
        [
            SettingsItem(
                *SettingsItem.key(SettingsItem.NAME), values=dict(data.SETTINGS), created_at=now, updated_at=now
            )
        ],
    )
    created["plugins"] = write_missing(
        PluginItem,
        (
            PluginItem(
                *PluginItem.key(name),
                name=name,
                enabled=_plugin_enabled(name, stage),
                config=dict(spec.default_config),
                created_at=now,
                updated_at=now,
            )
            for name, spec in PLUGINS.items()
        ),
    )
    return created


def _level(model: type[AccessLevelItem], kind: str, level: dict[str, Any], now: datetime) -> AccessLevelItem:
    level_id = seed_id(kind, level["slug"])
    return model(
        *model.key(level_id),
        id=level_id,
        name=level["name"],
        slug=level["slug"],
        description=level.get("description"),
        is_system=level["is_system"],
        permissions=list(level["permissions"]),
        linked_plan_slug=level.get("linked_plan_slug"),
        created_at=now,
        updated_at=now,
    )


def _payment_method(method: dict[str, Any], stage: str, now: datetime) -> PaymentMethodItem:
    method_id = seed_id("payment_method", method["code"])
    translations = {
        locale: {"id": seed_id("payment_method_translation", f"{method['code']}:{locale}"), **fields}
        for locale, fields in method.get("translations", {}).items()
    }
    active = method.get("is_active", True) and stage in method.get("active_stages", (stage,))
    return PaymentMethodItem(
        *PaymentMethodItem.key(method_id),
        id=method_id,
        code=method["code"],
        name=method["name"],
        description=method.get("description"),
        short_description=method.get("short_description"),
        icon=method.get("icon"),
        plugin_id=method.get("plugin_id"),
        is_active=active,
        is_default=method.get("is_default", False),
        position=method["position"],
        currencies=list(method.get("currencies", [])),
        countries=[],
        instructions=method.get("instructions"),
        translations=translations,
        created_at=now,
        updated_at=now,
    )


def _plugin_enabled(name: str, stage: str) -> bool:
    if name in data.LOCAL_DEV_PLUGINS:
        return stage in ("local", "dev")
    return name in data.ENABLED_PLUGINS


def seed_catalog(now: datetime) -> dict[str, int]:
    """Demo catalog: taxes, categories, plans, bundles, add-ons, manifests (local and dev)."""
    created: dict[str, int] = {}
    class_ids = {c["code"]: seed_id("tax_class", c["code"]) for c in data.TAX_CLASSES}
    created["taxes"] = write_missing(
        TaxItem,
        (
            TaxItem(
                *TaxItem.key(seed_id("tax", t["code"])),
                id=seed_id("tax", t["code"]),
                code=t["code"],
                name=t["name"],
                rate=t["rate"],
                country_code=t["country_code"],
                tax_class_id=class_ids[t["tax_class"]],
                is_active=True,
                is_inclusive=t.get("is_inclusive", False),
                created_at=now,
                updated_at=now,
            )
            for t in data.TAXES
        ),
    )
    _write_guards("TAX_CODE", {t["code"]: seed_id("tax", t["code"]) for t in data.TAXES})
    category_ids = {c["slug"]: seed_id("category", c["slug"]) for c in data.CATEGORIES}
    created["categories"] = write_missing(
        CategoryItem,
        (
            CategoryItem(
                *CategoryItem.key(category_ids[c["slug"]]),
                id=category_ids[c["slug"]],
                name=c["name"],
                slug=c["slug"],
                parent_id=category_ids.get(c["parent"]) if c["parent"] else None,
                is_single=c["is_single"],
                sort_order=c["sort_order"],
                created_at=now,
                updated_at=now,
            )
            for c in data.CATEGORIES
        ),
    )
    _write_guards("CATEGORY_SLUG", dict(category_ids.items()))
    plan_ids = {p["slug"]: seed_id("plan", p["slug"]) for p in data.PLANS}
    created["plans"] = write_missing(
        PlanItem,
        (
            PlanItem(
                *PlanItem.key(plan_ids[p["slug"]]),
                id=plan_ids[p["slug"]],
                name=p["name"],
                slug=p["slug"],
                description=p["description"],
                price=p["price"],
                currency=p["currency"],
                billing_period=p["billing_period"],
                features=dict(p["features"]),
                trial_days=p["trial_days"],
                is_active=p["is_active"],
                sort_order=p["sort_order"],
                category_ids=[category_ids[c] for c in p["categories"]],
                created_at=now,
                updated_at=now,
            )
            for p in data.PLANS
        ),
    )
    _write_guards("PLAN_SLUG", plan_ids)
    created["token_bundles"] = write_missing(
        TokenBundleItem,
        (
            TokenBundleItem(
                *TokenBundleItem.key(seed_id("bundle", b["name"])),
                id=seed_id("bundle", b["name"]),
                name=b["name"],
                description=b.get("description"),
                token_amount=b["token_amount"],
                price=b["price"],
                currency="EUR",
                is_active=b.get("is_active", True),
                sort_order=b["sort_order"],
                created_at=now,
                updated_at=now,
            )
            for b in data.TOKEN_BUNDLES
        ),
    )
    created["addons"] = write_missing(
        AddonItem,
        (
            AddonItem(
                *AddonItem.key(seed_id("addon", a["slug"])),
                id=seed_id("addon", a["slug"]),
                name=a["name"],
                slug=a["slug"],
                description=a.get("description"),
                price=a["price"],
                currency="EUR",
                billing_period=a["billing_period"],
                config={},
                is_active=a.get("is_active", True),
                sort_order=a["sort_order"],
                plan_ids=[plan_ids[p] for p in a["plans"]],
                created_at=now,
                updated_at=now,
            )
            for a in data.ADDONS
        ),
    )
    _write_guards("ADDON_SLUG", {a["slug"]: seed_id("addon", a["slug"]) for a in data.ADDONS})
    backend = {
        "plugins": {
            name: {
                "enabled": name in data.ENABLED_PLUGINS or name in data.LOCAL_DEV_PLUGINS,
                "version": spec.version,
            }
            for name, spec in PLUGINS.items()
        }
    }
    manifests = {**data.MANIFESTS, "backend": backend}
    created["manifests"] = write_missing(
        ManifestItem,
        (
            ManifestItem(*ManifestItem.key(app), app=app, manifest=manifest, created_at=now, updated_at=now)
            for app, manifest in manifests.items()
        ),
    )
    return created
