"""Admin routes of payment methods, countries, currencies, taxes, settings, plugins and access levels
(admin.md §10–§16)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.core.errors import Forbidden
from chalicelib.core.lazy import lazy_module, model_refs
from chalicelib.events.envelope import Actor
from chalicelib.http.access import admin
from chalicelib.http.pagination import page_keys, page_or_default
from chalicelib.http.request import Req
from chalicelib.http.routing import route

if TYPE_CHECKING:
    from chalicelib.admin_settings.schemas import (
        CountryReorderBody,
        CurrencyBody,
        ExportBody,
        FreeObject,
        ImportBody,
        LevelBody,
        LevelIdBody,
        NewCurrencyBody,
        NewLevelBody,
        NewPaymentMethodBody,
        NewTaxClassBody,
        NewTaxRateBody,
        NoBody,
        PaymentMethodBody,
        ReorderBody,
        RoleIdBody,
        SettingsBody,
        TaxClassBody,
        TaxRateBody,
        TaxRatesQuery,
        TranslationBody,
    )

bp = Blueprint(__name__)
schemas = model_refs("chalicelib.admin_settings.schemas")
answers = model_refs("chalicelib.admin_settings.answers")
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


@route(bp, METHODS, "GET", access=MANAGE, responses={200: answers.PaymentMethodsAnswer})
def list_admin_payment_methods(req: Req) -> Any:
    """Every payment method, by position and name."""
    return service.list_payment_methods()


@route(
    bp,
    METHODS,
    "POST",
    access=MANAGE,
    body=schemas.NewPaymentMethodBody,
    status=201,
    responses={201: answers.PaymentMethodAnswer},
)
def create_payment_method(req: Req, body: NewPaymentMethodBody) -> Any:
    """A new payment method; `is_default` true takes the default from the others."""
    return service.create_payment_method(_actor(req), body)


@route(
    bp,
    f"{METHODS}/reorder",
    "PUT",
    access=MANAGE,
    body=schemas.ReorderBody,
    responses={200: answers.PaymentMethodsAnswer},
)
def reorder_payment_methods(req: Req, body: ReorderBody) -> Any:
    """New positions for the listed methods; every method, in the new order."""
    return service.reorder_payment_methods(_actor(req), body.order)


@route(bp, f"{METHODS}/code/{{code}}", "GET", access=MANAGE, responses={200: answers.PaymentMethodAnswer})
def get_payment_method_by_code(req: Req, code: str) -> Any:
    """One payment method by its code."""
    return service.get_payment_method_by_code(code)


@route(
    bp,
    f"{METHODS}/{{method_id}}",
    "GET",
    access=MANAGE,
    uuid_params=METHOD,
    responses={200: answers.PaymentMethodAnswer},
)
def get_admin_payment_method(req: Req, method_id: str) -> Any:
    """One payment method."""
    return service.get_payment_method(method_id)


@route(
    bp,
    f"{METHODS}/{{method_id}}",
    "PUT",
    access=MANAGE,
    uuid_params=METHOD,
    body=schemas.PaymentMethodBody,
    responses={200: answers.PaymentMethodAnswer},
)
def update_payment_method(req: Req, method_id: str, body: PaymentMethodBody) -> Any:
    """Change any field but the code and the default flag."""
    return service.update_payment_method(_actor(req), method_id, body)


@route(bp, f"{METHODS}/{{method_id}}", "DELETE", access=MANAGE, uuid_params=METHOD, responses={200: answers.Message})
def delete_payment_method(req: Req, method_id: str) -> Any:
    """Delete a method that is not the default."""
    return service.delete_payment_method(_actor(req), method_id)


@route(
    bp,
    f"{METHODS}/{{method_id}}/activate",
    "POST",
    access=MANAGE,
    uuid_params=METHOD,
    responses={200: answers.PaymentMethodAnswer},
    body=schemas.NoBody,
)
def activate_payment_method(req: Req, method_id: str, body: NoBody) -> Any:
    """Offer the method again."""
    return service.activate_payment_method(_actor(req), method_id, True)


@route(
    bp,
    f"{METHODS}/{{method_id}}/deactivate",
    "POST",
    access=MANAGE,
    uuid_params=METHOD,
    responses={200: answers.PaymentMethodAnswer},
    body=schemas.NoBody,
)
def deactivate_payment_method(req: Req, method_id: str, body: NoBody) -> Any:
    """Stop offering a method that is not the default."""
    return service.activate_payment_method(_actor(req), method_id, False)


@route(
    bp,
    f"{METHODS}/{{method_id}}/set-default",
    "POST",
    access=MANAGE,
    uuid_params=METHOD,
    responses={200: answers.PaymentMethodAnswer},
    body=schemas.NoBody,
)
def set_default_payment_method(req: Req, method_id: str, body: NoBody) -> Any:
    """Make an active method the one default."""
    return service.set_default_payment_method(_actor(req), method_id)


@route(
    bp,
    f"{METHODS}/{{method_id}}/translations",
    "GET",
    access=MANAGE,
    uuid_params=METHOD,
    responses={200: answers.TranslationsAnswer},
)
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
    responses={200: answers.TranslationAnswer},
)
def save_payment_method_translation(req: Req, method_id: str, body: TranslationBody) -> Any:
    """Create or change the translation of one locale."""
    return service.save_translation(_actor(req), method_id, body)


@route(
    bp,
    f"{METHODS}/{{method_id}}/translations/{{locale}}",
    "DELETE",
    access=MANAGE,
    uuid_params=METHOD,
    responses={200: answers.Message},
)
def delete_payment_method_translation(req: Req, method_id: str, locale: str) -> Any:
    """Delete the translation of one locale."""
    return service.delete_translation(_actor(req), method_id, locale)


# --- §11 countries -----------------------------------------------------------------------------------------------


@route(bp, "/admin/countries", "GET", access=VIEW, responses={200: answers.AdminCountriesAnswer})
def list_admin_countries(req: Req) -> Any:
    """Enabled countries by position, then the disabled ones by name."""
    return service.list_countries("all")


@route(bp, "/admin/countries/enabled", "GET", access=VIEW, responses={200: answers.AdminCountriesAnswer})
def list_enabled_countries(req: Req) -> Any:
    """The enabled countries by position."""
    return service.list_countries("enabled")


@route(bp, "/admin/countries/disabled", "GET", access=VIEW, responses={200: answers.AdminCountriesAnswer})
def list_disabled_countries(req: Req) -> Any:
    """The disabled countries by name."""
    return service.list_countries("disabled")


@route(
    bp,
    "/admin/countries/reorder",
    "PUT",
    access=MANAGE,
    body=schemas.CountryReorderBody,
    responses={200: answers.AdminCountriesAnswer},
)
def reorder_countries(req: Req, body: CountryReorderBody) -> Any:
    """The listed enabled countries first, in list order; the other enabled ones after them."""
    return service.reorder_countries(_actor(req), body.codes)


@route(
    bp,
    "/admin/countries/{code}/enable",
    "POST",
    access=MANAGE,
    responses={200: answers.AdminCountry},
    body=schemas.NoBody,
)
def enable_country(req: Req, code: str, body: NoBody) -> Any:
    """Enable a country at the end of the enabled ones."""
    return service.enable_country(_actor(req), code)


@route(
    bp,
    "/admin/countries/{code}/disable",
    "POST",
    access=MANAGE,
    responses={200: answers.AdminCountry},
    body=schemas.NoBody,
)
def disable_country(req: Req, code: str, body: NoBody) -> Any:
    """Disable a country (position 999)."""
    return service.disable_country(_actor(req), code)


# --- §12 currencies ----------------------------------------------------------------------------------------------


@route(bp, "/admin/currencies", "GET", access=VIEW, responses={200: answers.AdminCurrenciesAnswer})
def list_admin_currencies(req: Req) -> Any:
    """Every currency, the default first."""
    return service.list_currencies()


@route(
    bp,
    "/admin/currencies",
    "POST",
    access=MANAGE,
    body=schemas.NewCurrencyBody,
    status=201,
    responses={201: answers.CurrencyAnswer},
)
def create_currency(req: Req, body: NewCurrencyBody) -> Any:
    """A new currency."""
    return service.create_currency(_actor(req), body)


@route(bp, "/admin/currencies/{code}", "GET", access=VIEW, responses={200: answers.CurrencyAnswer})
def get_admin_currency(req: Req, code: str) -> Any:
    """One currency by code."""
    return service.get_currency(code)


@route(
    bp,
    "/admin/currencies/{code}",
    "PUT",
    access=MANAGE,
    body=schemas.CurrencyBody,
    responses={200: answers.CurrencyAnswer},
)
def update_currency(req: Req, code: str, body: CurrencyBody) -> Any:
    """Change a currency's name, symbol, rate, places or state."""
    return service.update_currency(_actor(req), code, body)


