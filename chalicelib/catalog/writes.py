"""Admin writes of plans, categories, add-ons and token bundles (admin.md §4–§7).

Each write is one transaction: the record put on the condition of the version it was read with (created on the
condition its key is free), the `UNIQUE#<kind>#<value>` guard of its slug claimed with it (a changed slug releases
the old guard and claims the new one), the other records it changes (a plan's categories, an add-on's plans), and
the catalog version bumped (`repository.bump_version`), so every instance's snapshot sees the change on its next
request. A delete that subscriptions forbid is conditional on their counters (`subscriptions.models`), so it cannot
race a checkout: the counter is read in the same transaction that deletes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from pynamodb.exceptions import DoesNotExist

from chalicelib.catalog.models import (
    AddonItem,
    CategoryItem,
    PlanItem,
    Stamped,
    TokenBundleItem,
    UniqueGuardItem,
)
from chalicelib.catalog.repository import bump_version, written
from chalicelib.store.reads import batch_get
from chalicelib.store.transactions import Transaction, TransactionCancelled
from chalicelib.subscriptions.models import (
    LIVE_ADDON_STATUSES,
    AddonSubscribersItem,
    PlanSubscribersItem,
    SubscriberCounts,
)

GUARD = "unique guard"
SUBSCRIBERS = "no subscribers"
PLAN_SLUG = "PLAN_SLUG"
CATEGORY_SLUG = "CATEGORY_SLUG"
ADDON_SLUG = "ADDON_SLUG"


class ValueTaken(Exception):
    """Another record holds the slug."""


class StillSubscribed(Exception):
    """Subscriptions of the plan or add-on exist (their counters are not all zero)."""


@dataclass(frozen=True)
class Slug:
    """The slug a record held when read (`before`, None for a new record) and holds now (`after`, None when the
    record is deleted)."""

    kind: str
    before: str | None
    after: str | None


@dataclass
class CatalogWrite:
    """The parts of one catalog change; `commit` sends them as one transaction."""

    now: datetime
    created: list[Stamped] = field(default_factory=list)
    changed: list[Stamped] = field(default_factory=list)
    deleted: list[Stamped] = field(default_factory=list)
    slugs: list[tuple[Slug, str]] = field(default_factory=list)
    # (counter, owner id, statuses): the owner's subscriber counter must hold none of these (absent or 0)
    unsubscribed: list[tuple[type[SubscriberCounts], str, Sequence[str]]] = field(default_factory=list)

    def commit(self) -> None:
        tx = Transaction()
        for item in self.created:
            item.created_at = item.updated_at = self.now
            tx.create(item, label="created")
        for item in self.changed:
            item.updated_at = self.now
            tx.put(item, label="changed")  # conditional on the version read
        for item in self.deleted:
            tx.delete(item, label="deleted")  # conditional on the version read
        for slug, owner in self.slugs:
            _move_guard(tx, slug, owner)
        for counts, owner, statuses in self.unsubscribed:
            _require_none(tx, counts, owner, statuses)
        bump_version(tx, self.now)
        try:
            tx.commit()
        except TransactionCancelled as refusal:
            if GUARD in refusal.failed:
                raise ValueTaken from refusal
            if SUBSCRIBERS in refusal.failed:
                raise StillSubscribed from refusal
            raise
        written()


def _move_guard(tx: Transaction, slug: Slug, owner_id: str) -> None:
    if slug.before == slug.after:
        return
    if slug.before is not None:
        tx.delete(UniqueGuardItem(*UniqueGuardItem.key(slug.kind, slug.before)), label="released guard")
    if slug.after is not None:
        tx.create(UniqueGuardItem(*UniqueGuardItem.key(slug.kind, slug.after), owner_id=owner_id), label=GUARD)


def _require_none(tx: Transaction, counts: type[SubscriberCounts], owner_id: str, statuses: Sequence[str]) -> None:
    """A condition check that the owner's subscriber counter holds no subscription of `statuses`."""
    condition = None
    for name in statuses:
        attribute = getattr(counts, name)
        zero = attribute.does_not_exist() | (attribute == 0)
        condition = zero if condition is None else condition & zero
    if condition is not None:
        tx.check(counts, *counts.key(owner_id), condition, label=SUBSCRIBERS)


# --- the writes the admin service makes -----------------------------------------------------------------------


