"""Reads and writes of the stored e-mail templates; the only code that builds their keys and conditions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.core.ids import new_id
from chalicelib.email_templates.models import PARTITION, EmailTemplateItem
from chalicelib.store.errors import is_condition_failure, save_if
from chalicelib.store.transactions import Transaction


class TemplateExists(Exception):
    """The event type has a stored template already."""


def all_templates() -> list[EmailTemplateItem]:
    """Every stored template, by event type (one Query of a partition of at most one item per event type)."""
    return [
        item for item in EmailTemplateItem.query(PARTITION, consistent_read=True) if isinstance(item, EmailTemplateItem)
    ]


def find(template_id: str) -> EmailTemplateItem | None:
    return next((item for item in all_templates() if item.id == template_id), None)


def for_event(event_type: str) -> EmailTemplateItem | None:
    """The stored template of an event type (one consistent GetItem), active or not."""
    try:
        return EmailTemplateItem.get(*EmailTemplateItem.key(event_type), consistent_read=True)
    except DoesNotExist:
        return None


def new_template(event_type: str, fields: Mapping[str, Any], now: datetime) -> EmailTemplateItem:
    """An unsaved template of `event_type` with `fields` (the editable ones; the rest take their defaults)."""
    return EmailTemplateItem(
        *EmailTemplateItem.key(event_type),
        id=new_id(),
        event_type=event_type,
        created_at=now,
        updated_at=now,
        **dict(fields),
    )


def create(item: EmailTemplateItem) -> None:
    """Store a new template; `TemplateExists` when its event type has one (also when another request won a race)."""
    if save_if(item, EmailTemplateItem.pk.does_not_exist()) is None:
        raise TemplateExists(item.event_type)


def update(item: EmailTemplateItem, changes: Mapping[str, Any], now: datetime) -> EmailTemplateItem | None:
    """Set `changes` on the stored template `item` names (only those fields: a concurrent change of another field is
    kept); None when it was deleted — or deleted and created anew — in the meantime."""
    try:
        item.update(actions=_set(changes, now), condition=EmailTemplateItem.id == item.id)
    except UpdateError as exc:
        if is_condition_failure(exc):
            return None
        raise
    return item


def delete(item: EmailTemplateItem) -> bool:
    """Delete the stored template; False when it is no longer there (with this id)."""
    try:
        item.delete(condition=EmailTemplateItem.id == item.id)
    except DeleteError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def upsert_all(
    created: Sequence[EmailTemplateItem], updated: Sequence[tuple[EmailTemplateItem, Mapping[str, Any]]], now: datetime
) -> None:
    """Create and update templates in one transaction: all of them are written, or none. A template created or
    deleted by another request since they were read refuses the transaction (`TransactionCancelled`)."""
    tx = Transaction()
    for item in created:
        tx.create(item, label=f"create {item.event_type}")
    for item, changes in updated:
        tx.update(item, _set(changes, now), EmailTemplateItem.id == item.id, label=f"update {item.event_type}")
    tx.commit()


def _set(changes: Mapping[str, Any], now: datetime) -> list[Action]:
    """SET of the changed fields and `updated_at`."""
    return [
        *(getattr(EmailTemplateItem, name).set(value) for name, value in changes.items()),
        EmailTemplateItem.updated_at.set(now),
    ]
