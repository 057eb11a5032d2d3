"""The admin catalog (admin.md §4–§7): tariff plans, categories, add-ons, token bundles.

Decisions read the catalog snapshot (`catalog.repository.reference()`); writes change the records as stored now
(`writes.fresh`) on the condition of their version, with their slug guards, and bump the catalog version
(`chalicelib.catalog.writes`). Subscriber numbers come from the counters the subscription repository moves with
every subscription write (`subscriptions.repository.plan_subscribers`), never from counting subscriptions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from chalicelib.admin_catalog.schemas import (
    AddonBody,
    AddonChanges,
    BundleBody,
    BundleChanges,
    CategoryBody,
    CategoryChanges,
    PlanBody,
    PlanChanges,
    addon_slug,
    plan_slug,
)
from chalicelib.catalog import repository, serializers, writes
from chalicelib.catalog.models import AddonItem, CategoryItem, PlanItem, Stamped, TokenBundleItem
from chalicelib.catalog.pricing import Currencies
from chalicelib.catalog.repository import Reference
from chalicelib.core.clock import now as clock_now
from chalicelib.core.errors import BadRequest, Conflict, NotFound
from chalicelib.core.ids import new_id
from chalicelib.core.money import round_money
from chalicelib.core.validation import Body
from chalicelib.subscriptions import repository as subscriptions
from chalicelib.subscriptions.machine import HOLDING_STATUSES
from chalicelib.subscriptions.models import PlanSubscribersItem

COUNTED = ("TRIALING", "ACTIVE", "PAST_DUE", "PAUSED")  # admin.md §4: a plan's subscribers
assert set(COUNTED) == HOLDING_STATUSES
RETRY = "Concurrent modification, please retry"
SLUG_TAKEN = "Slug already exists"
PERIOD_HELD = "Cannot change billing period of a plan with subscribers"


def _ordered(items: Iterable[Any]) -> list[Any]:
    return sorted(items, key=lambda item: (int(item.sort_order), item.name))


def _currency(ref: Reference, code: str | None) -> str:
    currencies = Currencies.of(ref.currencies)
    return currencies.default.code if code is None else currencies.active(code).code


def _check_price(ref: Reference, record: PlanItem | AddonItem | TokenBundleItem) -> None:
    """A price is a whole number of its currency's smallest unit (no fraction of a cent)."""
    places = Currencies.of(ref.currencies).places(record.currency)
    if record.price != round_money(record.price, places):
        raise BadRequest("Invalid price")


def _gone(what: str) -> NotFound:
    return NotFound(f"{what} not found")


R = TypeVar("R", bound=Stamped)


def _fresh(model: type[R], record_id: str, what: str) -> R:
    """The record as stored now, to change; 404 `<what> not found`."""
    record = writes.fresh(model, record_id)
    if record is None:
        raise _gone(what)
    return record


CLEARABLE = frozenset({"description"})  # a null clears these; a null of any other field leaves it as it is


def _apply(record: Stamped, body: Body, names: Iterable[str]) -> None:
    """The fields of `names` (and `description`) that the body sent."""
    sent = body.model_fields_set
    for name in (*names, "description"):
        value = getattr(body, name)
        if name in sent and (value is not None or name in CLEARABLE):
            setattr(record, name, value)


def _committed(write: Callable[[], None], taken: str) -> None:
    """Run a catalog write; a slug another record holds is 400 `taken`."""
    try:
        write()
    except writes.ValueTaken as refusal:
        raise BadRequest(taken) from refusal


# --- tariff plans (§4) ------------------------------------------------------------------------------------------


def _subscriber_count(counts: PlanSubscribersItem | None) -> int:
    return sum(counts.of(status) for status in COUNTED) if counts is not None else 0


def _admin_plan(item: PlanItem, ref: Reference, counts: PlanSubscribersItem | None) -> dict[str, Any]:
    body = serializers.plan(item, Currencies.of(ref.currencies), ref.categories_by_id())
    body["subscriber_count"] = _subscriber_count(counts)
    return body


def _plan_answer(plan_id: str) -> dict[str, Any]:
    ref = repository.reference()
    item = ref.plan(plan_id)
    if item is None:
        raise _gone("Plan")
    return _admin_plan(item, ref, subscriptions.plan_subscribers(plan_id))