def create_plan(plan: PlanItem, now: datetime) -> None:
    CatalogWrite(now, created=[plan], slugs=[(Slug(PLAN_SLUG, None, plan.slug), plan.id)]).commit()


def update_plan(plan: PlanItem, slug_before: str, now: datetime, *, unsubscribed: Sequence[str] = ()) -> None:
    """The plan as changed (its slug guard follows a new slug); `unsubscribed`: statuses none of its subscriptions
    may have (a new billing period needs a plan nobody holds)."""
    write = CatalogWrite(now, changed=[plan], slugs=[(Slug(PLAN_SLUG, slug_before, plan.slug), plan.id)])
    if unsubscribed:
        write.unsubscribed.append((PlanSubscribersItem, plan.id, unsubscribed))
    write.commit()


def delete_plan(plan: PlanItem, addons: Iterable[AddonItem], now: datetime) -> None:
    """The plan, its slug guard and its place in `addons` (changed by the caller), if it never had a
    subscription."""
    CatalogWrite(
        now,
        changed=list(addons),
        deleted=[plan],
        slugs=[(Slug(PLAN_SLUG, plan.slug, None), plan.id)],
        unsubscribed=[(PlanSubscribersItem, plan.id, ("total",))],
    ).commit()


def update_plans(plans: Iterable[PlanItem], now: datetime) -> None:
    """Plans whose categories changed (attach, detach)."""
    CatalogWrite(now, changed=list(plans)).commit()


def create_category(category: CategoryItem, now: datetime) -> None:
    CatalogWrite(now, created=[category], slugs=[(Slug(CATEGORY_SLUG, None, category.slug), category.id)]).commit()


def update_category(category: CategoryItem, slug_before: str, now: datetime) -> None:
    slug = Slug(CATEGORY_SLUG, slug_before, category.slug)
    CatalogWrite(now, changed=[category], slugs=[(slug, category.id)]).commit()


def delete_category(category: CategoryItem, plans: Iterable[PlanItem], now: datetime) -> None:
    """The category, its slug guard, and its place in `plans` (changed by the caller)."""
    slug = Slug(CATEGORY_SLUG, category.slug, None)
    CatalogWrite(now, changed=list(plans), deleted=[category], slugs=[(slug, category.id)]).commit()


def create_addon(addon: AddonItem, now: datetime) -> None:
    CatalogWrite(now, created=[addon], slugs=[(Slug(ADDON_SLUG, None, addon.slug), addon.id)]).commit()


def update_addon(addon: AddonItem, slug_before: str, now: datetime) -> None:
    CatalogWrite(now, changed=[addon], slugs=[(Slug(ADDON_SLUG, slug_before, addon.slug), addon.id)]).commit()


def delete_addon(addon: AddonItem, now: datetime) -> None:
    """The add-on and its slug guard, if no subscription of it is still held."""
    slug = Slug(ADDON_SLUG, addon.slug, None)
    held = (AddonSubscribersItem, addon.id, tuple(sorted(LIVE_ADDON_STATUSES)))
    CatalogWrite(now, deleted=[addon], slugs=[(slug, addon.id)], unsubscribed=[held]).commit()


def create_bundle(bundle: TokenBundleItem, now: datetime) -> None:
    CatalogWrite(now, created=[bundle]).commit()


def update_bundle(bundle: TokenBundleItem, now: datetime) -> None:
    CatalogWrite(now, changed=[bundle]).commit()


def delete_bundle(bundle: TokenBundleItem, now: datetime) -> None:
    CatalogWrite(now, deleted=[bundle]).commit()


# --- reads for writing ------------------------------------------------------------------------------------------

R = TypeVar("R", bound=Stamped)


def fresh(model: type[R], record_id: str) -> R | None:
    """The record as stored now (one consistent GetItem): what a write changes and is conditional on. The shared
    snapshot (`repository.reference()`) is only for deciding; its items are never changed."""
    try:
        return model.get(*model.key(record_id), consistent_read=True)
    except DoesNotExist:
        return None


def fresh_many(model: type[R], record_ids: Iterable[str]) -> list[R]:
    """Records as stored now, in one BatchGetItem; ids of missing records are left out."""
    wanted = list(dict.fromkeys(record_ids))
    found = batch_get([(model, *model.key(i)) for i in wanted]) if wanted else []
    return [item for item in found if isinstance(item, model)]
