"""The one clock. Every "now" of the system comes from here, so tests and the local stage can move time."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; used by tests and scenarios."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now

    def set(self, moment: datetime) -> datetime:
        with self._lock:
            self._now = moment.astimezone(UTC)
            return self._now


_clock: Clock = SystemClock()


def now() -> datetime:
    return _clock.now()


def use_clock(clock: Clock) -> Clock:
    """Install `clock` as the system clock and return the previous one."""
    global _clock
    previous, _clock = _clock, clock
    return previous
