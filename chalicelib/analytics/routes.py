"""The admin analytics routes (admin.md §17; permission `analytics.view`, plugin `analytics`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.core.lazy import lazy_module, model_refs
from chalicelib.http.access import admin
from chalicelib.http.pagination import page_keys, page_or_default
from chalicelib.http.request import Req
from chalicelib.http.routing import route

if TYPE_CHECKING:
    from chalicelib.analytics.schemas import ActivityQuery, MrrQuery, RangeQuery

bp = Blueprint(__name__)
schemas = model_refs("chalicelib.analytics.schemas")
service = lazy_module("chalicelib.analytics.service")
VIEW = admin("analytics.view")
PLUGIN = "analytics"
ACTIVITY_PAGE = 50


@route(
    bp,
    "/admin/analytics/dashboard",
    access=VIEW,
    plugin=PLUGIN,
    query=schemas.RangeQuery,
    responses={200: schemas.DashboardAnswer},
)
def analytics_dashboard(req: Req, query: RangeQuery) -> Any:
    """MRR, subscriptions, users, revenue, churn, open invoices and tokens at a glance"""
    return service.dashboard(service.date_range(query.from_, query.to))


@route(
    bp, "/admin/analytics/mrr", access=VIEW, plugin=PLUGIN, query=schemas.MrrQuery, responses={200: schemas.MrrAnswer}
)
def analytics_mrr(req: Req, query: MrrQuery) -> Any:
    """MRR now, per plan, and its daily (or monthly) history"""
    return service.mrr(service.date_range(query.from_, query.to), query.interval)


@route(
    bp,
    "/admin/analytics/revenue",
    access=VIEW,
    plugin=PLUGIN,
    query=schemas.RangeQuery,
    responses={200: schemas.RevenueAnswer},
)
def analytics_revenue(req: Req, query: RangeQuery) -> Any:
    """Gross, tax, refunds and net revenue per day"""
    return service.revenue(service.date_range(query.from_, query.to))


@route(
    bp,
    "/admin/analytics/users/growth",
    access=VIEW,
    plugin=PLUGIN,
    query=schemas.RangeQuery,
    responses={200: schemas.GrowthAnswer},
)
def analytics_users_growth(req: Req, query: RangeQuery) -> Any:
    """New users and users existing per day"""
    return service.users_growth(service.date_range(query.from_, query.to))


@route(
    bp,
    "/admin/analytics/churn",
    access=VIEW,
    plugin=PLUGIN,
    query=schemas.RangeQuery,
    responses={200: schemas.ChurnAnswer},
)
def analytics_churn(req: Req, query: RangeQuery) -> Any:
    """Subscriptions churned in the range over those live at its start"""
    return service.churn(service.date_range(query.from_, query.to))


@route(
    bp,
    "/admin/analytics/plans/distribution",
    access=VIEW,
    plugin=PLUGIN,
    responses={200: schemas.DistributionAnswer},
)
def analytics_plan_distribution(req: Req) -> Any:
    """Subscriptions per plan, most first"""
    return service.plan_distribution()


@route(
    bp,
    "/admin/analytics/activity",
    access=VIEW,
    plugin=PLUGIN,
    query=schemas.ActivityQuery,
    responses={200: schemas.ActivityAnswer},
)
def analytics_activity(req: Req, query: ActivityQuery) -> Any:
    """The activity log newest first: domain events, client events, the admin audit log"""
    paging = page_or_default(req, ACTIVITY_PAGE)
    page = service.activity(paging.request, query.type, query.user_id, query.source)
    return {"activity": page.items, **page_keys(req, page)}
