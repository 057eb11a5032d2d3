"""Admin routes of payment methods, countries, currencies, taxes and settings (admin.md §10–§14)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.core.errors import Forbidden
from chalicelib.core.lazy import lazy_module, model_refs
from chalicelib.events.envelope import Actor
from chalicelib.http.access import admin
from chalicelib.http.request import Req
from chalicelib.http.routing import route

if TYPE_CHECKING:
    from chalicelib.admin_settings.schemas import (
        CountryReorderBody,
        CurrencyBody,
        NewCurrencyBody,
        NewPaymentMethodBody,
        NewTaxClassBody,
        NewTaxRateBody,
        PaymentMethodBody,
        ReorderBody,
        SettingsBody,
        TaxClassBody,
        TaxRateBody,
        TaxRatesQuery,
        TranslationBody,
    )

bp = Blueprint(__name__)
schemas = model_refs("chalicelib.admin_settings.schemas")
service = lazy_module("chalicelib.admin_settings.service")
VIEW = admin("settings.view")
MANAGE = admin("settings.manage")
METHOD = ("method_id",)
TAX = ("tax_id",)
TAX_CLASS = ("class_id",)
METHODS = "/admin/payment-methods"


def _actor(req: Req) -> Actor:
    return Actor("admin", req.user.user_id)


# --- §10 payment methods (settings.manage, reads included) -------------------------------------------------------


@route(bp, f"{METHODS}/", "GET", access=MANAGE)
def list_admin_payment_methods(req: Req) -> Any:
    """Every payment method, by position and name."""
    return service.list_payment_methods()


@route(bp, f"{METHODS}/", "POST", access=MANAGE, body=schemas.NewPaymentMethodBody, status=201)
def create_payment_method(req: Req, body: NewPaymentMethodBody) -> Any:
    """A new payment method; `is_default` true takes the default from the others."""
    return service.create_payment_method(_actor(req), body)


@route(bp, f"{METHODS}/reorder", "PUT", access=MANAGE, body=schemas.ReorderBody)
def reorder_payment_methods(req: Req, body: ReorderBody) -> Any:
    """New positions for the listed methods; every method, in the new order."""
    return service.reorder_payment_methods(_actor(req), body.order)


@route(bp, f"{METHODS}/code/{{code}}", "GET", access=MANAGE)
def get_payment_method_by_code(req: Req, code: str) -> Any:
    """One payment method by its code."""
    return service.get_payment_method_by_code(code)


@route(bp, f"{METHODS}/{{method_id}}", "GET", access=MANAGE, uuid_params=METHOD)
def get_admin_payment_method(req: Req, method_id: str) -> Any:
    """One payment method."""
    return service.get_payment_method(method_id)


@route(bp, f"{METHODS}/{{method_id}}", "PUT", access=MANAGE, uuid_params=METHOD, body=schemas.PaymentMethodBody)
def update_payment_method(req: Req, method_id: str, body: PaymentMethodBody) -> Any:
    """Change any field but the code and the default flag."""
    return service.update_payment_method(_actor(req), method_id, body)


@route(bp, f"{METHODS}/{{method_id}}", "DELETE", access=MANAGE, uuid_params=METHOD)
def delete_payment_method(req: Req, method_id: str) -> Any:
    """Delete a method that is not the default."""
    return service.delete_payment_method(_actor(req), method_id)


@route(bp, f"{METHODS}/{{method_id}}/activate", "POST", access=MANAGE, uuid_params=METHOD)
def activate_payment_method(req: Req, method_id: str) -> Any:
    """Offer the method again."""
    return service.activate_payment_method(_actor(req), method_id, True)


@route(bp, f"{METHODS}/{{method_id}}/deactivate", "POST", access=MANAGE, uuid_params=METHOD)
def deactivate_payment_method(req: Req, method_id: str) -> Any:
    """Stop offering a method that is not the default."""
    return service.activate_payment_method(_actor(req), method_id, False)


@route(bp, f"{METHODS}/{{method_id}}/set-default", "POST", access=MANAGE, uuid_params=METHOD)
def set_default_payment_method(req: Req, method_id: str) -> Any:
    """Make an active method the one default."""
    return service.set_default_payment_method(_actor(req), method_id)


@route(bp, f"{METHODS}/{{method_id}}/translations", "GET", access=MANAGE, uuid_params=METHOD)
def list_payment_method_translations(req: Req, method_id: str) -> Any:
    """The method's translations, by locale."""
    return service.list_translations(method_id)


@route(
    bp,
    f"{METHODS}/{{method_id}}/translations",
    "POST",
    access=MANAGE,
    uuid_params=METHOD,
    body=schemas.TranslationBody,
)
def save_payment_method_translation(req: Req, method_id: str, body: TranslationBody) -> Any:
    """Create or change the translation of one locale."""
    return service.save_translation(_actor(req), method_id, body)


