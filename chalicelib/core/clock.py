"""The one clock. Every "now" of the system comes from here, so tests and the local stage can move time.

- `SystemClock` is the machine's UTC time: every deployed stage runs on it.
- `ManualClock` moves only when told to (tests and scenarios install one with `use_clock`).
- `OffsetClock` is another clock plus an offset that the local stage's development route moves (admin.md §19:
  `POST /admin/dev/clock`). Under `make run` the offset must be one for every process — the API, the worker, the
  scheduler — so it lives in a small file whose path `make run` gives every child in `VBWD_CLOCK_FILE`
  (`FileOffset`). Each `now()` costs one `os.stat` of that file; the file is read again only when its
  modification stamp changed. The writer sets that stamp itself, one second past the previous one, so it is a
  generation number that changes with every write on any file system (two writes within the file system's
  timestamp granularity would otherwise look alike). Without the variable the offset is the process's own
  (`MemoryOffset`: the test client, a `chalice local` started by hand).

Only the `local` stage ever installs an `OffsetClock` (`from_environment`): every other stage uses the system
clock and never reads the file, whatever its environment says.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

CLOCK_FILE_VARIABLE = "VBWD_CLOCK_FILE"
STAGE_VARIABLE = "VBWD_STAGE"
STAMP_STEP_NS = 1_000_000_000  # one second: coarser than any file system's timestamp granularity we run on


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


class OffsetStore(Protocol):
    """Where an `OffsetClock` keeps its offset."""

    def get(self) -> timedelta: ...

    def locked(self) -> contextlib.AbstractContextManager[None]: ...

    def put(self, offset: timedelta) -> None: ...


class MemoryOffset:
    """An offset of this process only."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.RLock()

    def get(self) -> timedelta:
        return self._offset

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with self._lock:
            yield

    def put(self, offset: timedelta) -> None:
        self._offset = offset


class FileOffset:
    """An offset every process on this machine that names the same file shares.

    The file holds `{"offset_microseconds": n}`; a missing file means no offset. Reads cost one `os.stat` while the
    file's stamp is unchanged. Writes (rare: a developer moving the clock) replace the file atomically under an
    advisory lock on `<file>.lock`, so two concurrent moves are applied one after the other.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int, int] | None = None
        self._offset = timedelta(0)
        self._lock = threading.RLock()

    def get(self) -> timedelta:
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            return timedelta(0)
        signature = (status.st_ino, status.st_mtime_ns, status.st_size)
        if signature != self._seen:
            with self._lock:
                self._offset = self._read()
                self._seen = signature
        return self._offset

    def _read(self) -> timedelta:
        try:
            recorded = json.loads(self.path.read_text())
            return timedelta(microseconds=int(recorded["offset_microseconds"]))
        except FileNotFoundError:
            return timedelta(0)
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            raise RuntimeError(f"{self.path} does not hold a clock offset") from exc

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, open(f"{self.path}.lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                self._seen = None  # read the file itself under the lock, whatever the stamp says
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def put(self, offset: timedelta) -> None:
        previous = self._stamp()
        stamp = max(previous + STAMP_STEP_NS, time.time_ns())
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"offset_microseconds": offset // timedelta(microseconds=1)}))
        os.utime(temporary, ns=(stamp, stamp))
        os.replace(temporary, self.path)

    def _stamp(self) -> int:
        try:
            return os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            return 0


class OffsetClock:
    """`base` plus an offset; `move` changes the offset (the local stage's `POST /admin/dev/clock`)."""

    def __init__(self, store: OffsetStore, base: Clock | None = None) -> None:
        self.store = store
        self.base = base or SystemClock()

    def now(self) -> datetime:
        return self.base.now() + self.store.get()

    def offset(self) -> timedelta:
        return self.store.get()

    def move(self, decide: Callable[[datetime, timedelta], timedelta]) -> tuple[datetime, timedelta]:
        """Set the offset to `decide(base now, current offset)`, atomically with respect to other movers (a
        `decide` that raises changes nothing). Returns the new now and offset."""
        with self.store.locked():
            base_now = self.base.now()
            offset = decide(base_now, self.store.get())
            self.store.put(offset)
            return base_now + offset, offset


def from_environment(environ: Mapping[str, str]) -> Clock:
    """The clock a process of this stage runs on: in the `local` stage an `OffsetClock` (shared through the file
    `VBWD_CLOCK_FILE` names, else this process's own); in every other stage the system clock."""
    if environ.get(STAGE_VARIABLE, "local") != "local":
        return SystemClock()
    path = environ.get(CLOCK_FILE_VARIABLE)
    return OffsetClock(FileOffset(Path(path)) if path else MemoryOffset())


_clock: Clock = from_environment(os.environ)


def now() -> datetime:
    return _clock.now()


def installed() -> Clock:
    return _clock


def movable() -> OffsetClock | None:
    """The installed clock when the development routes can move it."""
    return _clock if isinstance(_clock, OffsetClock) else None


def use_clock(clock: Clock) -> Clock:
    """Install `clock` as the system clock and return the previous one."""
    global _clock
    previous, _clock = _clock, clock
    return previous
