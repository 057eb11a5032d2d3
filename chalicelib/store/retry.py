"""Retrying a transaction that lost a race: a few attempts with full-jitter exponential backoff.

Concurrent writers of one item (a hot balance, an invoice-number sequence) are refused by its condition; spreading
their retries out in time lets most of them through instead of colliding again at once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

BASE_SECONDS = 0.01
CAP_SECONDS = 0.25


def attempts(count: int) -> Iterator[int]:
    """Yield attempt numbers 0..count-1, sleeping before every attempt but the first."""
    for attempt in range(count):
        if attempt:
            time.sleep(random.uniform(0, min(CAP_SECONDS, BASE_SECONDS * 2**attempt)))
        yield attempt
