"""One TransactWriteItems per state change, with named parts so a failed condition can be explained."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.store.connection import connection

M = TypeVar("M", bound=Model)
MAX_ITEMS = 100


class TransactionCancelled(Exception):
    """The transaction was refused; `failed` names the parts whose condition did not hold."""

    def __init__(self, failed: list[str], codes: list[str | None]) -> None:
        super().__init__(f"transaction cancelled: {failed or codes}")
        self.failed = failed
        self.codes = codes

    @property
    def conflict(self) -> bool:
        """Another transaction touched the same items at the same moment (retry is safe)."""
        return any(code == "TransactionConflict" for code in self.codes)


@dataclass
class Transaction:
    """Collects puts, updates, deletes and condition checks; `commit` sends them as one TransactWriteItems.

    PynamoDB orders the items checks → deletes → puts → updates; the labels are kept in the same order so
    a cancellation reason maps back to the part that failed.
    """

    client_request_token: str | None = None
    events: list[Any] = field(default_factory=list)  # domain events, written as one outbox item at commit
    after_commit: list[Callable[[], None]] = field(default_factory=list)  # run once the transaction committed
    # run when DynamoDB refused the transaction, before the refusal is raised (a number's holder lets go of it)
    after_refusal: list[Callable[[TransactionCancelled], None]] = field(default_factory=list)
    _checks: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    _deletes: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    _puts: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    _updates: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    _counts: dict[tuple[type[Model], str, str], tuple[str, dict[str, int]]] = field(default_factory=dict)

    def put(self, item: Model, condition: Condition | None = None, *, label: str = "put") -> Transaction:
        self._puts.append((label, (item, condition)))
        return self

    def create(self, item: Model, *, label: str = "create") -> Transaction:
        """Put that fails if the key is already taken (guards, new records)."""
        model = type(item)
        hash_attr = model.get_attributes()[str(model._hash_keyname)]
        return self.put(item, hash_attr.does_not_exist(), label=label)

    def update(
        self,
        item: Model,
        actions: list[Action],
        condition: Condition | None = None,
        *,
        label: str = "update",
        add_version_condition: bool = True,
    ) -> Transaction:
        self._updates.append((label, (item, actions, condition, add_version_condition)))
        return self

    def delete(self, item: Model, condition: Condition | None = None, *, label: str = "delete") -> Transaction:
        self._deletes.append((label, (item, condition)))
        return self

    def check(
        self,
        model: type[Model],
        hash_key: str,
        range_key: str | None,
        condition: Condition,
        *,
        label: str = "check",
    ) -> Transaction:
        self._checks.append((label, (model, hash_key, range_key, condition)))
        return self

    def count(
        self, model: type[Model], hash_key: str, range_key: str, deltas: Mapping[str, int], *, label: str = "counts"
    ) -> Transaction:
        """Add `deltas` to number attributes of a counter item (`ADD`, so it is created by its first count).

        Counts of one item made anywhere in the transaction are summed into one update when it commits: DynamoDB
        refuses a transaction that names an item twice, and maintained totals move exactly with the items they
        count."""
        key = (model, hash_key, range_key)
        _, totals = self._counts.setdefault(key, (label, {}))
        for name, delta in deltas.items():
            totals[name] = totals.get(name, 0) + delta
        return self

    def _count_updates(self) -> list[tuple[str, tuple[Any, ...]]]:
        updates = []
        for (model, hash_key, range_key), (label, totals) in self._counts.items():
            actions = [getattr(model, name).add(delta) for name, delta in totals.items() if delta]
            discriminator = model._get_discriminator_attribute()
            if actions and discriminator is not None:
                actions.append(discriminator.set(model))  # a counter created by its first count is typed too
            if actions:
                updates.append((label, (model(hash_key, range_key), actions, None, False)))
        return updates

    def _add_outbox_item(self) -> None:
        from chalicelib.store.outbox import OutboxItem

        self._forget_outbox_item()
        self.create(OutboxItem.from_events(self.events), label="events")

    def _forget_outbox_item(self) -> None:
        self._puts = [(label, part) for label, part in self._puts if label != "events"]

    def __len__(self) -> int:
        parts = len(self._checks) + len(self._deletes) + len(self._puts) + len(self._updates)
        return parts + len(self._count_updates())

    def commit(self) -> None:
        if self.events:
            self._add_outbox_item()
        if not len(self):
            self._run_hooks()
            return
        if len(self) > MAX_ITEMS:
            raise ValueError(f"a DynamoDB transaction holds at most {MAX_ITEMS} items, got {len(self)}")
        updates = [*self._updates, *self._count_updates()]
        labels = [label for label, _ in (*self._checks, *self._deletes, *self._puts, *updates)]
        try:
            with TransactWrite(connection=connection(), client_request_token=self.client_request_token) as tx:
                for _, (model, hash_key, range_key, condition) in self._checks:
                    tx.condition_check(model, hash_key, range_key, condition=condition)
                for _, (item, condition) in self._deletes:
                    tx.delete(item, condition=condition)
                for _, (item, condition) in self._puts:
                    tx.save(item, condition=condition)
                for _, (item, actions, condition, add_version) in updates:
                    tx.update(item, actions, condition=condition, add_version_condition=add_version)
        except TransactWriteError as exc:
            self._forget_outbox_item()
            reasons = exc.cancellation_reasons or []
            codes = [reason.code if reason is not None else None for reason in reasons]
            failed = [labels[i] for i, code in enumerate(codes) if code == "ConditionalCheckFailed" and i < len(labels)]
            refusal = TransactionCancelled(failed, codes)
            for hook in self.after_refusal:
                hook(refusal)
            raise refusal from exc
        self._run_hooks()

    def _run_hooks(self) -> None:
        for hook in self.after_commit:
            hook()
