"""Public catalog routes (contract catalog.md §4). Plans, categories and add-ons belong to `subscription`."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.core.lazy import lazy_module
from chalicelib.http.access import OPTIONAL
from chalicelib.http.pagination import whole_list
from chalicelib.http.request import Req
from chalicelib.http.routing import route

bp = Blueprint(__name__)
service = lazy_module("chalicelib.catalog.service")
SUBSCRIPTION = "subscription"


@route(bp, "/tarif-plans", "GET", plugin=SUBSCRIPTION)
def list_plans(req: Req) -> Any:
    body = service.list_plans(req.query("currency"), req.query("country"), req.query("category"))
    return whole_list(req, body, "plans")


@route(bp, "/tarif-plans/{slug_or_id}", "GET", plugin=SUBSCRIPTION)
def get_plan(req: Req, slug_or_id: str) -> Any:
    return service.get_plan(slug_or_id, req.query("currency"), req.query("country"))


@route(bp, "/tarif-plan-categories", "GET", plugin=SUBSCRIPTION)
def list_categories(req: Req) -> Any:
    return whole_list(req, service.list_categories(req.query("format")), "categories")


@route(bp, "/settings/currencies", "GET")
def list_currencies(req: Req) -> Any:
    return whole_list(req, service.list_currencies(), "currencies")


@route(bp, "/settings/taxes", "GET")
def list_taxes(req: Req) -> Any:
    return whole_list(req, service.list_taxes(req.query("country")), "taxes")


@route(bp, "/token-bundles", "GET")
def list_token_bundles(req: Req) -> Any:
    return whole_list(req, service.list_token_bundles(), "bundles")


@route(bp, "/token-bundles/{bundle_id}", "GET", uuid_params=("bundle_id",))
def get_token_bundle(req: Req, bundle_id: str) -> Any:
    return service.get_token_bundle(bundle_id)


@route(bp, "/addons", "GET", access=OPTIONAL, plugin=SUBSCRIPTION)
def list_addons(req: Req) -> Any:
    return whole_list(req, service.list_addons(req.principal, req.query("plan_id")), "addons")


@route(bp, "/addons/{addon_id}", "GET", plugin=SUBSCRIPTION, uuid_params=("addon_id",))
def get_addon(req: Req, addon_id: str) -> Any:
    return service.get_addon(addon_id)


@route(bp, "/settings/countries", "GET")
def list_countries(req: Req) -> Any:
    return whole_list(req, service.list_countries(), "countries")


@route(bp, "/settings/terms", "GET")
def terms(req: Req) -> Any:
    return service.terms()


@route(bp, "/settings/payment-methods", "GET")
def list_payment_methods(req: Req) -> Any:
    body = service.list_payment_methods(
        req.query("locale"), req.query("currency"), req.query("country"), req.query("amount")
    )
    return whole_list(req, body, "methods")


@route(bp, "/settings/payment-methods/{code}", "GET")
def get_payment_method(req: Req, code: str) -> Any:
    return service.get_payment_method(code, req.query("locale"))


@route(bp, "/config/languages", "GET")
def list_languages(req: Req) -> Any:
    return whole_list(req, service.list_languages(), "languages")
