"""Audit entries written at the edge (auth.md §1.4: every request made with an impersonation token)."""

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
