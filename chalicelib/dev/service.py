"""The local stage's development services (contract admin.md §19): move the shared clock, run a job and deliver
what it set going, read the notifications sent, reseed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.core import clock
from chalicelib.core.errors import BadRequest, Conflict, NotFound
from chalicelib.core.times import iso
from chalicelib.dev import repository

if TYPE_CHECKING:
    from chalicelib.core.paging import PageRequest
    from chalicelib.dev.schemas import ClockBody
    from chalicelib.notifications.models import NotificationItem

BACKWARDS = "The clock cannot move backwards"
ALL_JOBS = "all"


@dataclass(frozen=True)
class ClockState:
    now: datetime
    offset: timedelta

    def answer(self) -> dict[str, Any]:
        return {"now": iso(self.now), "offset_seconds": int(self.offset.total_seconds())}


def _movable() -> clock.OffsetClock:
    movable = clock.movable()
    if movable is None:  # a test or scenario drives this process with a manual clock
        raise Conflict("The clock of this process is not movable")
    return movable


def read_clock() -> ClockState:
    return ClockState(clock.now(), _movable().offset())


def move_clock(request: ClockBody) -> ClockState:
    """Advance, set or reset the offset every process of the stack reads. Moving to an earlier moment than the
    system's now is refused (what already happened stays in the past); `reset` goes back to the machine's time."""
    from chalicelib.dev.schemas import LONGEST_MOVE_SECONDS

    def decide(base_now: datetime, offset: timedelta) -> timedelta:
        if request.reset:
            return timedelta(0)
        if request.advance_seconds is not None:
            moved = offset + timedelta(seconds=request.advance_seconds)
        else:
            assert request.set is not None  # the body holds exactly one move
            if request.set < base_now + offset:
                raise BadRequest(BACKWARDS)
            moved = request.set - base_now
        if moved > timedelta(seconds=LONGEST_MOVE_SECONDS):
            raise BadRequest(f"The clock cannot move more than {LONGEST_MOVE_SECONDS} seconds ahead")
        return moved

    now, offset = _movable().move(decide)
    return ClockState(now, offset)


def job_names() -> tuple[str, ...]:
    from chalicelib.jobs import JOBS

    return (*(job.name for job in JOBS), ALL_JOBS)


def run_job(name: str) -> dict[str, Any]:
    """Run the job (every job, in the schedule's order, for `all`) now, then deliver until the queues are empty:
    the answer comes after the consumers it set going — and the events they emitted — have finished."""
    from chalicelib.events.draining import settle
    from chalicelib.jobs import BY_NAME, JOBS, run

    if name == ALL_JOBS:
        result: dict[str, Any] = {job.name: run(job.name) for job in JOBS}
    elif name in BY_NAME:
        result = dict(run(name))
    else:
        raise NotFound(f"Unknown job: {name}")
    result["delivered"] = settle()
    return {"job": name, "result": result}


def notifications(
    request: PageRequest, to: str | None, channel: str | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Every e-mail and SMS the system sent, newest first, and where the next page starts."""
    items, next_key = repository.sent_notifications(request, to, channel)
    return [_notification(item) for item in items], next_key


def _notification(item: NotificationItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "channel": item.channel,
        "to": item.to,
        "subject": item.subject,
        "body": item.body,
        "template": item.template,
        "created_at": iso(item.created_at),
    }


def reseed() -> dict[str, Any]:
    """Replace all data by the seed (seed-data.md): the stage's tables emptied and seeded again, and this process's
    caches of them forgotten."""
    from chalicelib.plugins.registry import forget_cached_states
    from chalicelib.seed.runner import seed

    repository.recreate_tables()
    forget_cached_states()
    seed()
    forget_cached_states()
    return {"message": "Reseeded"}
