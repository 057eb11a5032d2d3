"""POST /api/v1/user/checkout and POST /api/v1/subscriptions (contract checkout-and-payments.md §5.1–§5.2)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.core.lazy import lazy_module, model_refs
from chalicelib.http.access import USER
from chalicelib.http.request import Req
from chalicelib.http.routing import route

if TYPE_CHECKING:
    from chalicelib.checkout.schemas import CheckoutBody, SubscribeBody

bp = Blueprint(__name__)
schemas = model_refs("chalicelib.checkout.schemas")
service = lazy_module("chalicelib.checkout.service")
SUBSCRIPTION = "subscription"


# Both routes are one checkout (`POST /subscriptions` of a plan and its add-ons): the same access, plugin,
# idempotency and answer; only the body's rules differ.
checkout_route = functools.partial(
    route,
    bp,
    methods="POST",
    access=USER,
    plugin=SUBSCRIPTION,
    idempotent=True,
    status=201,
    responses={201: schemas.CheckoutAnswer},
)


@checkout_route("/user/checkout", body=schemas.CheckoutBody)
def checkout(req: Req, body: CheckoutBody) -> Any:
    """Buy a plan, token bundles and add-ons: one invoice and its pending purchases, in one transaction."""
    return service.checkout(req.user, body.basket(), req.idempotency)


@checkout_route("/subscriptions", body=schemas.SubscribeBody)
def subscribe(req: Req, body: SubscribeBody) -> Any:
    """Subscribe to a plan (with add-ons): exactly a checkout of that basket."""
    return service.checkout(req.user, body.basket(), req.idempotency)