def list_plans(active_only: bool) -> dict[str, Any]:
    ref = repository.reference()
    plans = _ordered(p for p in ref.plans if p.is_active or not active_only)
    counts = subscriptions.plans_subscribers(p.id for p in plans)
    return {"plans": [_admin_plan(p, ref, counts.get(p.id)) for p in plans], "total": len(plans)}


def get_plan(plan_id: str) -> dict[str, Any]:
    return {"plan": _plan_answer(plan_id)}


def _check_categories(ref: Reference, category_ids: list[str]) -> None:
    known = ref.categories_by_id()
    missing = next((c for c in category_ids if c not in known), None)
    if missing is not None:
        raise BadRequest(f"Category {missing} not found")


def create_plan(body: PlanBody) -> dict[str, Any]:
    ref = repository.reference()
    currency = _currency(ref, body.currency)
    slug = body.slug or plan_slug(body.name)
    if not slug:
        raise BadRequest("Invalid slug")
    category_ids = body.category_ids or []
    _check_categories(ref, category_ids)
    plan_id = new_id()
    plan = PlanItem(
        *PlanItem.key(plan_id),
        id=plan_id,
        name=body.name,
        slug=slug,
        description=body.description,
        price=body.price,
        currency=currency,
        billing_period=body.billing_period or "MONTHLY",
        features=body.features if body.features is not None else {"default_tokens": 0},
        trial_days=body.trial_days or 0,
        is_active=True if body.is_active is None else body.is_active,
        sort_order=body.sort_order or 0,
        category_ids=category_ids,
    )
    _check_price(ref, plan)
    _committed(lambda: writes.create_plan(plan, clock_now()), SLUG_TAKEN)
    return {"plan": _plan_answer(plan_id), "plan_id": plan_id, "message": "Plan created successfully"}


def update_plan(plan_id: str, body: PlanChanges) -> dict[str, Any]:
    plan = _fresh(PlanItem, plan_id, "Plan")
    ref = repository.reference()
    sent = body.model_fields_set
    slug_before = plan.slug
    if "currency" in sent:
        plan.currency = _currency(ref, body.currency)
    if body.category_ids is not None:
        _check_categories(ref, body.category_ids)
        plan.category_ids = body.category_ids
    period_changes = body.billing_period is not None and body.billing_period != plan.billing_period
    if period_changes:
        if _subscriber_count(subscriptions.plan_subscribers(plan_id)):
            raise BadRequest(PERIOD_HELD)
        plan.billing_period = body.billing_period
    _apply(plan, body, ("name", "price", "slug", "features", "trial_days", "is_active", "sort_order"))
    _check_price(ref, plan)
    try:
        # the counter is checked again in the write's transaction: a checkout meanwhile refuses the change
        held_by = COUNTED if period_changes else ()
        _committed(lambda: writes.update_plan(plan, slug_before, clock_now(), unsubscribed=held_by), SLUG_TAKEN)
    except writes.StillSubscribed as held:
        raise BadRequest(PERIOD_HELD) from held
    return {"plan": _plan_answer(plan_id)}


def delete_plan(plan_id: str) -> dict[str, Any]:
    plan = _fresh(PlanItem, plan_id, "Plan")
    bound = [a.id for a in repository.reference().addons if plan_id in a.plan_ids]
    addons = writes.fresh_many(AddonItem, bound)
    for addon in addons:
        addon.plan_ids = [p for p in addon.plan_ids if p != plan_id]
    try:
        writes.delete_plan(plan, addons, clock_now())
    except writes.StillSubscribed as held:
        raise BadRequest("Cannot delete plan with existing subscriptions. Deactivate instead.") from held
    return {"message": "Plan deleted successfully"}


PLAN_STATES = {"activate": (True, "Plan activated"), "deactivate": (False, "Plan deactivated")}
PLAN_STATES["archive"] = (False, "Plan archived")


def set_plan_state(plan_id: str, action: str) -> dict[str, Any]:
    """`activate`, `deactivate` or `archive` (both of the latter stop new checkouts; subscriptions renew on)."""
    active, message = PLAN_STATES[action]
    plan = _fresh(PlanItem, plan_id, "Plan")
    plan.is_active = active
    writes.update_plan(plan, plan.slug, clock_now())
    return {"plan": _plan_answer(plan_id), "message": message}


