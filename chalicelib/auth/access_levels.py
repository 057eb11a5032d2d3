"""Access levels behind the login user object (auth.md §2.1) and admin permissions (README §1.3.1)."""

from __future__ import annotations

from typing import Any

from chalicelib.catalog import repository
from chalicelib.catalog.models import AccessLevelItem, UserAccessLevelItem
from chalicelib.users.models import UserItem

# The user access level every registration gets (auth.md §3.1). The contract names an admin setting
# `default_user_access_level` for it, but admin.md §14 lists no such key and the settings keep only listed keys,
# so the slug is fixed here until the setting exists.
DEFAULT_USER_ACCESS_LEVEL = "logged-in"


def default_user_level() -> UserAccessLevelItem | None:
    """The level a new account is granted; None on a stage whose catalog lacks it (not seeded yet)."""
    levels = repository.reference().user_access_levels
    return next((level for level in levels if level.slug == DEFAULT_USER_ACCESS_LEVEL), None)


def admin_levels(user: UserItem) -> list[AccessLevelItem]:
    return repository.access_levels(list(user.access_level_ids), [])[0]


def user_levels(user: UserItem) -> list[AccessLevelItem]:
    return repository.access_levels([], list(user.user_access_level_ids))[1]


def effective_admin_permissions(user: UserItem, levels: list[AccessLevelItem] | None = None) -> list[str]:
    """`SUPER_ADMIN` and `ADMIN` without roles → `["*"]`; otherwise the union of the roles' permissions."""
    if user.role == "SUPER_ADMIN":
        return ["*"]
    levels = admin_levels(user) if levels is None else levels
    if user.role == "ADMIN" and not levels:
        return ["*"]
    return _union(levels)


def _union(levels: list[AccessLevelItem]) -> list[str]:
    seen: dict[str, None] = {}
    for level in levels:
        for permission in level.permissions:
            seen.setdefault(permission, None)
    return list(seen)


def _summary(level: AccessLevelItem) -> dict[str, Any]:
    return {"id": level.id, "slug": level.slug, "name": level.name}


def login_user(user: UserItem) -> dict[str, Any]:
    """The login user object of auth.md §2.1 (access levels fetched in one batch)."""
    admin, member = repository.access_levels(list(user.access_level_ids), list(user.user_access_level_ids))
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "is_admin": user.is_admin,
        "access_levels": [_summary(level) for level in admin],
        "permissions": effective_admin_permissions(user, admin),
        "user_access_levels": [_summary(level) for level in member],
        "user_permissions": _union(member),
    }
