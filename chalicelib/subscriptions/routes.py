"""The user's subscriptions and add-ons (contract subscriptions.md §12.1–§12.2); plugin `subscription`.

`GET /user/subscriptions` and `GET /user/addons` are whole lists (README §1.11): everything the caller holds (the
user's subscription partition, see `subscriptions.repository`), up to 1000 items, or a page of it when a paging
parameter is sent.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.core.lazy import lazy_module, model_refs
from chalicelib.core.validation import NoBody, PagingQuery
from chalicelib.http.access import USER
from chalicelib.http.pagination import whole_list
from chalicelib.http.request import Req
from chalicelib.http.routing import route

if TYPE_CHECKING:
    from chalicelib.subscriptions.schemas import (
        CancelBody,
        CancelQuery,
        PlanChangeBody,
        ProrationQuery,
        SubscriptionsQuery,
    )

bp = Blueprint(__name__)
schemas = model_refs("chalicelib.subscriptions.schemas")
service = lazy_module("chalicelib.subscriptions.service")
SUBSCRIPTION = "subscription"
ADDON_SUBSCRIPTION_ID = ("addon_subscription_id",)
# Every route here reads or changes the caller's own holdings and belongs to the `subscription` plugin.
user_route = functools.partial(route, bp, access=USER, plugin=SUBSCRIPTION)


@user_route(
    "/user/subscriptions", "GET", query=schemas.SubscriptionsQuery, responses={200: schemas.SubscriptionsAnswer}
)
def list_subscriptions(req: Req, query: SubscriptionsQuery) -> Any:
    """The caller's subscriptions with their plans, newest first; `status` keeps one status."""
    return whole_list(req, service.list_subscriptions(req.user, query.status), "subscriptions")


@user_route("/user/subscriptions/active", "GET", responses={200: schemas.ActiveSubscriptionAnswer})
def active_subscription(req: Req) -> Any:
    """The caller's primary subscription: the newest one that grants access (or null)."""
    return service.active_subscription(req.user)


@user_route("/user/subscriptions/active-all", "GET", responses={200: schemas.ActiveSubscriptionsAnswer})
def active_subscriptions(req: Req) -> Any:
    """Every subscription of the caller that grants access, newest first."""
    return service.active_subscriptions(req.user)


@user_route(
    "/user/subscriptions/{subscription_id}",
    "GET",
    uuid_params=("subscription_id",),
    responses={200: schemas.SubscriptionAnswer},
)
def get_subscription(req: Req, subscription_id: str) -> Any:
    """One subscription of the caller with its plan and add-ons (another user's is 404)."""
    return service.get_subscription(req.user, subscription_id)


@user_route("/user/addons", "GET", query=PagingQuery, responses={200: schemas.AddonSubscriptionsAnswer})
def list_addons(req: Req, query: PagingQuery) -> Any:
    """The caller's add-on subscriptions with their add-ons, newest first."""
    return whole_list(req, service.list_addons(req.user), "addon_subscriptions", with_total=False)


@user_route(
    "/user/addons/{addon_subscription_id}",
    "GET",
    uuid_params=ADDON_SUBSCRIPTION_ID,
    responses={200: schemas.AddonSubscriptionAnswer},
)
def get_addon(req: Req, addon_subscription_id: str) -> Any:
    """One add-on subscription of the caller with its add-on and invoice (another user's is 403)."""
    return service.get_addon(req.user, addon_subscription_id)


@user_route(
    "/user/addons/{addon_subscription_id}/cancel",
    "POST",
    body=NoBody,
    uuid_params=ADDON_SUBSCRIPTION_ID,
    responses={200: schemas.AddonCancelAnswer},
)
def cancel_addon(req: Req, addon_subscription_id: str, body: NoBody) -> Any:
    """Cancel an add-on subscription: a recurring ACTIVE one at its period end, any other at once."""
    return service.cancel_addon(req.user, addon_subscription_id)