@route(bp, f"{METHODS}/{{method_id}}/translations/{{locale}}", "DELETE", access=MANAGE, uuid_params=METHOD)
def delete_payment_method_translation(req: Req, method_id: str, locale: str) -> Any:
    """Delete the translation of one locale."""
    return service.delete_translation(_actor(req), method_id, locale)


# --- §11 countries -----------------------------------------------------------------------------------------------


@route(bp, "/admin/countries/", "GET", access=VIEW)
def list_admin_countries(req: Req) -> Any:
    """Enabled countries by position, then the disabled ones by name."""
    return service.list_countries("all")


@route(bp, "/admin/countries/enabled", "GET", access=VIEW)
def list_enabled_countries(req: Req) -> Any:
    """The enabled countries by position."""
    return service.list_countries("enabled")


@route(bp, "/admin/countries/disabled", "GET", access=VIEW)
def list_disabled_countries(req: Req) -> Any:
    """The disabled countries by name."""
    return service.list_countries("disabled")


@route(bp, "/admin/countries/reorder", "PUT", access=MANAGE, body=schemas.CountryReorderBody)
def reorder_countries(req: Req, body: CountryReorderBody) -> Any:
    """The listed enabled countries first, in list order; the other enabled ones after them."""
    return service.reorder_countries(_actor(req), body.codes)


@route(bp, "/admin/countries/{code}/enable", "POST", access=MANAGE)
def enable_country(req: Req, code: str) -> Any:
    """Enable a country at the end of the enabled ones."""
    return service.enable_country(_actor(req), code)


@route(bp, "/admin/countries/{code}/disable", "POST", access=MANAGE)
def disable_country(req: Req, code: str) -> Any:
    """Disable a country (position 999)."""
    return service.disable_country(_actor(req), code)


# --- §12 currencies ----------------------------------------------------------------------------------------------


@route(bp, "/admin/currencies", "GET", access=VIEW)
def list_admin_currencies(req: Req) -> Any:
    """Every currency, the default first."""
    return service.list_currencies()


@route(bp, "/admin/currencies", "POST", access=MANAGE, body=schemas.NewCurrencyBody, status=201)
def create_currency(req: Req, body: NewCurrencyBody) -> Any:
    """A new currency."""
    return service.create_currency(_actor(req), body)


@route(bp, "/admin/currencies/{code}", "GET", access=VIEW)
def get_admin_currency(req: Req, code: str) -> Any:
    """One currency by code."""
    return service.get_currency(code)


@route(bp, "/admin/currencies/{code}", "PUT", access=MANAGE, body=schemas.CurrencyBody)
def update_currency(req: Req, code: str, body: CurrencyBody) -> Any:
    """Change a currency's name, symbol, rate, places or state."""
    return service.update_currency(_actor(req), code, body)


@route(bp, "/admin/currencies/{code}", "DELETE", access=MANAGE)
def delete_currency(req: Req, code: str) -> Any:
    """Delete a currency no price uses."""
    return service.delete_currency(_actor(req), code)


@route(bp, "/admin/currencies/{code}/set-default", "POST", access=MANAGE)
def set_default_currency(req: Req, code: str) -> Any:
    """Make a currency the default; every rate is rescaled against it."""
    return service.set_default_currency(_actor(req), code)


# --- §13 taxes (settings.manage, reads included) ------------------------------------------------------------------


@route(bp, "/admin/tax/rates", "GET", access=MANAGE, query=schemas.TaxRatesQuery)
def list_tax_rates(req: Req, query: TaxRatesQuery) -> Any:
    """Tax rates by country and code, filtered."""
    return service.list_tax_rates(query)


@route(bp, "/admin/tax/rates", "POST", access=MANAGE, body=schemas.NewTaxRateBody, status=201)
def create_tax_rate(req: Req, body: NewTaxRateBody) -> Any:
    """A new tax rate."""
    return service.create_tax_rate(_actor(req), body)


@route(bp, "/admin/tax/rates/{tax_id}", "GET", access=MANAGE, uuid_params=TAX)
def get_tax_rate(req: Req, tax_id: str) -> Any:
    """One tax rate."""
    return service.get_tax_rate(tax_id)


@route(bp, "/admin/tax/rates/{tax_id}", "PUT", access=MANAGE, uuid_params=TAX, body=schemas.TaxRateBody)
def update_tax_rate(req: Req, tax_id: str, body: TaxRateBody) -> Any:
    """Change a tax rate."""
    return service.update_tax_rate(_actor(req), tax_id, body)


@route(bp, "/admin/tax/rates/{tax_id}", "DELETE", access=MANAGE, uuid_params=TAX)
def delete_tax_rate(req: Req, tax_id: str) -> Any:
    """Delete a tax rate."""
    return service.delete_tax_rate(_actor(req), tax_id)


