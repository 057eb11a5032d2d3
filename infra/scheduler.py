"""The local scheduler: fires the scheduled jobs (`chalicelib.jobs`) at their rates, like EventBridge does in AWS."""

from __future__ import annotations

import signal
import sys
import time
from typing import Any

from chalicelib.core.logging import logger
from chalicelib.jobs import JOBS


def run_forever(tick: float = 1.0) -> None:
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    next_run = {job.name: time.monotonic() + job.every_minutes * 60 for job in JOBS}
    logger.info("scheduler started", jobs={job.name: f"every {job.every_minutes} min" for job in JOBS})
    while not stopping:
        now = time.monotonic()
        for job in JOBS:
            if now >= next_run[job.name]:
                next_run[job.name] = now + job.every_minutes * 60
                try:
                    result = job.load()()
                    logger.info("job ran", job=job.name, result=result)
                except Exception:
                    logger.exception("job failed", job=job.name)
        time.sleep(tick)
    logger.info("scheduler stopped")


if __name__ == "__main__":
    from infra.local_env import apply_local_environment

    apply_local_environment()
    run_forever()
    sys.exit(0)
