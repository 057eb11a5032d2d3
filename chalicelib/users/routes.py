"""/api/v1/user/profile, /user/details, /user/change-password (contract auth.md §4)."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.core.lazy import lazy_module
from chalicelib.http.access import USER, user_not_impersonated
from chalicelib.http.request import Req
from chalicelib.http.routing import route

bp = Blueprint(__name__)
service = lazy_module("chalicelib.users.service")
auth_service = lazy_module("chalicelib.auth.service")


@route(bp, "/user/profile", "GET", access=USER)
def profile(req: Req) -> Any:
    return service.profile(req.principal)


@route(bp, "/user/details", "GET", access=USER)
def get_details(req: Req) -> Any:
    return service.get_details(req.principal)


@route(bp, "/user/details", "PUT", access=USER)
def update_details(req: Req) -> Any:
    return service.update_details(req.principal, req.json)


@route(bp, "/user/change-password", "POST", access=user_not_impersonated())
def change_password(req: Req) -> Any:
    return auth_service.change_password(req.principal, req.json, req.client_ip)