@route(bp, "/admin/currencies/{code}", "DELETE", access=MANAGE, responses={200: answers.Message})
def delete_currency(req: Req, code: str) -> Any:
    """Delete a currency no price uses."""
    return service.delete_currency(_actor(req), code)


@route(
    bp,
    "/admin/currencies/{code}/set-default",
    "POST",
    access=MANAGE,
    responses={200: answers.CurrencyAnswer},
    body=schemas.NoBody,
)
def set_default_currency(req: Req, code: str, body: NoBody) -> Any:
    """Make a currency the default; every rate is rescaled against it."""
    return service.set_default_currency(_actor(req), code)


# --- §13 taxes (settings.manage, reads included) ------------------------------------------------------------------


@route(
    bp, "/admin/tax/rates", "GET", access=MANAGE, query=schemas.TaxRatesQuery, responses={200: answers.TaxRatesAnswer}
)
def list_tax_rates(req: Req, query: TaxRatesQuery) -> Any:
    """Tax rates by country and code, filtered."""
    return service.list_tax_rates(query)


@route(
    bp,
    "/admin/tax/rates",
    "POST",
    access=MANAGE,
    body=schemas.NewTaxRateBody,
    status=201,
    responses={201: answers.TaxRateAnswer},
)
def create_tax_rate(req: Req, body: NewTaxRateBody) -> Any:
    """A new tax rate."""
    return service.create_tax_rate(_actor(req), body)


