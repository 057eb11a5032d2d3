"""Admin writes of the catalog's settings records: payment methods, currencies, taxes, settings, plugins, access
levels, manifests and countries (admin.md §10–§16).

Every change is computed from one snapshot of the catalog and committed on condition that the catalog version is
still the one that snapshot was read at; the same transaction moves the version. So two admin changes never
interleave: the later one finds the version moved, reads again and recomputes (set-default twice at once still
leaves exactly one default, a rescale never mixes two sets of rates, two enabled countries never share a
position). Uniqueness guards (`UNIQUE#<kind>#<value>`) are claimed and released in the same transaction as the
record they make unique.

Items of a snapshot are shared between requests: `edit` hands out a copy to change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pynamodb.models import Model

from chalicelib.catalog import repository
from chalicelib.catalog.models import CatalogVersionItem, Stamped, UniqueGuardItem
from chalicelib.catalog.repository import Reference
from chalicelib.core import clock
from chalicelib.core.errors import BadRequest, Conflict
from chalicelib.core.ids import new_id
from chalicelib.events.envelope import Actor, Event, EventData
from chalicelib.store.transactions import Transaction, TransactionCancelled

T = TypeVar("T")
S = TypeVar("S", bound=Stamped)
ATTEMPTS = 8
VERSION_LABEL = "catalog_version"
CONCURRENT_MODIFICATION = "Concurrent modification, please retry"


@dataclass
class CatalogChange:
    """The writes of one admin change, computed from `ref` (the catalog at `version`)."""

    version: str
    ref: Reference
    now: datetime
    actor: Actor
    tx: Transaction = field(default_factory=Transaction)
    _taken: dict[str, str] = field(default_factory=dict)  # guard label → the refusal when it is already taken

    def new(self, model: type[S], natural: str, **values: Any) -> S:
        """A new record of `model` keyed by `natural`, stamped now, written when the change commits."""
        item = model(*model.key(natural), created_at=self.now, updated_at=self.now, **values)
        self.tx.create(item, label=f"new:{natural}")
        return item

    def save(self, item: S, **values: Any) -> S:
        """A copy of the snapshot's `item` with `values` set and `updated_at` moved, written when it commits."""
        copy = type(item).from_raw_data(item.serialize())
        for name, value in values.items():
            setattr(copy, name, value)
        copy.updated_at = self.now
        self.tx.put(copy, label=f"save:{copy.sk}")
        return copy

    def put(self, item: Model) -> None:
        """A record that is replaced whole whether or not it exists (a settings document, a manifest)."""
        self.tx.put(item, label="put")

    def remove(self, item: Stamped) -> None:
        """Delete the snapshot's `item` (on condition of its version, for a versioned record)."""
        self.tx.delete(type(item).from_raw_data(item.serialize()), label=f"remove:{item.sk}")

    def claim(self, kind: str, value: str, owner: str, taken: str) -> None:
        """Guard `value` of `kind` for `owner`; `taken` is the refusal if another record holds it already."""
        label = f"unique:{kind}:{value}"
        self._taken[label] = taken
        self.tx.create(UniqueGuardItem(*UniqueGuardItem.key(kind, value), owner_id=owner), label=label)

    def release(self, kind: str, value: str) -> None:
        self.tx.delete(UniqueGuardItem(*UniqueGuardItem.key(kind, value)), label="release")

    def emit(self, data: EventData) -> None:
        self.tx.events.append(Event(data, self.actor, occurred_at=self.now))

    def refusal(self, failed: list[str]) -> str | None:
        return next((self._taken[label] for label in failed if label in self._taken), None)


def change(actor: Actor, apply: Callable[[CatalogChange], T]) -> T:
    """Run `apply` on a fresh snapshot and commit what it wrote, on condition the catalog did not move meanwhile;
    recompute on a fresh snapshot when it did. `apply` raises domain errors to refuse; writing nothing is fine."""
    for _ in range(ATTEMPTS):
        version, ref = repository.current()
        pending = CatalogChange(version, ref, clock.now(), actor)
        result = apply(pending)
        if not len(pending.tx) and not pending.tx.events:
            return result
        token = CatalogVersionItem.token
        condition = token == version if version else token.does_not_exist()
        moved = CatalogVersionItem(*CatalogVersionItem.key(), token=new_id(), updated_at=pending.now)
        pending.tx.put(moved, condition, label=VERSION_LABEL)
        try:
            pending.tx.commit()
        except TransactionCancelled as refused:
            if VERSION_LABEL in refused.failed or refused.conflict:
                continue  # another change committed first: recompute on what it left
            taken = pending.refusal(refused.failed)
            if taken is not None:
                raise BadRequest(taken) from refused
            raise
        return result
    raise Conflict(CONCURRENT_MODIFICATION)
