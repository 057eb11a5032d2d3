"""Reference data and configuration in the `catalog` table.

Everything a price, a checkout or a listing needs — currencies, taxes, tax classes, categories, plans, bundles,
add-ons, payment methods, languages, settings, plugins, access levels, manifests — lives in **one partition**
(`pk = REF`, `sk = <KIND>#<id or code>`): a catalog is small (tens to a few hundred items), so one strongly
consistent Query reads all of it, and lookups by slug or code filter that snapshot in memory. Countries (249) have
their own partition (`pk = COUNTRY`), read whole only by the country lists. Uniqueness of slugs and codes under
concurrent admin writes is kept by `UNIQUE#…` guard items.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)

from chalicelib.store.attributes import DecimalAttribute, string_list
from chalicelib.store.base import CatalogTable

REFERENCE = "REF"


class Stamped(CatalogTable):
    """A catalog record: `key(natural)` → (`PK`, `PREFIX` + natural key)."""

    PK: ClassVar[str] = REFERENCE
    PREFIX: ClassVar[str] = ""

    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, natural: str) -> tuple[str, str]:
        return cls.PK, f"{cls.PREFIX}{natural}"


class CurrencyItem(Stamped, discriminator="CURRENCY"):
    """pk `CURRENCY`, sk the ISO 4217 code."""

    PREFIX = "CURRENCY#"
    id = UnicodeAttribute()
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    symbol = UnicodeAttribute()
    exchange_rate = DecimalAttribute()
    decimal_places = NumberAttribute(default=2)
    is_default = BooleanAttribute(default=False)
    is_active = BooleanAttribute(default=True)


class CountryItem(Stamped, discriminator="COUNTRY"):
    """pk `COUNTRY`, sk the ISO 3166-1 alpha-2 code (its own partition: 249 items most requests never need)."""

    PK = "COUNTRY"
    id = UnicodeAttribute()
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    is_enabled = BooleanAttribute(default=False)
    position = NumberAttribute(default=999)


class TaxClassItem(Stamped, discriminator="TAX_CLASS"):
    PREFIX = "TAX_CLASS#"
    id = UnicodeAttribute()
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    default_rate = DecimalAttribute(default=Decimal)
    is_default = BooleanAttribute(default=False)


class TaxItem(Stamped, discriminator="TAX"):
    PREFIX = "TAX#"
    id = UnicodeAttribute()
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    rate = DecimalAttribute()
    country_code = UnicodeAttribute(null=True)
    region_code = UnicodeAttribute(null=True)
    tax_class_id = UnicodeAttribute(null=True)
    is_active = BooleanAttribute(default=True)
    is_inclusive = BooleanAttribute(default=False)


class CategoryItem(Stamped, discriminator="CATEGORY"):
    PREFIX = "CATEGORY#"
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    slug = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    parent_id = UnicodeAttribute(null=True)
    is_single = BooleanAttribute(default=False)
    sort_order = NumberAttribute(default=0)
    version = VersionAttribute()


class PlanItem(Stamped, discriminator="PLAN"):
    PREFIX = "PLAN#"
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    slug = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    price = DecimalAttribute()
    currency = UnicodeAttribute()
    billing_period = UnicodeAttribute()
    features = JSONAttribute(default=dict)
    trial_days = NumberAttribute(default=0)
    is_active = BooleanAttribute(default=True)
    sort_order = NumberAttribute(default=0)
    category_ids = string_list(default=list)
    version = VersionAttribute()


class TokenBundleItem(Stamped, discriminator="TOKEN_BUNDLE"):
    PREFIX = "TOKEN_BUNDLE#"
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    token_amount = NumberAttribute()
    price = DecimalAttribute()
    currency = UnicodeAttribute()
    is_active = BooleanAttribute(default=True)
    sort_order = NumberAttribute(default=0)
    version = VersionAttribute()


class AddonItem(Stamped, discriminator="ADDON"):
    PREFIX = "ADDON#"
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    slug = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    price = DecimalAttribute()
    currency = UnicodeAttribute()
    billing_period = UnicodeAttribute()
    config = JSONAttribute(default=dict)
    is_active = BooleanAttribute(default=True)
    sort_order = NumberAttribute(default=0)
    plan_ids = string_list(default=list)
    version = VersionAttribute()


class PaymentMethodItem(Stamped, discriminator="PAYMENT_METHOD"):
    """Translations are kept on the method: `{locale: {id, name, description, short_description, instructions}}`."""

    PREFIX = "PAYMENT_METHOD#"
    id = UnicodeAttribute()
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    short_description = UnicodeAttribute(null=True)
    icon = UnicodeAttribute(null=True)
    plugin_id = UnicodeAttribute(null=True)
    is_active = BooleanAttribute(default=True)
    is_default = BooleanAttribute(default=False)
    position = NumberAttribute(default=0)
    min_amount = DecimalAttribute(null=True)
    max_amount = DecimalAttribute(null=True)
    currencies = string_list(default=list)
    countries = string_list(default=list)
    fee_type = UnicodeAttribute(default="none")
    fee_amount = DecimalAttribute(default=Decimal)
    fee_charged_to = UnicodeAttribute(default="customer")
    config = JSONAttribute(default=dict)
    instructions = UnicodeAttribute(null=True)
    translations = JSONAttribute(default=dict)
    version = VersionAttribute()


class LanguageItem(Stamped, discriminator="LANGUAGE"):
    PREFIX = "LANGUAGE#"
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    sort_order = NumberAttribute(default=0)


class SettingsItem(Stamped, discriminator="SETTINGS"):
    """pk `SETTINGS`, sk `GLOBAL`: the admin settings of admin.md §14, one document."""

    PREFIX = "SETTINGS#"
    NAME = "GLOBAL"
    values = JSONAttribute(default=dict)
    version = VersionAttribute()


class PluginItem(Stamped, discriminator="PLUGIN"):
    """pk `PLUGIN`, sk the plugin name: enabled state and saved configuration."""

    PREFIX = "PLUGIN#"
    name = UnicodeAttribute()
    enabled = BooleanAttribute(default=False)
    config = JSONAttribute(default=dict)
    version = VersionAttribute()


class AccessLevelItem(Stamped, discriminator="ACCESS_LEVEL"):
    """Admin access levels (roles) — pk `ACCESS_LEVEL`; user access levels — pk `USER_ACCESS_LEVEL`."""

    PREFIX = "ACCESS_LEVEL#"
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    slug = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    is_system = BooleanAttribute(default=False)
    permissions = string_list(default=list)
    linked_plan_slug = UnicodeAttribute(null=True)


class UserAccessLevelItem(AccessLevelItem, discriminator="USER_ACCESS_LEVEL"):
    """A user access level: what the frontends show a customer; may be linked to a plan."""

    PREFIX = "USER_ACCESS_LEVEL#"


class ManifestItem(Stamped, discriminator="MANIFEST"):
    """pk `MANIFEST`, sk the frontend app (`user`, `admin`, `backend`)."""

    PREFIX = "MANIFEST#"
    app = UnicodeAttribute()
    manifest = JSONAttribute(default=dict)


class CatalogVersionItem(CatalogTable, discriminator="CATALOG_VERSION"):
    """pk `VERSION`, sk `CATALOG`: a fresh random token with every catalog write (see catalog.repository).

    A token rather than a counter, so a wiped and re-seeded table never repeats a version an instance cached.
    """

    token = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)

    @classmethod
    def key(cls) -> tuple[str, str]:
        return "VERSION", "CATALOG"


class UniqueGuardItem(CatalogTable, discriminator="UNIQUE"):
    """pk `UNIQUE#<kind>#<value>` (e.g. `UNIQUE#PLAN_SLUG#basic`): written with the record it makes unique."""

    owner_id = UnicodeAttribute()

    @classmethod
    def key(cls, kind: str, value: str) -> tuple[str, str]:
        return f"UNIQUE#{kind}#{value}", "UNIQUE"
