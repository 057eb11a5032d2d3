"""Catalog reads.

`reference()` returns every catalog record but countries as one snapshot. Reading it costs one consistent GetItem
of the catalog version: each instance keeps the snapshot it read last and queries the catalog partition again only
when the version moved. Every catalog write bumps the version in its own transaction (`bump_version`), so a read
after a write always sees the write — the cache never serves anything older than the version it just read.
Snapshots are shared between requests: treat their items as read-only.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.catalog.models import (
    REFERENCE,
    AccessLevelItem,
    AddonItem,
    CatalogVersionItem,
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
    UserAccessLevelItem,
)
from chalicelib.catalog.settings import with_defaults
from chalicelib.core.context import request_memo
from chalicelib.core.ids import new_id
from chalicelib.store.base import CatalogTable
from chalicelib.store.reads import Key, batch_get
from chalicelib.store.transactions import Transaction


@dataclass
class Reference:
    """Every catalog record but countries, read at one moment."""

    currencies: list[CurrencyItem] = field(default_factory=list)
    tax_classes: list[TaxClassItem] = field(default_factory=list)
    taxes: list[TaxItem] = field(default_factory=list)
    categories: list[CategoryItem] = field(default_factory=list)
    plans: list[PlanItem] = field(default_factory=list)
    token_bundles: list[TokenBundleItem] = field(default_factory=list)
    addons: list[AddonItem] = field(default_factory=list)
    payment_methods: list[PaymentMethodItem] = field(default_factory=list)
    languages: list[LanguageItem] = field(default_factory=list)
    plugins: list[PluginItem] = field(default_factory=list)
    admin_access_levels: list[AccessLevelItem] = field(default_factory=list)
    user_access_levels: list[UserAccessLevelItem] = field(default_factory=list)
    manifests: list[ManifestItem] = field(default_factory=list)
    stored_settings: SettingsItem | None = None

    @property
    def settings(self) -> dict[str, Any]:
        """The admin settings (admin.md §14) over their defaults."""
        return with_defaults(self.stored_settings.values if self.stored_settings else {})

    def plan(self, plan_id: str) -> PlanItem | None:
        return next((p for p in self.plans if p.id == plan_id), None)

    def token_bundle(self, bundle_id: str) -> TokenBundleItem | None:
        return next((b for b in self.token_bundles if b.id == bundle_id), None)

    def addon(self, addon_id: str) -> AddonItem | None:
        return next((a for a in self.addons if a.id == addon_id), None)

    def categories_by_id(self) -> dict[str, CategoryItem]:
        return {c.id: c for c in self.categories}


_GROUPS: tuple[tuple[type[CatalogTable], str], ...] = (
    (UserAccessLevelItem, "user_access_levels"),  # before its base class
    (AccessLevelItem, "admin_access_levels"),
    (CurrencyItem, "currencies"),
    (TaxClassItem, "tax_classes"),
    (TaxItem, "taxes"),
    (CategoryItem, "categories"),
    (PlanItem, "plans"),
    (TokenBundleItem, "token_bundles"),
    (AddonItem, "addons"),
    (PaymentMethodItem, "payment_methods"),
    (LanguageItem, "languages"),
    (PluginItem, "plugins"),
    (ManifestItem, "manifests"),
)


_lock = threading.Lock()
_cached: tuple[str, Reference] | None = None


def catalog_version() -> str:
    try:
        return str(CatalogVersionItem.get(*CatalogVersionItem.key(), consistent_read=True).token)
    except DoesNotExist:
        return ""


def reference(version: str | None = None) -> Reference:
    """The catalog snapshot; `version` when the caller already read it (e.g. in a batch with other items).

    Within one request the snapshot is read once, however many parts of the request ask for it.
    """
    memo = request_memo.get()
    if memo is not None and "catalog" in memo:
        return memo["catalog"]  # type: ignore[no-any-return]
    snapshot = _snapshot(catalog_version() if version is None else version)
    if memo is not None:
        memo["catalog"] = snapshot
    return snapshot


def _snapshot(current: str) -> Reference:
    global _cached
    cached = _cached
    if cached is not None and cached[0] == current:
        return cached[1]
    snapshot = _query_reference()
    with _lock:
        _cached = (current, snapshot)
    return snapshot


def current() -> tuple[str, Reference]:
    """The catalog version and a snapshot read after it, both read now (not the request's memo): what an admin
    change computes from before it commits on condition that the version has not moved."""
    version = catalog_version()
    return version, _snapshot(version)


def bump_version(tx: Transaction, now: datetime) -> None:
    """Add the catalog-version increment to the transaction of a catalog write."""
    tx.put(CatalogVersionItem(*CatalogVersionItem.key(), token=new_id(), updated_at=now), label="catalog_version")


def written() -> None:
    """This request changed the catalog: its next `reference()` reads the new version instead of the snapshot it
    already holds (the write's answer shows the write)."""
    memo = request_memo.get()
    if memo is not None:
        memo.pop("catalog", None)


def held_snapshot() -> Reference | None:
    """The snapshot this instance holds, whatever its version (for guesses that a later read confirms)."""
    cached = _cached
    return cached[1] if cached else None


def forget_snapshot() -> None:
    global _cached
    with _lock:
        _cached = None


def _query_reference() -> Reference:
    snapshot = Reference()
    for item in CatalogTable.query(REFERENCE, consistent_read=True):
        if isinstance(item, SettingsItem):
            snapshot.stored_settings = item
            continue
        for kind, group in _GROUPS:
            if isinstance(item, kind):
                getattr(snapshot, group).append(item)
                break
    return snapshot


def access_levels(admin_ids: list[str], user_ids: list[str]) -> tuple[list[AccessLevelItem], list[AccessLevelItem]]:
    """Admin access levels and user access levels by id, in one BatchGetItem; ids of deleted levels are left out."""
    wanted: list[Key] = [(AccessLevelItem, *AccessLevelItem.key(i)) for i in admin_ids]
    wanted += [(UserAccessLevelItem, *UserAccessLevelItem.key(i)) for i in user_ids]
    found = batch_get(wanted) if wanted else []
    split = len(admin_ids)
    admin = [level for level in found[:split] if isinstance(level, AccessLevelItem)]
    member = [level for level in found[split:] if isinstance(level, AccessLevelItem)]
    return admin, member


def countries() -> list[CountryItem]:
    return [item for item in CountryItem.query(CountryItem.PK, consistent_read=True) if isinstance(item, CountryItem)]


def find_country(code: str) -> CountryItem | None:
    try:
        return CountryItem.get(*CountryItem.key(code.upper()), consistent_read=True)
    except DoesNotExist:
        return None


def settings() -> dict[str, Any]:
    try:
        stored = SettingsItem.get(*SettingsItem.key(SettingsItem.NAME), consistent_read=True)
    except DoesNotExist:
        return with_defaults({})
    return with_defaults(stored.values)
