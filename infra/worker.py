"""The local worker: what EventBridge, SQS triggers and the outbox stream do for Lambda in AWS.

Each round relays pending outbox events to the bus, then drains every consumer queue through the same partial-batch
processing the Lambda SQS handlers run; the rounds themselves are `chalicelib.events.draining` (the local stage's
job route drains through it too). The messages a consumer reports as failed are not deleted: they come back after
the queue's visibility timeout, and after the consumer's `max_receive_count` receives SQS moves them to the
dead-letter queue.
"""

from __future__ import annotations

import signal
import sys
import time
from typing import Any

from chalicelib.core.logging import logger
from chalicelib.events.consumers import CONSUMERS
from chalicelib.events.draining import drain_once, drain_queue, forget_queue_urls, queue_url

__all__ = ["drain_once", "drain_queue", "forget_queue_urls", "queue_url", "run_forever"]


def run_forever(idle_sleep: float = 0.3) -> None:
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    logger.info("worker started", consumers=[c.name for c in CONSUMERS])
    while not stopping:
        try:
            done = drain_once()
        except Exception:
            logger.exception("worker round failed")
            done = {}
        if not any(done.values()):
            time.sleep(idle_sleep)
    logger.info("worker stopped")


if __name__ == "__main__":
    from infra.local_env import apply_local_environment

    apply_local_environment()
    run_forever()
    sys.exit(0)
