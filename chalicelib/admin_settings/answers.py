"""Documented answers of the admin settings routes (admin.md §10–§16), for the OpenAPI document; the tests hold
every answer to them."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from chalicelib.core.validation import Answer, Instant, Money, PageKeys


class Message(Answer):
    message: str


class Stamps(Answer):
    created_at: Instant | None
    updated_at: Instant | None


# --- §10 ---------------------------------------------------------------------------------------------------------


class AdminPaymentMethod(Stamps):
    """A payment method as admins see it (admin.md §10)"""

    id: str
    code: str
    name: str
    description: str | None
    short_description: str | None
    icon: str | None
    plugin_id: str | None
    is_active: bool
    is_default: bool
    position: int
    min_amount: Money | None
    max_amount: Money | None
    currencies: list[str]
    countries: list[str]
    fee_type: str
    fee_amount: str
    fee_charged_to: str
    config: dict[str, Any]
    instructions: str | None


class PaymentMethodAnswer(Answer):
    payment_method: AdminPaymentMethod
    message: str | None = None


class PaymentMethodsAnswer(Answer):
    payment_methods: list[AdminPaymentMethod]


class Translation(Answer):
    id: str | None
    payment_method_id: str
    locale: str
    name: str | None
    description: str | None
    short_description: str | None
    instructions: str | None


class TranslationAnswer(Answer):
    translation: Translation


class TranslationsAnswer(Answer):
    translations: list[Translation]


# --- §11–§13 -----------------------------------------------------------------------------------------------------


class AdminCountry(Stamps):
    """A country as admins see it (admin.md §11)"""

    id: str
    code: str
    name: str
    is_enabled: bool
    position: int


class AdminCountriesAnswer(Answer):
    countries: list[AdminCountry]


class AdminCurrency(Stamps):
    """A currency as admins see it (admin.md §12)"""

    id: str
    code: str
    name: str
    symbol: str
    exchange_rate: str
    decimal_places: int
    is_default: bool
    is_active: bool


class CurrencyAnswer(Answer):
    currency: AdminCurrency
    message: str | None = None


class AdminCurrenciesAnswer(Answer):
    currencies: list[AdminCurrency]


class TaxRate(Stamps):
    id: str
    name: str
    code: str
    description: str | None
    rate: str
    country_code: str | None
    region_code: str | None
    tax_class_id: str | None
    is_active: bool
    is_inclusive: bool


class TaxRateAnswer(Answer):
    rate: TaxRate


class TaxRatesAnswer(Answer):
    rates: list[TaxRate]


class TaxClass(Stamps):
    id: str
    name: str
    code: str
    description: str | None
    default_rate: str
    is_default: bool


class TaxClassAnswer(Answer):
    tax_class: TaxClass


class TaxClassesAnswer(Answer):
    classes: list[TaxClass]


# --- §14 ---------------------------------------------------------------------------------------------------------


class SettingsValues(Answer):
    provider_name: str
    contact_email: str
    website_url: str
    other_links: str
    address_street: str
    address_city: str
    address_postal_code: str
    address_country: str
    bank_name: str
    bank_iban: str
    bank_bic: str
    terms_title: str
    terms_content: str
    invoice_prefix: str
    credit_note_prefix: str
    invoice_due_days: int
    default_language: str


class SettingsAnswer(Answer):
    settings: SettingsValues
    message: str | None = None


# --- §15 ---------------------------------------------------------------------------------------------------------


class PluginSummary(Answer):
    name: str
    version: str
    author: str
    description: str
    status: str
    dependencies: list[str]
    hasConfig: bool


class PluginsAnswer(Answer):
    plugins: list[PluginSummary]


class PluginDetail(Answer):
    name: str
    version: str
    author: str
    description: str
    status: str
    dependencies: list[str]
    configSchema: dict[str, Any]
    adminConfig: dict[str, Any]
    savedConfig: dict[str, Any]


class ConfigSaved(Answer):
    message: str
    config: dict[str, Any]


class PluginStatus(Answer):
    message: str
    status: str


class Manifest(Answer):
    """A frontend app's plugin manifest, as stored"""

    model_config = ConfigDict(extra="allow", defer_build=True)
    plugins: dict[str, Any]


class ManifestToggled(Answer):
    app: str
    plugin: str
    enabled: bool
    updated_path: str


# --- §16 ---------------------------------------------------------------------------------------------------------


class Level(Stamps):
    """An admin access level, or a user access level (with `linked_plan_slug`)"""

    id: str
    name: str
    slug: str
    description: str | None
    is_system: bool
    permissions: list[str]
    user_count: int
    linked_plan_slug: str | None = None


class LevelAnswer(Answer):
    level: Level


class LevelsAnswer(Answer):
    levels: list[Level]


class LevelUser(Answer):
    id: str
    email: str
    name: str


class LevelUsersAnswer(PageKeys):
    users: list[LevelUser]


class PermissionKey(Answer):
    key: str
    description: str


class PermissionsAnswer(Answer):
    permissions: dict[str, list[PermissionKey]]


class ContentAnswer(Answer):
    pages: list[Any]
    widgets: list[Any]


class HolderAnswer(Answer):
    user: dict[str, Any]
    message: str


class ExportedLevel(Answer):
    name: str
    slug: str
    description: str | None
    permissions: list[str]
    linked_plan_slug: str | None = None


class RolesExport(Answer):
    version: int
    roles: list[ExportedLevel]


class LevelsExport(Answer):
    version: int
    levels: list[ExportedLevel]


class ImportAnswer(Answer):
    imported: int
    skipped: int
