"""/api/v1/auth/* (contract auth.md §3)."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.core.lazy import lazy_module
from chalicelib.http.access import OPTIONAL, PUBLIC, USER
from chalicelib.http.ratelimit import LimitScope
from chalicelib.http.request import Req
from chalicelib.http.routing import route

bp = Blueprint(__name__)
service = lazy_module("chalicelib.auth.service")

AUTH_ENVELOPE = {"success": False, "token": None, "user_id": None, "user": None}
REFRESH_ENVELOPE = {**AUTH_ENVELOPE, "refresh_token": None}


@route(bp, "/auth/register", "POST", limit=LimitScope.AUTH, envelope=AUTH_ENVELOPE)
def register(req: Req) -> Any:
    return service.register(req.json)


@route(bp, "/auth/login", "POST", limit=LimitScope.AUTH, envelope=AUTH_ENVELOPE)
def login(req: Req) -> Any:
    return service.login(req.json, req.client_ip)


@route(bp, "/auth/refresh", "POST", limit=LimitScope.AUTH, envelope=REFRESH_ENVELOPE)
def refresh(req: Req) -> Any:
    return service.refresh(req.json, req.client_ip)


@route(bp, "/auth/logout", "POST", access=OPTIONAL)
def logout(req: Req) -> Any:
    return service.logout(req.principal, req.json)


@route(bp, "/auth/me", "GET", access=USER)
def me(req: Req) -> Any:
    return service.me(req.principal)


@route(bp, "/auth/check-email", "GET", access=PUBLIC, limit=LimitScope.AUTH)
def check_email(req: Req) -> Any:
    return service.check_email(req.query("email"))


@route(bp, "/auth/forgot-password", "POST", limit=LimitScope.AUTH)
def forgot_password(req: Req) -> Any:
    return service.forgot_password(req.json)


@route(bp, "/auth/reset-password", "POST", limit=LimitScope.AUTH)
def reset_password(req: Req) -> Any:
    return service.reset_password(req.json)