def copy_plan(plan_id: str) -> dict[str, Any]:
    source = repository.reference().plan(plan_id)
    if source is None:
        raise _gone("Plan")
    moment = clock_now()
    copy_id = new_id()
    copy = PlanItem(
        *PlanItem.key(copy_id),
        id=copy_id,
        name=f"{source.name} (copy)",
        slug=f"{source.slug}-copy-{moment:%Y%m%d%H%M%S}",
        description=source.description,
        price=source.price,
        currency=source.currency,
        billing_period=source.billing_period,
        features=source.features,
        trial_days=source.trial_days,
        is_active=True,
        sort_order=source.sort_order,
        category_ids=[],
    )
    try:
        writes.create_plan(copy, moment)
    except writes.ValueTaken as taken:  # a second copy within the same second
        raise Conflict(RETRY) from taken
    return {"plan": _plan_answer(copy_id), "plan_id": copy_id, "message": "Plan copied successfully"}


def subscriber_count(plan_id: str) -> dict[str, Any]:
    if repository.reference().plan(plan_id) is None:
        raise _gone("Plan")
    counts = subscriptions.plan_subscribers(plan_id)
    by_status = {status: counts.of(status) if counts is not None else 0 for status in COUNTED}
    return {"plan_id": plan_id, "count": sum(by_status.values()), "by_status": by_status}


# --- categories (§5) --------------------------------------------------------------------------------------------


def _category_answer(ref: Reference, item: CategoryItem, children: list[dict[str, Any]]) -> dict[str, Any]:
    attached = sum(1 for plan in ref.plans if item.id in plan.category_ids)
    return serializers.category(item, attached, children)


def list_categories(fmt: str) -> dict[str, Any]:
    ref = repository.reference()
    categories = _ordered(ref.categories)
    if fmt == "flat":
        return {"categories": [_category_answer(ref, c, []) for c in categories]}
    known = {c.id for c in categories}

    def level(parent_id: str | None) -> list[dict[str, Any]]:
        below = [c for c in categories if c.parent_id == parent_id or (parent_id is None and c.parent_id not in known)]
        return [_category_answer(ref, c, level(c.id)) for c in below]

    return {"categories": level(None)}


def _one_category(category_id: str) -> dict[str, Any]:
    ref = repository.reference()
    item = ref.categories_by_id().get(category_id)
    if item is None:
        raise _gone("Category")
    return _category_answer(ref, item, [])


def get_category(category_id: str) -> dict[str, Any]:
    return {"category": _one_category(category_id)}


def create_category(body: CategoryBody) -> dict[str, Any]:
    ref = repository.reference()
    slug = body.slug or plan_slug(body.name)
    if not slug:
        raise BadRequest("Invalid slug")
    if body.parent_id is not None and body.parent_id not in ref.categories_by_id():
        raise BadRequest(f"Parent category {body.parent_id} not found")
    category_id = new_id()
    category = CategoryItem(
        *CategoryItem.key(category_id),
        id=category_id,
        name=body.name,
        slug=slug,
        description=body.description,
        parent_id=body.parent_id,
        is_single=True if body.is_single is None else body.is_single,
        sort_order=body.sort_order or 0,
    )
    _committed(lambda: writes.create_category(category, clock_now()), _category_taken(slug))
    return {"category": _one_category(category_id), "message": "Category created successfully"}


def _check_parent(ref: Reference, category_id: str, parent_id: str) -> None:
    if parent_id == category_id:
        raise BadRequest("Category cannot be its own parent")
    by_id = ref.categories_by_id()
    if parent_id not in by_id:
        raise BadRequest(f"Parent category {parent_id} not found")
    ancestor: str | None = parent_id
    seen: set[str] = set()
    while ancestor is not None and ancestor not in seen:
        if ancestor == category_id:
            raise BadRequest("Category cannot be moved under its own descendant")
        seen.add(ancestor)
        above = by_id.get(ancestor)
        ancestor = above.parent_id if above is not None else None


