"""The user's subscriptions and add-ons (contract subscriptions.md §12.1–§12.2); plugin `subscription`."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.core.lazy import lazy_module
from chalicelib.http.access import USER
from chalicelib.http.request import Req
from chalicelib.http.routing import route

bp = Blueprint(__name__)
service = lazy_module("chalicelib.subscriptions.service")
SUBSCRIPTION = "subscription"


@route(bp, "/user/subscriptions", "GET", access=USER, plugin=SUBSCRIPTION)
def list_subscriptions(req: Req) -> Any:
    return service.list_subscriptions(req.user, req.query("status"))


@route(bp, "/user/subscriptions/active", "GET", access=USER, plugin=SUBSCRIPTION)
def active_subscription(req: Req) -> Any:
    return service.active_subscription(req.user)


@route(bp, "/user/subscriptions/active-all", "GET", access=USER, plugin=SUBSCRIPTION)
def active_subscriptions(req: Req) -> Any:
    return service.active_subscriptions(req.user)


@route(
    bp,
    "/user/subscriptions/{subscription_id}",
    "GET",
    access=USER,
    plugin=SUBSCRIPTION,
    uuid_params=("subscription_id",),
)
def get_subscription(req: Req, subscription_id: str) -> Any:
    return service.get_subscription(req.user, subscription_id)


@route(bp, "/user/addons", "GET", access=USER, plugin=SUBSCRIPTION)
def list_addons(req: Req) -> Any:
    return service.list_addons(req.user)


@route(
    bp,
    "/user/addons/{addon_subscription_id}",
    "GET",
    access=USER,
    plugin=SUBSCRIPTION,
    uuid_params=("addon_subscription_id",),
)
def get_addon(req: Req, addon_subscription_id: str) -> Any:
    return service.get_addon(req.user, addon_subscription_id)


@route(
    bp,
    "/user/addons/{addon_subscription_id}/cancel",
    "POST",
    access=USER,
    plugin=SUBSCRIPTION,
    uuid_params=("addon_subscription_id",),
)
def cancel_addon(req: Req, addon_subscription_id: str) -> Any:
    return service.cancel_addon(req.user, addon_subscription_id)