# --- plan changes, cancel, pause (§8–§9): the caller's own subscription; another user's is 404 ---------------------

SUBSCRIPTION_ID = ("subscription_id",)
# Upgrade and downgrade refuse while an unpaid upgrade (or renewal) invoice of the subscription is open.
PENDING_INVOICE = {409: schemas.PendingInvoiceConflict}


@user_route(
    "/user/subscriptions/{subscription_id}/proration",
    "GET",
    query=schemas.ProrationQuery,
    uuid_params=SUBSCRIPTION_ID,
    responses={200: schemas.ProrationAnswer},
)
def proration(req: Req, subscription_id: str, query: ProrationQuery) -> Any:
    """What changing to `new_plan_id` would bill now (nothing is written)."""
    return service.proration(req.user, subscription_id, query.plan_id)


@user_route(
    "/user/subscriptions/{subscription_id}/upgrade",
    "POST",
    body=schemas.PlanChangeBody,
    uuid_params=SUBSCRIPTION_ID,
    idempotent=True,
    responses={200: schemas.UpgradeAnswer, **PENDING_INVOICE},
)
def upgrade(req: Req, subscription_id: str, body: PlanChangeBody) -> Any:
    """Upgrade: an invoice for the new plan less the unused time; the plan switches when it is paid (or now)."""
    return service.upgrade(req.user, subscription_id, body.plan_id, req.idempotency)


@user_route(
    "/user/subscriptions/{subscription_id}/downgrade",
    "POST",
    body=schemas.PlanChangeBody,
    uuid_params=SUBSCRIPTION_ID,
    idempotent=True,
    responses={200: schemas.DowngradeAnswer, **PENDING_INVOICE},
)
def downgrade(req: Req, subscription_id: str, body: PlanChangeBody) -> Any:
    """Downgrade at the next renewal: that renewal bills the new plan and its payment switches it."""
    return service.downgrade(req.user, subscription_id, body.plan_id, req.idempotency)


@user_route(
    "/user/subscriptions/{subscription_id}/cancel",
    "POST",
    body=schemas.CancelBody,
    query=schemas.CancelQuery,
    uuid_params=SUBSCRIPTION_ID,
    idempotent=True,
    responses={200: schemas.CancelAnswer},
)
def cancel(req: Req, subscription_id: str, body: CancelBody, query: CancelQuery) -> Any:
    """Cancel at the period end (access continues), or now with `?immediately=true`."""
    return service.cancel(req.user, subscription_id, body.reason, query.now, req.idempotency)


@user_route(
    "/user/subscriptions/{subscription_id}/reactivate",
    "POST",
    body=NoBody,
    uuid_params=SUBSCRIPTION_ID,
    idempotent=True,
    responses={200: schemas.ReactivateAnswer},
)
def reactivate(req: Req, subscription_id: str, body: NoBody) -> Any:
    """Undo a scheduled cancellation."""
    return service.reactivate(req.user, subscription_id, req.idempotency)


@user_route(
    "/user/subscriptions/{subscription_id}/pause",
    "POST",
    body=NoBody,
    uuid_params=SUBSCRIPTION_ID,
    idempotent=True,
    responses={200: schemas.PauseAnswer},
)
def pause(req: Req, subscription_id: str, body: NoBody) -> Any:
    """Pause an ACTIVE subscription with its add-ons: renewals and expiry stop."""
    return service.pause(req.user, subscription_id, req.idempotency)


@user_route(
    "/user/subscriptions/{subscription_id}/resume",
    "POST",
    body=NoBody,
    uuid_params=SUBSCRIPTION_ID,
    idempotent=True,
    responses={200: schemas.ResumeAnswer},
)
def resume(req: Req, subscription_id: str, body: NoBody) -> Any:
    """Resume a paused subscription: its expiry moves on by the pause's length."""
    return service.resume(req.user, subscription_id, req.idempotency)