@route(bp, "/admin/tax/rates/{tax_id}", "GET", access=MANAGE, uuid_params=TAX, responses={200: answers.TaxRateAnswer})
def get_tax_rate(req: Req, tax_id: str) -> Any:
    """One tax rate."""
    return service.get_tax_rate(tax_id)


@route(
    bp,
    "/admin/tax/rates/{tax_id}",
    "PUT",
    access=MANAGE,
    uuid_params=TAX,
    body=schemas.TaxRateBody,
    responses={200: answers.TaxRateAnswer},
)
def update_tax_rate(req: Req, tax_id: str, body: TaxRateBody) -> Any:
    """Change a tax rate."""
    return service.update_tax_rate(_actor(req), tax_id, body)


@route(bp, "/admin/tax/rates/{tax_id}", "DELETE", access=MANAGE, uuid_params=TAX, responses={200: answers.Message})
def delete_tax_rate(req: Req, tax_id: str) -> Any:
    """Delete a tax rate."""
    return service.delete_tax_rate(_actor(req), tax_id)


@route(bp, "/admin/tax/classes", "GET", access=MANAGE, responses={200: answers.TaxClassesAnswer})
def list_tax_classes(req: Req) -> Any:
    """Tax classes by name."""
    return service.list_tax_classes()


@route(
    bp,
    "/admin/tax/classes",
    "POST",
    access=MANAGE,
    body=schemas.NewTaxClassBody,
    status=201,
    responses={201: answers.TaxClassAnswer},
)
def create_tax_class(req: Req, body: NewTaxClassBody) -> Any:
    """A new tax class; `is_default` true takes the default from the others."""
    return service.create_tax_class(_actor(req), body)