def update_category(category_id: str, body: CategoryChanges) -> dict[str, Any]:
    category = _fresh(CategoryItem, category_id, "Category")
    sent = body.model_fields_set
    if "parent_id" in sent:
        if body.parent_id is not None:
            _check_parent(repository.reference(), category_id, body.parent_id)
        category.parent_id = body.parent_id
    slug_before = category.slug
    _apply(category, body, ("name", "slug", "is_single", "sort_order"))
    _committed(lambda: writes.update_category(category, slug_before, clock_now()), _category_taken(category.slug))
    return {"category": _one_category(category_id)}


ROOT = "root"


def _category_taken(slug: str) -> str:
    return f"Category with slug '{slug}' already exists"


def delete_category(category_id: str) -> dict[str, Any]:
    category = _fresh(CategoryItem, category_id, "Category")
    if category.slug == ROOT:
        raise BadRequest("Cannot delete root category")
    ref = repository.reference()
    if any(c.parent_id == category_id for c in ref.categories):
        raise BadRequest("Cannot delete category with children. Delete children first.")
    plans = writes.fresh_many(PlanItem, [p.id for p in ref.plans if category_id in p.category_ids])
    for plan in plans:
        plan.category_ids = [c for c in plan.category_ids if c != category_id]
    writes.delete_category(category, plans, clock_now())
    return {"message": "Category deleted successfully"}


def attach_plans(category_id: str, plan_ids: list[str], attach: bool) -> dict[str, Any]:
    """Attach (or detach) the plans; idempotent: plans already so are left alone."""
    ref = repository.reference()
    if category_id not in ref.categories_by_id():
        raise BadRequest("Category not found")
    missing = next((p for p in plan_ids if ref.plan(p) is None), None)
    if missing is not None:
        raise BadRequest(f"Plan {missing} not found")
    plans = writes.fresh_many(PlanItem, plan_ids)
    if len(plans) != len(plan_ids):
        raise Conflict(RETRY)  # a plan was deleted since the snapshot was read
    changed = [plan for plan in plans if (category_id in plan.category_ids) != attach]
    for plan in changed:
        ids = [c for c in plan.category_ids if c != category_id]
        plan.category_ids = [*ids, category_id] if attach else ids
    if changed:
        writes.update_plans(changed, clock_now())
    return {"category": _one_category(category_id)}


# --- add-ons (§6) -----------------------------------------------------------------------------------------------


def _addon_answer(ref: Reference, item: AddonItem) -> dict[str, Any]:
    return serializers.addon(item, Currencies.of(ref.currencies), {p.id: p for p in ref.plans})


def _one_addon(addon_id: str) -> dict[str, Any]:
    ref = repository.reference()
    item = ref.addon(addon_id)
    if item is None:
        raise _gone("Add-on")
    return _addon_answer(ref, item)


def list_addons(with_inactive: bool) -> list[dict[str, Any]]:
    ref = repository.reference()
    return [_addon_answer(ref, a) for a in _ordered(a for a in ref.addons if a.is_active or with_inactive)]


def get_addon(addon_id: str) -> dict[str, Any]:
    return {"addon": _one_addon(addon_id)}


def get_addon_by_slug(slug: str) -> dict[str, Any]:
    ref = repository.reference()
    item = next((a for a in ref.addons if a.slug == slug), None)
    if item is None:
        raise _gone("Add-on")
    return {"addon": _addon_answer(ref, item)}


def _check_plans(ref: Reference, plan_ids: list[str]) -> None:
    if any(ref.plan(p) is None for p in plan_ids):
        raise BadRequest("One or more tariff plan IDs are invalid")


def create_addon(body: AddonBody) -> dict[str, Any]:
    ref = repository.reference()
    currency = _currency(ref, body.currency)
    plan_ids = body.tarif_plan_ids or []
    _check_plans(ref, plan_ids)
    slug = body.slug or addon_slug(body.name)
    if not slug:
        raise BadRequest("Invalid slug")
    addon_id = new_id()
    addon = AddonItem(
        *AddonItem.key(addon_id),
        id=addon_id,
        name=body.name,
        slug=slug,
        description=body.description,
        price=body.price,
        currency=currency,
        billing_period=body.billing_period or "MONTHLY",
        config=body.config or {},
        is_active=True if body.is_active is None else body.is_active,
        sort_order=body.sort_order or 0,
        plan_ids=plan_ids,
    )
    _check_price(ref, addon)
    _committed(lambda: writes.create_addon(addon, clock_now()), SLUG_TAKEN)
    return {"addon": _one_addon(addon_id), "message": "Add-on created successfully"}