@route(bp, "/admin/tax/classes", "GET", access=MANAGE)
def list_tax_classes(req: Req) -> Any:
    """Tax classes by name."""
    return service.list_tax_classes()


@route(bp, "/admin/tax/classes", "POST", access=MANAGE, body=schemas.NewTaxClassBody, status=201)
def create_tax_class(req: Req, body: NewTaxClassBody) -> Any:
    """A new tax class; `is_default` true takes the default from the others."""
    return service.create_tax_class(_actor(req), body)


@route(bp, "/admin/tax/classes/{class_id}", "GET", access=MANAGE, uuid_params=TAX_CLASS)
def get_tax_class(req: Req, class_id: str) -> Any:
    """One tax class."""
    return service.get_tax_class(class_id)


@route(bp, "/admin/tax/classes/{class_id}", "PUT", access=MANAGE, uuid_params=TAX_CLASS, body=schemas.TaxClassBody)
def update_tax_class(req: Req, class_id: str, body: TaxClassBody) -> Any:
    """Change a tax class."""
    return service.update_tax_class(_actor(req), class_id, body)


@route(bp, "/admin/tax/classes/{class_id}", "DELETE", access=MANAGE, uuid_params=TAX_CLASS)
def delete_tax_class(req: Req, class_id: str) -> Any:
    """Delete a tax class; its rates stay, without a class."""
    return service.delete_tax_class(_actor(req), class_id)


# --- §14 settings ------------------------------------------------------------------------------------------------


@route(bp, "/admin/settings", "GET", access=VIEW)
def get_admin_settings(req: Req) -> Any:
    """Every setting, stored values over defaults."""
    return service.get_settings()


@route(bp, "/admin/settings", "PUT", access=MANAGE, body=schemas.SettingsBody)
def update_settings(req: Req, body: SettingsBody) -> Any:
    """Change any subset of the settings; the next checkout uses them."""
    return service.update_settings(_actor(req), body)


# --- §15 plugins and frontend manifests --------------------------------------------------------------------------

SYSTEM = admin("settings.system")
plugins = lazy_module("chalicelib.admin_settings.plugins")


def _json_object(req: Req) -> dict[str, Any]:
    return req.json if req.body_bytes else {}


@route(bp, "/admin/plugins", "GET", access=VIEW)
def list_plugins(req: Req) -> Any:
    """Every plugin of the product with its state and dependencies."""
    return plugins.list_plugins()


@route(bp, "/admin/plugins/{name}", "GET", access=VIEW)
def get_plugin(req: Req, name: str) -> Any:
    """One plugin with its configuration schema, form hints and saved configuration (secrets masked)."""
    return plugins.get_plugin(name)


@route(bp, "/admin/plugins/{name}/config", "PUT", access=admin())
def configure_plugin(req: Req, name: str) -> Any:
    """Save a plugin's configuration: `settings.system`, or the plugin's own configure permission."""
    own = plugins.configure_permission(name)
    if not req.user.has_permission("settings.system") and not (own and req.user.has_permission(own)):
        raise Forbidden("Permission denied", required="settings.system")
    return plugins.save_config(_actor(req), name, _json_object(req))


@route(bp, "/admin/plugins/{name}/enable", "POST", access=SYSTEM)
def enable_plugin(req: Req, name: str) -> Any:
    """Enable a plugin whose dependencies are enabled."""
    return plugins.enable_plugin(_actor(req), name)


@route(bp, "/admin/plugins/{name}/disable", "POST", access=SYSTEM)
def disable_plugin(req: Req, name: str) -> Any:
    """Disable a plugin no enabled plugin depends on."""
    return plugins.disable_plugin(_actor(req), name)


@route(bp, "/admin/frontend-plugins/{app}", "GET", access=SYSTEM)
def get_frontend_manifest(req: Req, app: str) -> Any:
    """The stored plugin manifest of a frontend app."""
    return plugins.get_manifest(app)


@route(bp, "/admin/frontend-plugins/{app}", "PUT", access=SYSTEM)
def put_frontend_manifest(req: Req, app: str) -> Any:
    """Replace the plugin manifest of a frontend app."""
    return plugins.put_manifest(_actor(req), app, _json_object(req))


@route(bp, "/admin/frontend-plugins/{app}/{plugin}/enable", "POST", access=SYSTEM)
def enable_frontend_plugin(req: Req, app: str, plugin: str) -> Any:
    """Mark a plugin of an app's manifest enabled."""
    return plugins.toggle_manifest_plugin(_actor(req), app, plugin, True)


@route(bp, "/admin/frontend-plugins/{app}/{plugin}/disable", "POST", access=SYSTEM)
def disable_frontend_plugin(req: Req, app: str, plugin: str) -> Any:
    """Mark a plugin of an app's manifest disabled."""
    return plugins.toggle_manifest_plugin(_actor(req), app, plugin, False)