@route(
    bp,
    "/admin/tax/classes/{class_id}",
    "GET",
    access=MANAGE,
    uuid_params=TAX_CLASS,
    responses={200: answers.TaxClassAnswer},
)
def get_tax_class(req: Req, class_id: str) -> Any:
    """One tax class."""
    return service.get_tax_class(class_id)


@route(
    bp,
    "/admin/tax/classes/{class_id}",
    "PUT",
    access=MANAGE,
    uuid_params=TAX_CLASS,
    body=schemas.TaxClassBody,
    responses={200: answers.TaxClassAnswer},
)
def update_tax_class(req: Req, class_id: str, body: TaxClassBody) -> Any:
    """Change a tax class."""
    return service.update_tax_class(_actor(req), class_id, body)


@route(
    bp,
    "/admin/tax/classes/{class_id}",
    "DELETE",
    access=MANAGE,
    uuid_params=TAX_CLASS,
    responses={200: answers.Message},
)
def delete_tax_class(req: Req, class_id: str) -> Any:
    """Delete a tax class; its rates stay, without a class."""
    return service.delete_tax_class(_actor(req), class_id)


# --- §14 settings ------------------------------------------------------------------------------------------------


@route(bp, "/admin/settings", "GET", access=VIEW, responses={200: answers.SettingsAnswer})
def get_admin_settings(req: Req) -> Any:
    """Every setting, stored values over defaults."""
    return service.get_settings()


@route(bp, "/admin/settings", "PUT", access=MANAGE, body=schemas.SettingsBody, responses={200: answers.SettingsAnswer})
def update_settings(req: Req, body: SettingsBody) -> Any:
    """Change any subset of the settings; the next checkout uses them."""
    return service.update_settings(_actor(req), body)


# --- §15 plugins and frontend manifests --------------------------------------------------------------------------

SYSTEM = admin("settings.system")
plugins = lazy_module("chalicelib.admin_settings.plugins")


@route(bp, "/admin/plugins", "GET", access=VIEW, responses={200: answers.PluginsAnswer})
def list_plugins(req: Req) -> Any:
    """Every plugin of the product with its state and dependencies."""
    return plugins.list_plugins()


@route(bp, "/admin/plugins/{name}", "GET", access=VIEW, responses={200: answers.PluginDetail})
def get_plugin(req: Req, name: str) -> Any:
    """One plugin with its configuration schema, form hints and saved configuration (secrets masked)."""
    return plugins.get_plugin(name)


@route(
    bp,
    "/admin/plugins/{name}/config",
    "PUT",
    access=admin(),
    responses={200: answers.ConfigSaved},
    body=schemas.FreeObject,
)
def configure_plugin(req: Req, name: str, body: FreeObject) -> Any:
    """Save a plugin's configuration: `settings.system`, or the plugin's own configure permission."""
    own = plugins.configure_permission(name)
    if not req.user.has_permission("settings.system") and not (own and req.user.has_permission(own)):
        raise Forbidden("Permission denied", required="settings.system")
    return plugins.save_config(_actor(req), name, body.model_dump())


@route(
    bp,
    "/admin/plugins/{name}/enable",
    "POST",
    access=SYSTEM,
    responses={200: answers.PluginStatus},
    body=schemas.NoBody,
)
def enable_plugin(req: Req, name: str, body: NoBody) -> Any:
    """Enable a plugin whose dependencies are enabled."""
    return plugins.enable_plugin(_actor(req), name)


@route(
    bp,
    "/admin/plugins/{name}/disable",
    "POST",
    access=SYSTEM,
    responses={200: answers.PluginStatus},
    body=schemas.NoBody,
)
def disable_plugin(req: Req, name: str, body: NoBody) -> Any:
    """Disable a plugin no enabled plugin depends on."""
    return plugins.disable_plugin(_actor(req), name)


@route(bp, "/admin/frontend-plugins/{app}", "GET", access=SYSTEM, responses={200: answers.Manifest})
def get_frontend_manifest(req: Req, app: str) -> Any:
    """The stored plugin manifest of a frontend app."""
    return plugins.get_manifest(app)


