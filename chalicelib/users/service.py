"""The signed-in user's profile and billing details (contract auth.md §4)."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.auth.principal import Principal
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.core.validation import parse_body
from chalicelib.events.catalog import UserUpdated
from chalicelib.events.envelope import Actor, Event
from chalicelib.events.outbox import record
from chalicelib.store.retry import attempts
from chalicelib.store.transactions import Transaction, TransactionCancelled
from chalicelib.users import serializers
from chalicelib.users.models import DETAIL_FIELDS, UserDetailsItem, UserItem, details_key
from chalicelib.users.repository import find_details, find_user
from chalicelib.users.schemas import DetailsBody

CONFIG_MAX_BYTES = 4096
ATTEMPTS = 3


def profile(principal: Principal) -> dict[str, Any]:
    stored = find_details(principal.user_id)
    return {
        "user": serializers.profile_user(principal.user),
        "details": serializers.details(stored) if stored else None,
    }


def get_details(principal: Principal) -> dict[str, Any]:
    stored = find_details(principal.user_id)
    return serializers.details(stored) if stored else serializers.empty_details(principal.user_id)


def update_details(principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    data = parse_body(DetailsBody, body)
    given = data.model_fields_set
    if "country" in given and data.country is not None:
        _require_known_country(data.country)
    for _ in attempts(ATTEMPTS):
        user = find_user(principal.user_id) or principal.user
        stored = find_details(principal.user_id)
        try:
            return _write_details(user, stored, data, given)
        except TransactionCancelled as exc:
            if exc.failed or exc.conflict:
                continue
            raise
    raise Conflict("Concurrent modification, please retry")


def _require_known_country(code: str) -> None:
    from chalicelib.catalog.repository import find_country

    if find_country(code) is None:
        raise ValidationFailed({"country": ["Unknown country code"]})


def _merged_config(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(json.dumps(merged, separators=(",", ":"), ensure_ascii=False).encode()) > CONFIG_MAX_BYTES:
        raise ValidationFailed({"config": ["Config too large"]})
    return merged


def _write_details(
    user: UserItem, stored: UserDetailsItem | None, data: DetailsBody, given: set[str]
) -> dict[str, Any]:
    now = clock.now()
    creating = stored is None
    if stored is None:
        pk, sk = details_key(user.id)
        stored = UserDetailsItem(pk=pk, sk=sk, id=new_id(), user_id=user.id, created_at=now, updated_at=now)
    changed: list[str] = []
    for name in DETAIL_FIELDS:
        if name in given and getattr(stored, name) != getattr(data, name):
            setattr(stored, name, getattr(data, name))
            changed.append(name)
    if "config" in given and data.config is not None:
        merged = _merged_config(stored.config or {}, data.config)
        if merged != (stored.config or {}):
            stored.config = merged
            changed.append("config")
    elif "config" in given and data.config is None and stored.config:
        stored.config = {}
        changed.append("config")
    if not changed and not creating:
        return serializers.details(stored)
    stored.updated_at = now
    tx = Transaction()
    tx.put(stored, label="details")
    new_name = stored.full_name()
    if new_name != user.display_name:
        rename = UserItem.display_name.set(new_name) if new_name else UserItem.display_name.remove()
        tx.update(user, [rename, UserItem.updated_at.set(now)], label="user")
    record(tx, Event(UserUpdated(user_id=user.id, changed_fields=changed), Actor.user(user.id)))
    tx.commit()
    return serializers.details(stored)
