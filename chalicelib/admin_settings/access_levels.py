"""Admin access levels (roles) and user access levels (admin.md §16): CRUD with system levels protected,
permissions checked against `chalicelib.auth.permissions`, holders and their counts (`chalicelib.access.members`),
assignment on users, export and import.

Levels are catalog records written through `settings_writes.change`; a user's level lists are written on the
user's version (`chalicelib.access.repository`), with the holdings moved in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from chalicelib.access import members
from chalicelib.access import repository as user_levels
from chalicelib.admin_settings import serializers
from chalicelib.admin_settings.schemas import ExportBody, ImportBody, LevelBody, NewLevelBody
from chalicelib.admin_users.service import admin_user
from chalicelib.auth.permissions import ADMIN_PERMISSIONS, ALL_ADMIN_KEYS, ALL_USER_KEYS, USER_PERMISSIONS
from chalicelib.catalog import repository
from chalicelib.catalog.models import AccessLevelItem, UserAccessLevelItem
from chalicelib.catalog.repository import Reference
from chalicelib.catalog.settings_writes import CatalogChange, change
from chalicelib.core import clock
from chalicelib.core.errors import BadRequest, NotFound
from chalicelib.core.ids import new_id
from chalicelib.core.paging import Page, PageRequest
from chalicelib.events.envelope import Actor
from chalicelib.store.reads import batch_get
from chalicelib.store.retry import retrying
from chalicelib.users.models import UserItem, user_key
from chalicelib.users.repository import find_user

ATTEMPTS = 8
ALL_HOLDERS = 1000  # a page of holders read when a deleted level is taken from its users


@dataclass(frozen=True)
class Kind:
    """Admin access levels or user access levels: their record, snapshot list, guard and permission keys."""

    model: type[AccessLevelItem]
    guard: str
    keys: frozenset[str]
    member_level: bool
    export_key: str

    def levels(self, ref: Reference) -> list[AccessLevelItem]:
        if self.member_level:
            return list(ref.user_access_levels)
        return list(ref.admin_access_levels)

    def level(self, ref: Reference, level_id: str) -> AccessLevelItem:
        found = next((level for level in self.levels(ref) if level.id == level_id), None)
        if found is None:
            raise NotFound("Access level not found")
        return found


ADMIN = Kind(AccessLevelItem, "ACCESS_LEVEL_SLUG", ALL_ADMIN_KEYS, False, "roles")
MEMBER = Kind(UserAccessLevelItem, "USER_ACCESS_LEVEL_SLUG", ALL_USER_KEYS, True, "levels")


def _slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:100] or "level"


def check_permissions(permissions: Collection[str], keys: frozenset[str]) -> None:
    """Each grant is a key, `*`, or `prefix.*` naming the start of at least one key."""
    for grant in permissions:
        known = grant == "*" or grant in keys
        if grant.endswith(".*"):
            known = any(key.startswith(grant[:-1]) for key in keys)
        if not known:
            raise BadRequest(f"Unknown permission: {grant}")


def _answer(kind: Kind, level: AccessLevelItem, count: int) -> dict[str, Any]:
    return serializers.access_level(level, count, member_level=kind.member_level)


def list_levels(kind: Kind) -> dict[str, Any]:
    levels = sorted(kind.levels(repository.reference()), key=lambda level: level.name)
    counts = members.counts([level.id for level in levels])
    return {"levels": [_answer(kind, level, counts[level.id]) for level in levels]}


def get_level(kind: Kind, level_id: str) -> dict[str, Any]:
    level = kind.level(repository.reference(), level_id)
    return {"level": _answer(kind, level, members.counts([level.id])[level.id])}


def _check_plan(kind: Kind, ref: Reference, values: dict[str, Any]) -> None:
    slug = values.get("linked_plan_slug")
    if kind.member_level and slug is not None and not any(plan.slug == slug for plan in ref.plans):
        raise BadRequest(f"Plan '{slug}' not found")


def _claim_slug(ch: CatalogChange, kind: Kind, slug: str, owner: str) -> None:
    taken = f"Access level with slug '{slug}' already exists"
    if any(level.slug == slug and level.id != owner for level in kind.levels(ch.ref)):
        raise BadRequest(taken)
    ch.claim(kind.guard, slug, owner, taken)


def _fields(kind: Kind, values: dict[str, Any]) -> dict[str, Any]:
    if not kind.member_level:
        values.pop("linked_plan_slug", None)
    return values


def _create(ch: CatalogChange, kind: Kind, values: dict[str, Any]) -> AccessLevelItem:
    level_id = new_id()
    slug = values.get("slug") or _slugify(values["name"])
    _claim_slug(ch, kind, slug, level_id)
    check_permissions(values.get("permissions", []), kind.keys)
    _check_plan(kind, ch.ref, values)
    fields = {**_fields(kind, dict(values)), "slug": slug, "is_system": False}
    return ch.new(kind.model, level_id, id=level_id, **fields)


def create_level(actor: Actor, kind: Kind, body: NewLevelBody) -> dict[str, Any]:
    values = {name: getattr(body, name) for name in LevelBody.model_fields}
    return change(actor, lambda ch: {"level": _answer(kind, _create(ch, kind, values), 0)})


def _update(ch: CatalogChange, kind: Kind, level: AccessLevelItem, sent: dict[str, Any]) -> AccessLevelItem:
    sent = _fields(kind, dict(sent))
    if level.is_system and (
        sent.get("slug", level.slug) != level.slug
        or list(sent.get("permissions", level.permissions)) != list(level.permissions)
    ):
        raise BadRequest("System access levels cannot be modified")
    if sent.get("slug") is not None and sent["slug"] != level.slug:
        _claim_slug(ch, kind, sent["slug"], level.id)
        ch.release(kind.guard, level.slug)
    sent = {name: value for name, value in sent.items() if not (name == "slug" and value is None)}
    check_permissions(sent.get("permissions", []), kind.keys)
    _check_plan(kind, ch.ref, sent)
    return ch.save(level, **sent)


def update_level(actor: Actor, kind: Kind, level_id: str, body: LevelBody) -> dict[str, Any]:
    sent = body.sent()

    def apply(ch: CatalogChange) -> dict[str, Any]:
        saved = _update(ch, kind, kind.level(ch.ref, level_id), sent)
        return {"level": _answer(kind, saved, members.counts([level_id])[level_id])}

    return change(actor, apply)


def delete_level(actor: Actor, kind: Kind, level_id: str) -> dict[str, Any]:
    def apply(ch: CatalogChange) -> None:
        level = kind.level(ch.ref, level_id)
        if level.is_system:
            raise BadRequest("System access levels cannot be deleted")
        ch.remove(level)
        ch.release(kind.guard, level.slug)

    change(actor, apply)
    after: dict[str, Any] | None = None
    while True:  # the level is gone; take it from its holders, a page at a time
        page = members.holders(level_id, PageRequest(ALL_HOLDERS, 0, after))
        for user_id in page.items:
            if find_user(user_id) is None:
                members.forget(level_id, user_id)  # a holding left by an account deleted without it
                continue
            _set_levels(kind, user_id, lambda held: [i for i in held if i != level_id])
        if page.next_key is None:
            return {"message": "Access level deleted"}
        after = page.next_key


def level_users(kind: Kind, level_id: str, request: PageRequest) -> Page[dict[str, Any]]:
    kind.level(repository.reference(), level_id)
    page = members.holders(level_id, request)
    found = batch_get([(UserItem, *user_key(user_id)) for user_id in page.items]) if page.items else []
    rows = [
        {"id": user.id, "email": user.email, "name": user.display_name or ""}
        for user in found
        if isinstance(user, UserItem)
    ]
    return Page(rows, page.total, page.offset, page.limit, page.next_key)


def permissions() -> dict[str, Any]:
    groups = {name: [{"key": k, "description": d} for k, d in keys] for name, keys in ADMIN_PERMISSIONS.items()}
    return {"permissions": groups}


def user_permissions() -> dict[str, Any]:
    return {"permissions": {"core": [{"key": k, "description": d} for k, d in USER_PERMISSIONS]}}


def level_content(level_id: str) -> dict[str, Any]:
    MEMBER.level(repository.reference(), level_id)
    return {"pages": [], "widgets": []}  # no CMS plugin in this product (admin.md §16)


# --- holders -----------------------------------------------------------------------------------------------------


def _set_levels(kind: Kind, user_id: str, decide: Callable[[list[str]], list[str]]) -> UserItem:
    """Write the user's level list of `kind` as `decide` makes it from the one read, on the user's version."""

    def step() -> UserItem:
        user = find_user(user_id)
        if user is None:
            raise NotFound("User not found")
        held = list(user.user_access_level_ids if kind.member_level else user.access_level_ids)
        wanted = decide(held)
        if wanted == held:
            return user
        from chalicelib.store.transactions import Transaction

        tx = Transaction()
        write = user_levels.set_user_levels if kind.member_level else user_levels.set_admin_levels
        write(tx, user, wanted, clock.now())
        tx.commit()
        return find_user(user_id) or user

    return retrying(step, tries=ATTEMPTS)


def assign(kind: Kind, user_id: str, level_id: str) -> dict[str, Any]:
    if find_user(user_id) is None:
        raise NotFound("User not found")
    kind.level(repository.reference(), level_id)
    user = _set_levels(kind, user_id, lambda held: held if level_id in held else [*held, level_id])
    message = "User access level assigned" if kind.member_level else "Access level assigned"
    return {"user": admin_user(user), "message": message}


def remove(kind: Kind, user_id: str, level_id: str) -> dict[str, Any]:
    found = find_user(user_id)
    if found is None:
        raise NotFound("User not found")
    if level_id not in (found.user_access_level_ids if kind.member_level else found.access_level_ids):
        raise NotFound("Access level not found")
    user = _set_levels(kind, user_id, lambda held: [i for i in held if i != level_id])
    message = "User access level removed" if kind.member_level else "Access level removed"
    return {"user": admin_user(user), "message": message}


# --- export and import -------------------------------------------------------------------------------------------


def _exported(kind: Kind, level: AccessLevelItem) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": level.name,
        "slug": level.slug,
        "description": level.description,
        "permissions": list(level.permissions),
    }
    if kind.member_level:
        entry["linked_plan_slug"] = level.linked_plan_slug
    return entry


def export_levels(kind: Kind, body: ExportBody) -> dict[str, Any]:
    levels = sorted(kind.levels(repository.reference()), key=lambda level: level.name)
    chosen = [level for level in levels if body.ids is None or level.id in body.ids]
    return {"version": 1, kind.export_key: [_exported(kind, level) for level in chosen]}


def _entry(kind: Kind, raw: dict[str, Any]) -> dict[str, Any] | None:
    """An import entry as level fields, or None when it cannot be one (skipped)."""
    try:
        parsed = LevelBody.model_validate(raw)
    except ValueError:
        return None
    values = parsed.sent()
    if not values.get("name") or not values.get("slug"):
        return None
    return values


def import_levels(actor: Actor, kind: Kind, body: ImportBody) -> dict[str, Any]:
    entries = body.entries(kind.export_key)
    for raw in entries:
        grants = raw.get("permissions", [])
        check_permissions([g for g in grants if isinstance(g, str)] if isinstance(grants, list) else [], kind.keys)

    def apply(ch: CatalogChange) -> dict[str, Any]:
        imported = skipped = 0
        by_slug = {level.slug: level for level in kind.levels(ch.ref)}
        seen: set[str] = set()
        for raw in entries:
            values = _entry(kind, raw)
            existing = by_slug.get(values["slug"]) if values else None
            if values is None or values["slug"] in seen or (existing is not None and existing.is_system):
                skipped += 1
                continue
            seen.add(values["slug"])
            if existing is None:
                by_slug[values["slug"]] = _create(ch, kind, values)
            else:
                _update(ch, kind, existing, values)
            imported += 1
        return {"imported": imported, "skipped": skipped}

    return change(actor, apply)
