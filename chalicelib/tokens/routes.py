"""Token balance, ledger and consumption (contract subscriptions.md §12.3); core routes."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.core.lazy import lazy_module
from chalicelib.http.access import USER
from chalicelib.http.pagination import Page, page_request
from chalicelib.http.request import Req
from chalicelib.http.routing import route

bp = Blueprint(__name__)
service = lazy_module("chalicelib.tokens.service")
DEFAULT_PAGE = 50


@route(bp, "/user/tokens/balance", "GET", access=USER)
def balance(req: Req) -> Any:
    return service.balance(req.user)


@route(bp, "/user/tokens/transactions", "GET", access=USER)
def transactions(req: Req) -> Any:
    page = page_request(req, DEFAULT_PAGE) or Page(0, DEFAULT_PAGE, "limit")
    return service.transactions(req.user, page, req.query("type"))


@route(bp, "/user/tokens/consume", "POST", access=USER, idempotent=True)
def consume(req: Req) -> Any:
    return service.consume(req.user, req.json)
