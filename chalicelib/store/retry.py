"""The one way a write that lost a race is retried: read again, decide again, commit again.

Concurrent writers of one item (a balance, an invoice, a subscription) are refused by its version condition; the
loser must re-read before it decides anything, so the unit that is retried is the whole read-decide-commit step,
not the commit alone. Retries are spread out with full-jitter exponential backoff so most racers get through
instead of colliding again at once. When every attempt loses, the caller gets 409 `Concurrent modification,
please retry` (contract README §1.4) — never a 500.

The attempts of one `retrying` call are one business step for document numbers (`store.numbering.reserving`): a
number taken by an attempt whose transaction was refused is reused by the next attempt, and a number the step
still holds when it gives up (or no longer needs) is voided, so a lost race costs no number and leaves no gap.

We keep this to a few lines of our own instead of tenacity: it runs on hot write paths, and tenacity's import
(it pulls in asyncio) costs more than the whole loop.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from chalicelib.core.errors import Conflict
from chalicelib.store.numbering import reserving
from chalicelib.store.transactions import TransactionCancelled

T = TypeVar("T")
BASE_SECONDS = 0.01
CAP_SECONDS = 0.25
CONCURRENT_MODIFICATION = "Concurrent modification, please retry"


def attempts(count: int) -> Iterator[int]:
    """Yield attempt numbers 0..count-1, sleeping (full jitter, exponential) before every attempt but the first."""
    for attempt in range(count):
        if attempt:
            time.sleep(random.uniform(0, min(CAP_SECONDS, BASE_SECONDS * 2**attempt)))
        yield attempt


def any_refusal(_: TransactionCancelled) -> bool:
    return True


def retrying(
    step: Callable[[], T],
    *,
    tries: int = 8,
    retry_on: Callable[[TransactionCancelled], bool] = any_refusal,
) -> T:
    """Run `step` (read, decide, commit) until its transaction commits.

    A `TransactionCancelled` that `retry_on` accepts means state the step read changed under it: run it again from
    the reads. One it refuses is the step's own business (a guard it wrote, a rule) and propagates unchanged. After
    `tries` lost races the answer is `Conflict`.
    """
    with reserving():
        for _ in attempts(tries):
            try:
                return step()
            except TransactionCancelled as exc:
                if not retry_on(exc):
                    raise
        raise Conflict(CONCURRENT_MODIFICATION)