@route(
    bp,
    "/admin/frontend-plugins/{app}",
    "PUT",
    access=SYSTEM,
    responses={200: answers.Manifest},
    body=schemas.FreeObject,
)
def put_frontend_manifest(req: Req, app: str, body: FreeObject) -> Any:
    """Replace the plugin manifest of a frontend app."""
    return plugins.put_manifest(_actor(req), app, body.model_dump())


@route(
    bp,
    "/admin/frontend-plugins/{app}/{plugin}/enable",
    "POST",
    access=SYSTEM,
    responses={200: answers.ManifestToggled},
    body=schemas.NoBody,
)
def enable_frontend_plugin(req: Req, app: str, plugin: str, body: NoBody) -> Any:
    """Mark a plugin of an app's manifest enabled."""
    return plugins.toggle_manifest_plugin(_actor(req), app, plugin, True)


@route(
    bp,
    "/admin/frontend-plugins/{app}/{plugin}/disable",
    "POST",
    access=SYSTEM,
    responses={200: answers.ManifestToggled},
    body=schemas.NoBody,
)
def disable_frontend_plugin(req: Req, app: str, plugin: str, body: NoBody) -> Any:
    """Mark a plugin of an app's manifest disabled."""
    return plugins.toggle_manifest_plugin(_actor(req), app, plugin, False)


# --- §16 access levels (settings.system) --------------------------------------------------------------------------

levels = lazy_module("chalicelib.admin_settings.access_levels")
ACCESS = "/admin/access"
LEVEL = ("level_id",)
USER = ("user_id",)
DEFAULT_PAGE = 20


def _kind(member_level: bool) -> Any:
    return levels.MEMBER if member_level else levels.ADMIN


def _level_routes(prefix: str, exchange: str, member_level: bool, noun: str) -> None:
    """The CRUD routes of one kind of level (admin levels, user levels) under `prefix`, its export and import
    under `exchange`."""
    kind = f"{noun}_access_level" if member_level else "access_level"

    def listed(req: Req) -> Any:
        return levels.list_levels(_kind(member_level))

    def created(req: Req, body: NewLevelBody) -> Any:
        return levels.create_level(_actor(req), _kind(member_level), body)

    def read(req: Req, level_id: str) -> Any:
        return levels.get_level(_kind(member_level), level_id)

    def updated(req: Req, level_id: str, body: LevelBody) -> Any:
        return levels.update_level(_actor(req), _kind(member_level), level_id, body)

    def deleted(req: Req, level_id: str) -> Any:
        return levels.delete_level(_actor(req), _kind(member_level), level_id)

    def exported(req: Req, body: ExportBody) -> Any:
        return levels.export_levels(_kind(member_level), body)

    def imported(req: Req, body: ImportBody) -> Any:
        return levels.import_levels(_actor(req), _kind(member_level), body)

    views: tuple[tuple[Callable[..., Any], str, str, str, dict[str, Any], str], ...] = (
        (
            listed,
            f"list_{kind}s",
            prefix,
            "GET",
            {"responses": {200: answers.LevelsAnswer}},
            "Every level, by name, with its holder count.",
        ),
        (
            created,
            f"create_{kind}",
            prefix,
            "POST",
            {"body": schemas.NewLevelBody, "status": 201, "responses": {201: answers.LevelAnswer}},
            "A new level.",
        ),
        (
            exported,
            f"export_{kind}s",
            f"{exchange}/export",
            "POST",
            {
                "body": schemas.ExportBody,
                "responses": {200: answers.LevelsExport if member_level else answers.RolesExport},
            },
            "Levels as portable data.",
        ),
        (
            imported,
            f"import_{kind}s",
            f"{exchange}/import",
            "POST",
            {"body": schemas.ImportBody, "responses": {200: answers.ImportAnswer}},
            "Upsert levels by slug.",
        ),
        (
            read,
            f"get_{kind}",
            f"{prefix}/{{level_id}}",
            "GET",
            {"uuid_params": LEVEL, "responses": {200: answers.LevelAnswer}},
            "One level.",
        ),
        (
            updated,
            f"update_{kind}",
            f"{prefix}/{{level_id}}",
            "PUT",
            {"uuid_params": LEVEL, "body": schemas.LevelBody, "responses": {200: answers.LevelAnswer}},
            "Change a level.",
        ),
        (
            deleted,
            f"delete_{kind}",
            f"{prefix}/{{level_id}}",
            "DELETE",
            {"uuid_params": LEVEL, "responses": {200: answers.Message}},
            "Delete a level.",
        ),
    )
    for view, name, path, method, options, summary in views:
        view.__name__ = view.__qualname__ = name
        view.__doc__ = summary
        route(bp, path, method, access=SYSTEM, **options)(view)


