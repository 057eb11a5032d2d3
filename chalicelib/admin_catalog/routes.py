"""Admin catalog routes (admin.md §4–§7): tariff plans, categories, add-ons, token bundles.

Each view parses its typed input, calls one function of `chalicelib.admin_catalog.service` and returns its answer;
the edge checks the role and permission and writes the audit entry of every write that succeeded. The add-on and
bundle lists are slices of the catalog snapshot (one partition, read once per catalog version), so a page and its
`total` cost no read beyond the snapshot's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.core.lazy import lazy_module, model_refs
from chalicelib.core.paging import slice_page
from chalicelib.core.validation import NoBody
from chalicelib.http.access import Access, admin
from chalicelib.http.pagination import page_keys, page_or_default
from chalicelib.http.request import Req
from chalicelib.http.routing import route

if TYPE_CHECKING:
    from chalicelib.admin_catalog.schemas import (
        AddonBody,
        AddonChanges,
        BundleBody,
        BundleChanges,
        CategoryBody,
        CategoryChanges,
        CategoryFormatQuery,
        InactiveQuery,
        PlanBody,
        PlanChanges,
        PlanIdsBody,
        PlansQuery,
    )

bp = Blueprint(__name__)
schemas = model_refs("chalicelib.admin_catalog.schemas")
service = lazy_module("chalicelib.admin_catalog.service")
SUBSCRIPTION = "subscription"
PLANS_VIEW = admin("subscription.plans.view")
PLANS_MANAGE = admin("subscription.plans.manage")
ADDONS = admin("subscription.addons.manage")
SETTINGS_VIEW = admin("settings.view")
SETTINGS_MANAGE = admin("settings.manage")
PLAN_ID = ("plan_id",)
CATEGORY_ID = ("category_id",)
ADDON_ID = ("addon_id",)
BUNDLE_ID = ("bundle_id",)
PAGE = 20


def _paged(req: Req, items: list[dict[str, Any]]) -> dict[str, Any]:
    page = slice_page(items, page_or_default(req, PAGE, "page").request)
    return {"items": page.items, **page_keys(req, page)}


# --- tariff plans (§4) ------------------------------------------------------------------------------------------


@route(
    bp,
    "/admin/tarif-plans",
    "GET",
    access=PLANS_VIEW,
    plugin=SUBSCRIPTION,
    query=schemas.PlansQuery,
    responses={200: schemas.AdminPlansAnswer},
)
def list_admin_plans(req: Req, query: PlansQuery) -> Any:
    """Every plan (or the active ones only) with its subscriber count."""
    return service.list_plans(query.active_only)


@route(
    bp,
    "/admin/tarif-plans",
    "POST",
    access=PLANS_MANAGE,
    plugin=SUBSCRIPTION,
    body=schemas.PlanBody,
    status=201,
    responses={201: schemas.PlanCreated},
)
def create_plan(req: Req, body: PlanBody) -> Any:
    """A new plan, attached to the categories named."""
    return service.create_plan(body)


@route(
    bp,
    "/admin/tarif-plans/{plan_id}",
    "GET",
    access=PLANS_VIEW,
    plugin=SUBSCRIPTION,
    uuid_params=PLAN_ID,
    responses={200: schemas.AdminPlanAnswer},
)
def get_admin_plan(req: Req, plan_id: str) -> Any:
    """One plan with its subscriber count."""
    return service.get_plan(plan_id)


@route(
    bp,
    "/admin/tarif-plans/{plan_id}",
    "PUT",
    access=PLANS_MANAGE,
    plugin=SUBSCRIPTION,
    uuid_params=PLAN_ID,
    body=schemas.PlanChanges,
    responses={200: schemas.AdminPlanAnswer},
)
def update_plan(req: Req, plan_id: str, body: PlanChanges) -> Any:
    """Change any field; a new price applies to later checkouts and renewal invoices, never to open invoices."""
    return service.update_plan(plan_id, body)


@route(
    bp,
    "/admin/tarif-plans/{plan_id}",
    "DELETE",
    access=PLANS_MANAGE,
    plugin=SUBSCRIPTION,
    uuid_params=PLAN_ID,
    responses={200: schemas.Message},
)
def delete_plan(req: Req, plan_id: str) -> Any:
    """Delete a plan that never had a subscription."""
    return service.delete_plan(plan_id)


def _state_route(
    path: str, action: str, noun: str, access: Access, plugin: str | None, answer: Any, change: Callable[[str], Any]
) -> None:
    """`POST <path>/<action>` (`path` ends in its one id parameter): `change(id)` answers; the view is named
    `<action>_<noun>` (the audit log's `admin.<action>_<noun>`)."""
    id_name = path.rsplit("{", 1)[1].rstrip("}")

    def view(req: Req, body: NoBody, **ids: str) -> Any:
        return change(ids[id_name])

    view.__name__ = view.__qualname__ = f"{action}_{noun}"
    view.__doc__ = f"{action.capitalize()} the {noun.replace('_', ' ').replace('addon', 'add-on')}."
    route(
        bp,
        f"{path}/{action}",
        "POST",
        access=access,
        plugin=plugin,
        uuid_params=(id_name,),
        body=NoBody,
        responses={200: answer},
    )(view)


PLAN = "/admin/tarif-plans/{plan_id}"
for _action in ("activate", "deactivate", "archive"):  # deactivate and archive: closed to checkouts, renewing on
    _state_route(
        PLAN,
        _action,
        "plan",
        PLANS_MANAGE,
        SUBSCRIPTION,
        schemas.PlanStateAnswer,
        functools.partial(lambda action, plan_id: service.set_plan_state(plan_id, action), _action),
    )


@route(
    bp,
    "/admin/tarif-plans/{plan_id}/copy",
    "POST",
    access=PLANS_MANAGE,
    plugin=SUBSCRIPTION,
    uuid_params=PLAN_ID,
    body=NoBody,
    status=201,
    responses={201: schemas.PlanCreated},
)
def copy_plan(req: Req, plan_id: str, body: NoBody) -> Any:
    """A new active plan with the same price, period, features and trial; no categories."""
    return service.copy_plan(plan_id)


@route(
    bp,
    "/admin/tarif-plans/{plan_id}/subscribers/count",
    "GET",
    access=PLANS_VIEW,
    plugin=SUBSCRIPTION,
    uuid_params=PLAN_ID,
    responses={200: schemas.SubscriberCountAnswer},
)
def count_plan_subscribers(req: Req, plan_id: str) -> Any:
    """The plan's subscriptions per status that count as subscribers (from maintained counters)."""
    return service.subscriber_count(plan_id)


# --- categories (§5) --------------------------------------------------------------------------------------------


@route(
    bp,
    "/admin/tarif-plan-categories",
    "GET",
    access=PLANS_MANAGE,
    plugin=SUBSCRIPTION,
    query=schemas.CategoryFormatQuery,
    responses={200: schemas.CategoriesAnswer},
)
def list_admin_categories(req: Req, query: CategoryFormatQuery) -> Any:
    """Every category, flat (default) or as a tree; `plan_count` counts every attached plan."""
    return service.list_categories(query.format)


@route(
    bp,
    "/admin/tarif-plan-categories",
    "POST",
    access=PLANS_MANAGE,
    plugin=SUBSCRIPTION,
    body=schemas.CategoryBody,
    status=201,
    responses={201: schemas.CategoryCreated},
)
def create_category(req: Req, body: CategoryBody) -> Any:
    """A new category, under a parent when one is named."""
    return service.create_category(body)


@route(
    bp,
    "/admin/tarif-plan-categories/{category_id}",
    "GET",
    access=PLANS_MANAGE,
    plugin=SUBSCRIPTION,
    uuid_params=CATEGORY_ID,
    responses={200: schemas.CategoryAnswer},
)
def get_admin_category(req: Req, category_id: str) -> Any:
    """One category."""
    return service.get_category(category_id)


@route(
    bp,
    "/admin/tarif-plan-categories/{category_id}",
    "PUT",
    access=PLANS_MANAGE,
    plugin=SUBSCRIPTION,
    uuid_params=CATEGORY_ID,
    body=schemas.CategoryChanges,
    responses={200: schemas.CategoryAnswer},
)
def update_category(req: Req, category_id: str, body: CategoryChanges) -> Any:
    """Change a category; it never moves under itself or its descendants."""
    return service.update_category(category_id, body)


@route(
    bp,
    "/admin/tarif-plan-categories/{category_id}",
    "DELETE",
    access=PLANS_MANAGE,
    plugin=SUBSCRIPTION,
    uuid_params=CATEGORY_ID,
    responses={200: schemas.Message},
)
def delete_category(req: Req, category_id: str) -> Any:
    """Delete a category without children (never `root`); its plans are detached."""
    return service.delete_category(category_id)


@route(
    bp,
    "/admin/tarif-plan-categories/{category_id}/attach-plans",
    "POST",
    access=PLANS_MANAGE,
    plugin=SUBSCRIPTION,
    uuid_params=CATEGORY_ID,
    body=schemas.PlanIdsBody,
    responses={200: schemas.CategoryAnswer},
)
def attach_category_plans(req: Req, category_id: str, body: PlanIdsBody) -> Any:
    """Attach plans to the category (idempotent)."""
    return service.attach_plans(category_id, body.plan_ids, attach=True)


@route(
    bp,
    "/admin/tarif-plan-categories/{category_id}/detach-plans",
    "POST",
    access=PLANS_MANAGE,
    plugin=SUBSCRIPTION,
    uuid_params=CATEGORY_ID,
    body=schemas.PlanIdsBody,
    responses={200: schemas.CategoryAnswer},
)
def detach_category_plans(req: Req, category_id: str, body: PlanIdsBody) -> Any:
    """Detach plans from the category (idempotent)."""
    return service.attach_plans(category_id, body.plan_ids, attach=False)


# --- add-ons (§6) -----------------------------------------------------------------------------------------------


@route(
    bp,
    "/admin/addons",
    "GET",
    access=ADDONS,
    plugin=SUBSCRIPTION,
    query=schemas.InactiveQuery,
    responses={200: schemas.AddonPage},
)
def list_admin_addons(req: Req, query: InactiveQuery) -> Any:
    """A page of the add-ons (the inactive ones when asked)."""
    return _paged(req, service.list_addons(query.with_inactive))


@route(
    bp,
    "/admin/addons",
    "POST",
    access=ADDONS,
    plugin=SUBSCRIPTION,
    body=schemas.AddonBody,
    status=201,
    responses={201: schemas.AddonCreated},
)
def create_addon(req: Req, body: AddonBody) -> Any:
    """A new add-on, bound to the plans named (none: independent)."""
    return service.create_addon(body)


@route(
    bp,
    "/admin/addons/slug/{slug}",
    "GET",
    access=ADDONS,
    plugin=SUBSCRIPTION,
    responses={200: schemas.AdminAddonAnswer},
)
def get_admin_addon_by_slug(req: Req, slug: str) -> Any:
    """One add-on by slug."""
    return service.get_addon_by_slug(slug)


@route(
    bp,
    "/admin/addons/{addon_id}",
    "GET",
    access=ADDONS,
    plugin=SUBSCRIPTION,
    uuid_params=ADDON_ID,
    responses={200: schemas.AdminAddonAnswer},
)
def get_admin_addon(req: Req, addon_id: str) -> Any:
    """One add-on."""
    return service.get_addon(addon_id)


@route(
    bp,
    "/admin/addons/{addon_id}",
    "PUT",
    access=ADDONS,
    plugin=SUBSCRIPTION,
    uuid_params=ADDON_ID,
    body=schemas.AddonChanges,
    responses={200: schemas.AdminAddonAnswer},
)
def update_addon(req: Req, addon_id: str, body: AddonChanges) -> Any:
    """Change any field; `tarif_plan_ids: []` makes it independent."""
    return service.update_addon(addon_id, body)


@route(
    bp,
    "/admin/addons/{addon_id}",
    "DELETE",
    access=ADDONS,
    plugin=SUBSCRIPTION,
    uuid_params=ADDON_ID,
    responses={200: schemas.Message},
)
def delete_addon(req: Req, addon_id: str) -> Any:
    """Delete an add-on nobody holds."""
    return service.delete_addon(addon_id)


for _active, _action in ((True, "activate"), (False, "deactivate")):
    _state_route(
        "/admin/addons/{addon_id}",
        _action,
        "addon",
        ADDONS,
        SUBSCRIPTION,
        schemas.AddonStateAnswer,
        functools.partial(lambda active, addon_id: service.set_addon_state(addon_id, active), _active),
    )


# --- token bundles (§7) -----------------------------------------------------------------------------------------


@route(
    bp,
    "/admin/token-bundles",
    "GET",
    access=SETTINGS_VIEW,
    query=schemas.InactiveQuery,
    responses={200: schemas.BundlePage},
)
def list_admin_bundles(req: Req, query: InactiveQuery) -> Any:
    """A page of the token bundles (the inactive ones when asked)."""
    return _paged(req, service.list_bundles(query.with_inactive))


@route(
    bp,
    "/admin/token-bundles",
    "POST",
    access=SETTINGS_MANAGE,
    body=schemas.BundleBody,
    status=201,
    responses={201: schemas.BundleCreated},
)
def create_token_bundle(req: Req, body: BundleBody) -> Any:
    """A new token bundle."""
    return service.create_bundle(body)


@route(
    bp,
    "/admin/token-bundles/{bundle_id}",
    "GET",
    access=SETTINGS_VIEW,
    uuid_params=BUNDLE_ID,
    responses={200: schemas.AdminBundleAnswer},
)
def get_admin_bundle(req: Req, bundle_id: str) -> Any:
    """One token bundle."""
    return service.get_bundle(bundle_id)


@route(
    bp,
    "/admin/token-bundles/{bundle_id}",
    "PUT",
    access=SETTINGS_MANAGE,
    uuid_params=BUNDLE_ID,
    body=schemas.BundleChanges,
    responses={200: schemas.AdminBundleAnswer},
)
def update_token_bundle(req: Req, bundle_id: str, body: BundleChanges) -> Any:
    """Change any field; purchases made keep their snapshot."""
    return service.update_bundle(bundle_id, body)


@route(
    bp,
    "/admin/token-bundles/{bundle_id}",
    "DELETE",
    access=SETTINGS_MANAGE,
    uuid_params=BUNDLE_ID,
    responses={200: schemas.Message},
)
def delete_token_bundle(req: Req, bundle_id: str) -> Any:
    """Delete a token bundle (purchases made keep their snapshot)."""
    return service.delete_bundle(bundle_id)


for _active, _action in ((True, "activate"), (False, "deactivate")):
    _state_route(
        "/admin/token-bundles/{bundle_id}",
        _action,
        "token_bundle",
        SETTINGS_MANAGE,
        None,
        schemas.BundleStateAnswer,
        functools.partial(lambda active, bundle_id: service.set_bundle_state(bundle_id, active), _active),
    )
