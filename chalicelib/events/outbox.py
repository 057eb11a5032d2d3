"""The transactional outbox, as services use it: the events of a state change go into the transaction that makes
the change (`record`), or into a transaction of their own when nothing else is written (`emit`). The item that
holds them is `chalicelib.store.outbox.OutboxItem`; the relay publishes it."""

from __future__ import annotations

from chalicelib.events.envelope import Event
from chalicelib.store.transactions import Transaction


def record(tx: Transaction, *events: Event) -> Transaction:
    """Add events to the transaction that changes the state they describe (written as one outbox item)."""
    tx.events.extend(events)
    return tx


def emit(*events: Event) -> None:
    """Events that accompany no other write (e.g. a failed login) still go through the outbox."""
    record(Transaction(), *events).commit()
