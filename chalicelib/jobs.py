"""Scheduled jobs: the same functions run from EventBridge schedules (Lambda) and from the local scheduler."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JobFunction = Callable[[], dict[str, Any]]


@dataclass(frozen=True)
class Job:
    name: str
    every_minutes: int
    handler: str
    description: str

    def load(self) -> JobFunction:
        module_name, function_name = self.handler.split(":")
        function: JobFunction = getattr(importlib.import_module(module_name), function_name)
        return function


JOBS: tuple[Job, ...] = (
    Job(
        "outbox-relay",
        1,
        "chalicelib.events.relay:publish_pending",
        "publish outbox events a stream invocation missed",
    ),
    Job(
        "subscription-lifecycle",
        1,
        "chalicelib.lifecycle.sweep:sweep",
        "send every subscription and add-on whose renewal, charge, retry, trial or period end is due to its queue",
    ),
    Job(
        "invoice-housekeeping",
        60,
        "chalicelib.housekeeping.invoices:sweep",
        "fill invoice-number gaps a crashed writer left; send overdue unpaid checkouts to invoice-expiry",
    ),
    Job(
        "analytics-snapshot",
        1440,
        "chalicelib.analytics.snapshot:take",
        "record the day's MRR for the MRR history (admin.md §17.2)",
    ),
)

BY_NAME = {job.name: job for job in JOBS}


def run(name: str) -> dict[str, Any]:
    return BY_NAME[name].load()()