def update_addon(addon_id: str, body: AddonChanges) -> dict[str, Any]:
    addon = _fresh(AddonItem, addon_id, "Add-on")
    ref = repository.reference()
    sent = body.model_fields_set
    if "currency" in sent:
        addon.currency = _currency(ref, body.currency)
    if body.tarif_plan_ids is not None:
        _check_plans(ref, body.tarif_plan_ids)
        addon.plan_ids = body.tarif_plan_ids
    slug_before = addon.slug
    _apply(addon, body, ("name", "price", "billing_period", "slug", "config", "is_active", "sort_order"))
    _check_price(ref, addon)
    _committed(lambda: writes.update_addon(addon, slug_before, clock_now()), SLUG_TAKEN)
    return {"addon": _one_addon(addon_id)}


def delete_addon(addon_id: str) -> dict[str, Any]:
    addon = _fresh(AddonItem, addon_id, "Add-on")
    try:
        writes.delete_addon(addon, clock_now())
    except writes.StillSubscribed as held:
        raise BadRequest("Cannot delete add-on with active subscriptions. Deactivate instead.") from held
    return {"message": "Add-on deleted successfully"}


def set_addon_state(addon_id: str, active: bool) -> dict[str, Any]:
    addon = _fresh(AddonItem, addon_id, "Add-on")
    addon.is_active = active
    writes.update_addon(addon, addon.slug, clock_now())
    return {"addon": _one_addon(addon_id), "message": "Add-on activated" if active else "Add-on deactivated"}


# --- token bundles (§7) -----------------------------------------------------------------------------------------


def _one_bundle(bundle_id: str) -> dict[str, Any]:
    ref = repository.reference()
    item = ref.token_bundle(bundle_id)
    if item is None:
        raise _gone("Token bundle")
    return serializers.token_bundle(item, Currencies.of(ref.currencies))


def list_bundles(with_inactive: bool) -> list[dict[str, Any]]:
    ref = repository.reference()
    currencies = Currencies.of(ref.currencies)
    bundles = _ordered(b for b in ref.token_bundles if b.is_active or with_inactive)
    return [serializers.token_bundle(b, currencies) for b in bundles]


def get_bundle(bundle_id: str) -> dict[str, Any]:
    return {"bundle": _one_bundle(bundle_id)}


def create_bundle(body: BundleBody) -> dict[str, Any]:
    ref = repository.reference()
    currency = _currency(ref, body.currency)
    bundle_id = new_id()
    bundle = TokenBundleItem(
        *TokenBundleItem.key(bundle_id),
        id=bundle_id,
        name=body.name,
        description=body.description,
        token_amount=body.token_amount,
        price=body.price,
        currency=currency,
        is_active=True if body.is_active is None else body.is_active,
        sort_order=body.sort_order or 0,
    )
    _check_price(ref, bundle)
    writes.create_bundle(bundle, clock_now())
    return {"bundle": _one_bundle(bundle_id), "message": "Token bundle created successfully"}


def _fresh_bundle(bundle_id: str) -> TokenBundleItem:
    bundle = _fresh(TokenBundleItem, bundle_id, "Token bundle")
    return bundle


def update_bundle(bundle_id: str, body: BundleChanges) -> dict[str, Any]:
    bundle = _fresh_bundle(bundle_id)
    ref = repository.reference()
    if "currency" in body.model_fields_set:
        bundle.currency = _currency(ref, body.currency)
    _apply(bundle, body, ("name", "token_amount", "price", "is_active", "sort_order"))
    _check_price(ref, bundle)
    writes.update_bundle(bundle, clock_now())
    return {"bundle": _one_bundle(bundle_id)}


def delete_bundle(bundle_id: str) -> dict[str, Any]:
    writes.delete_bundle(_fresh_bundle(bundle_id), clock_now())
    return {"message": "Token bundle deleted successfully"}


def set_bundle_state(bundle_id: str, active: bool) -> dict[str, Any]:
    bundle = _fresh_bundle(bundle_id)
    bundle.is_active = active
    writes.update_bundle(bundle, clock_now())
    message = "Token bundle activated" if active else "Token bundle deactivated"
    return {"bundle": _one_bundle(bundle_id), "message": message}
