"""The signed-in user's profile and billing details (contract auth.md §4)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from chalicelib.core import clock
from chalicelib.core.errors import ValidationFailed
from chalicelib.events.catalog import UserUpdated
from chalicelib.events.envelope import Actor, Event
from chalicelib.events.outbox import record
from chalicelib.store.retry import retrying
from chalicelib.store.transactions import Transaction
from chalicelib.users import repository, serializers
from chalicelib.users.models import DETAIL_FIELDS, UserDetailsItem, UserItem

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal
    from chalicelib.users.schemas import DetailsBody

CONFIG_MAX_BYTES = 4096
ATTEMPTS = 8  # the user's own writes rarely race; when they do (two tabs), give the loser room


def profile(principal: Principal) -> dict[str, Any]:
    stored = repository.find_details(principal.user_id)
    return {
        "user": serializers.profile_user(principal.user),
        "details": serializers.details(stored) if stored else None,
    }


def get_details(principal: Principal) -> dict[str, Any]:
    stored = repository.find_details(principal.user_id)
    return serializers.details(stored) if stored else serializers.empty_details(principal.user_id)


def update_details(principal: Principal, request: DetailsBody) -> dict[str, Any]:
    """Apply the fields the request names (the record is created on the first write), in one transaction with
    the login name they make and `user.updated`; a write that lost a race is decided again on what won."""
    given = request.model_fields_set
    if "country" in given and request.country is not None:
        _require_known_country(request.country)

    def write() -> dict[str, Any]:
        user = repository.find_user(principal.user_id) or principal.user
        stored = repository.find_details(principal.user_id)
        return _write_details(user, stored, request, given)

    return retrying(write, tries=ATTEMPTS)


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
    user: UserItem, stored: UserDetailsItem | None, request: DetailsBody, given: set[str]
) -> dict[str, Any]:
    now = clock.now()
    creating = stored is None
    if stored is None:
        stored = repository.new_details(user.id, now)
    changed: list[str] = []
    for name in DETAIL_FIELDS:
        if name in given and getattr(stored, name) != getattr(request, name):
            setattr(stored, name, getattr(request, name))
            changed.append(name)
    if "config" in given and request.config is not None:
        merged = _merged_config(stored.config or {}, request.config)
        if merged != (stored.config or {}):
            stored.config = merged
            changed.append("config")
    elif "config" in given and request.config is None and stored.config:
        stored.config = {}
        changed.append("config")
    if not changed and not creating:
        return serializers.details(stored)
    stored.updated_at = now
    tx = Transaction()
    repository.save_details(tx, stored)
    new_name = stored.full_name()
    if new_name != user.display_name:
        repository.rename(tx, user, new_name, now)
    record(tx, Event(UserUpdated(user_id=user.id, changed_fields=changed), Actor.user(user.id)))
    tx.commit()
    return serializers.details(stored)
