"""The idempotency protocol services see (contract README §1.10).

A service whose answer comes from one transaction stores that answer in the same transaction, so the answer and
the state it describes commit together: it hands its result to `AnswerRecorder.record(tx, result)`. How the result
becomes a stored HTTP answer (status, body) is the HTTP layer's business (`chalicelib.http.idempotency`); the
service never sees a status code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from chalicelib.store.transactions import Transaction


class AnswerRecorder(Protocol):
    def record(self, tx: Transaction, result: object) -> None:
        """Add the stored answer for `result` to `tx` (it counts only if `tx` commits)."""