_level_routes(f"{ACCESS}/levels", ACCESS, False, "admin")
_level_routes(f"{ACCESS}/user-levels", f"{ACCESS}/user-levels", True, "user")


@route(
    bp,
    f"{ACCESS}/levels/{{level_id}}/users",
    "GET",
    access=SYSTEM,
    uuid_params=LEVEL,
    responses={200: answers.LevelUsersAnswer},
)
def list_access_level_users(req: Req, level_id: str) -> Any:
    """The users holding an admin access level, a page at a time, with the maintained total."""
    page = levels.level_users(levels.ADMIN, level_id, page_or_default(req, DEFAULT_PAGE).request)
    return {"users": page.items, **page_keys(req, page)}


@route(bp, f"{ACCESS}/permissions", "GET", access=SYSTEM, responses={200: answers.PermissionsAnswer})
def list_admin_permissions(req: Req) -> Any:
    """The admin permission keys by group."""
    return levels.permissions()


@route(bp, f"{ACCESS}/user-permissions", "GET", access=SYSTEM, responses={200: answers.PermissionsAnswer})
def list_user_permissions(req: Req) -> Any:
    """The user-side permission keys."""
    return levels.user_permissions()


@route(
    bp,
    f"{ACCESS}/user-levels/{{level_id}}/content",
    "GET",
    access=SYSTEM,
    uuid_params=LEVEL,
    responses={200: answers.ContentAnswer},
)
def user_access_level_content(req: Req, level_id: str) -> Any:
    """CMS content gated by a user level (none: this product has no CMS plugin)."""
    return levels.level_content(level_id)


@route(
    bp,
    f"{ACCESS}/users/{{user_id}}/roles",
    "POST",
    access=SYSTEM,
    uuid_params=USER,
    body=schemas.RoleIdBody,
    responses={200: answers.HolderAnswer},
)
def assign_access_level(req: Req, user_id: str, body: RoleIdBody) -> Any:
    """Give a user an admin access level."""
    return levels.assign(levels.ADMIN, user_id, body.role_id.lower())


@route(
    bp,
    f"{ACCESS}/users/{{user_id}}/roles/{{role_id}}",
    "DELETE",
    access=SYSTEM,
    uuid_params=("user_id", "role_id"),
    responses={200: answers.HolderAnswer},
)
def remove_access_level(req: Req, user_id: str, role_id: str) -> Any:
    """Take an admin access level from a user."""
    return levels.remove(levels.ADMIN, user_id, role_id)


@route(
    bp,
    f"{ACCESS}/users/{{user_id}}/user-access-levels",
    "POST",
    access=SYSTEM,
    uuid_params=USER,
    body=schemas.LevelIdBody,
    responses={200: answers.HolderAnswer},
)
def assign_user_access_level(req: Req, user_id: str, body: LevelIdBody) -> Any:
    """Give a user a user access level."""
    return levels.assign(levels.MEMBER, user_id, body.level_id.lower())


@route(
    bp,
    f"{ACCESS}/users/{{user_id}}/user-access-levels/{{level_id}}",
    "DELETE",
    access=SYSTEM,
    uuid_params=("user_id", "level_id"),
    responses={200: answers.HolderAnswer},
)
def remove_user_access_level(req: Req, user_id: str, level_id: str) -> Any:
    """Take a user access level from a user."""
    return levels.remove(levels.MEMBER, user_id, level_id)
