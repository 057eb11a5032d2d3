"""Token balance, ledger and consumption (contract subscriptions.md §12.3); core routes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.core.lazy import lazy_module, model_refs
from chalicelib.http.access import USER
from chalicelib.http.pagination import page_keys, page_or_default
from chalicelib.http.request import Req
from chalicelib.http.routing import route

if TYPE_CHECKING:
    from chalicelib.tokens.schemas import ConsumeBody, TransactionsQuery

bp = Blueprint(__name__)
schemas = model_refs("chalicelib.tokens.schemas")
service = lazy_module("chalicelib.tokens.service")
DEFAULT_PAGE = 50


@route(bp, "/user/tokens/balance", "GET", access=USER, responses={200: schemas.BalanceAnswer})
def balance(req: Req) -> Any:
    """The caller's token balance."""
    return service.balance(req.user)


@route(
    bp,
    "/user/tokens/transactions",
    "GET",
    access=USER,
    query=schemas.TransactionsQuery,
    responses={200: schemas.TransactionsAnswer},
)
def transactions(req: Req, query: TransactionsQuery) -> Any:
    """The caller's token ledger, newest first."""
    page = service.transactions(req.user, page_or_default(req, DEFAULT_PAGE).request, query.type)
    return {"transactions": page.items, **page_keys(req, page)}


@route(
    bp,
    "/user/tokens/consume",
    "POST",
    access=USER,
    idempotent=True,
    body=schemas.ConsumeBody,
    responses={200: schemas.ConsumeAnswer, 402: schemas.InsufficientBalance},
)
def consume(req: Req, body: ConsumeBody) -> Any:
    """Spend tokens: one conditional debit, idempotent by `reference` and by `Idempotency-Key`."""
    return service.consume(req.user, body, req.idempotency)
