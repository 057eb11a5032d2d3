"""Public catalog routes (contract catalog.md §4). Plans, categories and add-ons belong to `subscription`.

Every list here is small and bounded, and whole in memory before it is paged: the catalog snapshot (one partition,
read once per catalog version and shared by the requests of an instance) holds all of them but the countries, which
are their own partition of at most 249 items, read with one Query. So `whole_list` slices the list, and its cursor
is a signed position in it: any page costs what the first one does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.core.lazy import lazy_module, model_refs
from chalicelib.core.validation import PagingQuery
from chalicelib.http.access import OPTIONAL
from chalicelib.http.pagination import whole_list
from chalicelib.http.request import Req
from chalicelib.http.routing import route

if TYPE_CHECKING:
    from chalicelib.catalog.schemas import (
        AddonsQuery,
        CategoriesQuery,
        LocaleQuery,
        PaymentMethodsQuery,
        PlanQuery,
        PlansQuery,
        TaxesQuery,
    )

bp = Blueprint(__name__)
schemas = model_refs("chalicelib.catalog.schemas")
service = lazy_module("chalicelib.catalog.service")
SUBSCRIPTION = "subscription"


@route(bp, "/tarif-plans", "GET", plugin=SUBSCRIPTION, query=schemas.PlansQuery, responses={200: schemas.PlansAnswer})
def list_plans(req: Req, query: PlansQuery) -> Any:
    """Active plans with display prices (and tax, given a country)."""
    return whole_list(req, service.list_plans(query.currency, query.country, query.category), "plans")


@route(
    bp,
    "/tarif-plans/{slug_or_id}",
    "GET",
    plugin=SUBSCRIPTION,
    query=schemas.PlanQuery,
    responses={200: schemas.PlanListing, 400: schemas.PlanPriceRefused},
)
def get_plan(req: Req, slug_or_id: str, query: PlanQuery) -> Any:
    """One plan by id or slug, inactive ones too, with display prices."""
    return service.get_plan(slug_or_id, query.currency, query.country)


@route(
    bp,
    "/tarif-plan-categories",
    "GET",
    plugin=SUBSCRIPTION,
    query=schemas.CategoriesQuery,
    responses={200: schemas.CategoriesAnswer},
)
def list_categories(req: Req, query: CategoriesQuery) -> Any:
    """Plan categories as a tree (default) or flat."""
    return whole_list(req, service.list_categories(query.format), "categories")


@route(bp, "/settings/currencies", "GET", query=PagingQuery, responses={200: schemas.CurrenciesAnswer})
def list_currencies(req: Req, query: PagingQuery) -> Any:
    """Active currencies and the default one."""
    return whole_list(req, service.list_currencies(), "currencies")


@route(bp, "/settings/taxes", "GET", query=schemas.TaxesQuery, responses={200: schemas.TaxesAnswer})
def list_taxes(req: Req, query: TaxesQuery) -> Any:
    """Active taxes, public form; of one country when asked."""
    return whole_list(req, service.list_taxes(query.country), "taxes")


@route(bp, "/token-bundles", "GET", query=PagingQuery, responses={200: schemas.BundlesAnswer})
def list_token_bundles(req: Req, query: PagingQuery) -> Any:
    """Active token bundles."""
    return whole_list(req, service.list_token_bundles(), "bundles")


@route(bp, "/token-bundles/{bundle_id}", "GET", uuid_params=("bundle_id",), responses={200: schemas.BundleAnswer})
def get_token_bundle(req: Req, bundle_id: str) -> Any:
    """One token bundle, inactive ones too."""
    return service.get_token_bundle(bundle_id)


@route(
    bp,
    "/addons",
    "GET",
    access=OPTIONAL,
    plugin=SUBSCRIPTION,
    query=schemas.AddonsQuery,
    responses={200: schemas.AddonsAnswer},
)
def list_addons(req: Req, query: AddonsQuery) -> Any:
    """Active add-ons: independent ones, those of the caller's plans and of `plan_id`."""
    return whole_list(req, service.list_addons(req.principal, query.plan_id), "addons")


@route(
    bp,
    "/addons/{addon_id}",
    "GET",
    plugin=SUBSCRIPTION,
    uuid_params=("addon_id",),
    responses={200: schemas.AddonAnswer},
)
def get_addon(req: Req, addon_id: str) -> Any:
    """One add-on, inactive ones too."""
    return service.get_addon(addon_id)


@route(bp, "/settings/countries", "GET", query=PagingQuery, responses={200: schemas.CountriesAnswer})
def list_countries(req: Req, query: PagingQuery) -> Any:
    """Enabled countries, public form."""
    return whole_list(req, service.list_countries(), "countries")


@route(bp, "/settings/terms", "GET", responses={200: schemas.TermsAnswer})
def terms(req: Req) -> Any:
    """The terms and conditions."""
    return service.terms()


@route(
    bp,
    "/settings/payment-methods",
    "GET",
    query=schemas.PaymentMethodsQuery,
    responses={200: schemas.MethodsAnswer},
)
def list_payment_methods(req: Req, query: PaymentMethodsQuery) -> Any:
    """The payment methods a client may offer, filtered by currency, country and amount."""
    body = service.list_payment_methods(query.locale, query.currency, query.country, query.amount)
    return whole_list(req, body, "methods")


@route(bp, "/settings/payment-methods/{code}", "GET", query=schemas.LocaleQuery, responses={200: schemas.MethodAnswer})
def get_payment_method(req: Req, code: str, query: LocaleQuery) -> Any:
    """One listable payment method by code."""
    return service.get_payment_method(code, query.locale)


@route(bp, "/config/languages", "GET", query=PagingQuery, responses={200: schemas.LanguagesAnswer})
def list_languages(req: Req, query: PagingQuery) -> Any:
    """The interface languages and the default one."""
    return whole_list(req, service.list_languages(), "languages")
