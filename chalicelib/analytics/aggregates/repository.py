"""Reads and writes of the analytics aggregates: the only code that builds their keys and transaction items.

A contribution and the ADD updates of the totals and buckets it moves are one transaction, written on the
condition of the contribution's version as read, so each change of a source item is counted exactly once however
often (and in whatever order) its events are delivered; a lost race is read and decided again by the caller.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from pynamodb.exceptions import DoesNotExist

from chalicelib.analytics.aggregates.models import SHARDS, ContributionItem, CurrentItem, DailyItem, MrrSnapshotItem
from chalicelib.analytics.contributions import Effect, State
from chalicelib.store.transactions import Transaction

A = TypeVar("A", CurrentItem, DailyItem)


def contribution(kind: str, item_id: str) -> ContributionItem | None:
    try:
        return ContributionItem.get(*ContributionItem.key(kind, item_id), consistent_read=True)
    except DoesNotExist:
        return None


def record(
    kind: str,
    item_id: str,
    previous: ContributionItem | None,
    source_version: int,
    state: State,
    effect: Effect,
    now: datetime,
) -> None:
    """Replace the contribution read as `previous` by `state` and move the aggregates by `effect`, in one
    transaction (refused with `TransactionCancelled` when the contribution changed since it was read)."""
    tx = Transaction()
    item = previous if previous is not None else ContributionItem(*ContributionItem.key(kind, item_id))
    item.source_version = source_version
    item.state = state
    item.updated_at = now
    tx.put(item, label="contribution")  # on the version read: absent for a first contribution
    shard = zlib.crc32(item_id.encode()) % SHARDS
    for scope, deltas in effect.current.items():
        _add(tx, CurrentItem, *CurrentItem.key(scope, shard), deltas)
    for (scope, day), deltas in effect.daily.items():
        _add(tx, DailyItem, *DailyItem.key(scope, day, shard), deltas)
    tx.commit()


def _add(
    tx: Transaction, model: type[CurrentItem] | type[DailyItem], pk: str, sk: str, deltas: dict[str, int | Decimal]
) -> None:
    actions = [getattr(model, name).add(delta) for name, delta in deltas.items()]
    discriminator = model._get_discriminator_attribute()
    if discriminator is not None:
        actions.append(discriminator.set(model))
    tx.update(model(pk, sk), actions, label=f"{model.__name__}:{sk}", add_version_condition=False)


# --- reads of the routes -----------------------------------------------------------------------------------------


def _summed(model: type[A], items: Iterable[A]) -> A:
    """One item holding the sums of the shards' counts and amounts."""
    total = model()
    names = [name for name in model.get_attributes() if name in model.SUMMED]
    for item in items:
        for name in names:
            setattr(total, name, getattr(total, name) + getattr(item, name))
    return total


def _grouped(items: Iterable[A], name_of: Callable[[str], str]) -> dict[str, list[A]]:
    groups: dict[str, list[A]] = {}
    for item in items:
        groups.setdefault(name_of(item.sk), []).append(item)
    return groups


def current() -> dict[str, CurrentItem]:
    """Every current total by scope (`TOTALS`, `PLAN#<id>`), by one consistent Query of `CURRENT`."""
    query = (item for item in CurrentItem.query("CURRENT", consistent_read=True) if isinstance(item, CurrentItem))
    grouped = _grouped(query, lambda sk: sk.rsplit("#", 1)[0])
    return {scope: _summed(CurrentItem, shards) for scope, shards in grouped.items()}


def days(scope: str, first: str, last: str) -> dict[str, DailyItem]:
    """The buckets of `scope` from day `first` to `last` (inclusive) by day: one Query per calendar year."""
    found: list[DailyItem] = []
    for year in range(int(first[:4]), int(last[:4]) + 1):
        low = max(first, f"{year}-01-01")
        high = min(last, f"{year}-12-31")
        condition = DailyItem.sk.between(f"{scope}#{low}#", f"{scope}#{high}#~")
        query = DailyItem.query(f"METRICS#{year}", condition, consistent_read=True)
        found += [item for item in query if isinstance(item, DailyItem)]
    grouped = _grouped(found, lambda sk: sk.removeprefix(f"{scope}#").split("#")[0])
    return {day: _summed(DailyItem, shards) for day, shards in grouped.items()}


def put_snapshot(snapshot: MrrSnapshotItem) -> None:
    """The day's snapshot; a later run of the same day replaces it with what holds then."""
    snapshot.save()


def new_snapshot(day: str, mrr: Decimal, addons_mrr: Decimal, subscriptions: int, now: datetime) -> MrrSnapshotItem:
    return MrrSnapshotItem(
        *MrrSnapshotItem.key(day), day=day, mrr=mrr, addons_mrr=addons_mrr, subscriptions=subscriptions, taken_at=now
    )


def snapshots(first: str, last: str) -> Iterator[MrrSnapshotItem]:
    """The MRR snapshots of the days `first`..`last`, oldest first: one Query per calendar year."""
    for year in range(int(first[:4]), int(last[:4]) + 1):
        low, high = max(first, f"{year}-01-01"), min(last, f"{year}-12-31")
        query = MrrSnapshotItem.query(f"MRR#{year}", MrrSnapshotItem.sk.between(low, high))
        yield from (item for item in query if isinstance(item, MrrSnapshotItem))
