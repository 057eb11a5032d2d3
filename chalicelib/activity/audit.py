"""Audit entries written at the edge: every admin write (admin.md) and every request made with an impersonation
token (auth.md §1.4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.activity import repository
from chalicelib.activity.models import ActivityItem
from chalicelib.core import clock

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal


def impersonated_request(principal: Principal, method: str, path: str) -> ActivityItem:
    entry = ActivityItem.new(
        type="admin.impersonated_request",
        source="admin",
        description=f"{method} {path} as {principal.user.email}",
        actor=("admin", principal.impersonator_id, None),
        subject=("user", principal.user_id),
        now=clock.now(),
        data={"method": method, "path": path, "admin_id": principal.impersonator_id, "user_id": principal.user_id},
    )
    repository.add(entry)
    return entry


def admin_request(
    principal: Principal, method: str, path: str, action: str, targets: dict[str, str], fields: list[str]
) -> ActivityItem:
    """One admin write that succeeded: `admin.<action>` (the route's view), the path's ids as its targets, the
    names of the body's fields (values are never kept). The subject is the first id of the path."""
    subject_id = next(iter(targets.values()), None)
    subject_kind = next(iter(targets), "").removesuffix("_id") or "admin"
    entry = ActivityItem.new(
        type=f"admin.{action}",
        source="admin",
        description=f"{method} {path}",
        actor=("admin", principal.user_id, principal.user.email),
        subject=(subject_kind, subject_id) if subject_id else None,
        now=clock.now(),
        data={"method": method, "path": path, "targets": targets, "fields": fields},
    )
    repository.add(entry)
    return entry
