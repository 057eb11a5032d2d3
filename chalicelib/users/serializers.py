"""JSON shapes of users (contract auth.md §2.2, §2.5)."""

from __future__ import annotations

from typing import Any

from chalicelib.core.money import as_number
from chalicelib.core.times import iso
from chalicelib.users.models import DETAIL_FIELDS, UserDetailsItem, UserItem


def profile_user(user: UserItem) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "status": user.status,
        "role": user.role,
        "created_at": iso(user.created_at),
        "updated_at": iso(user.updated_at),
    }


def details(item: UserDetailsItem, *, admin: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"id": item.id, "user_id": item.user_id}
    for name in DETAIL_FIELDS:
        body[name] = getattr(item, name)
    body["created_at"] = iso(item.created_at)
    body["updated_at"] = iso(item.updated_at)
    if admin:
        body["balance"] = as_number(item.balance)
        body["config"] = item.config or {}
    return body


def empty_details(user_id: str) -> dict[str, Any]:
    """auth.md §4.2: the keys of a stored record, all null except `user_id`."""
    body: dict[str, Any] = {"id": None, "user_id": user_id}
    body.update(dict.fromkeys(DETAIL_FIELDS))
    body["created_at"] = None
    body["updated_at"] = None
    return body
