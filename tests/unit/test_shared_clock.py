"""The clock every process of the local stack shares (admin.md §19): an offset in a file named by VBWD_CLOCK_FILE."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.core import clock
from chalicelib.core.clock import FileOffset, ManualClock, MemoryOffset, OffsetClock, SystemClock

PROJECT_DIR = Path(__file__).resolve().parents[2]
DAY = timedelta(days=1)


def test_every_stage_but_local_runs_on_the_system_clock_whatever_its_environment(tmp_path: Path) -> None:
    shared = tmp_path / "clock.json"
    for stage in ("dev", "prod"):
        chosen = clock.from_environment({"VBWD_STAGE": stage, "VBWD_CLOCK_FILE": str(shared)})
        assert isinstance(chosen, SystemClock)
    local = clock.from_environment({"VBWD_STAGE": "local", "VBWD_CLOCK_FILE": str(shared)})
    assert isinstance(local, OffsetClock) and isinstance(local.store, FileOffset) and local.store.path == shared
    alone = clock.from_environment({"VBWD_STAGE": "local"})
    assert isinstance(alone, OffsetClock) and isinstance(alone.store, MemoryOffset)
    assert isinstance(clock.from_environment({}), OffsetClock)  # the stage defaults to local, as Settings does


def test_a_moved_offset_is_seen_by_another_reader_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    base = ManualClock(datetime(2026, 5, 1, 9, 0, tzinfo=UTC))
    writer, reader = OffsetClock(FileOffset(path), base), OffsetClock(FileOffset(path), base)
    assert reader.now() == base.now()  # no file: no offset
    now, offset = writer.move(lambda _, current: current + DAY)
    assert (now, offset) == (datetime(2026, 5, 2, 9, 0, tzinfo=UTC), DAY)
    assert reader.now() == datetime(2026, 5, 2, 9, 0, tzinfo=UTC)
    assert json.loads(path.read_text()) == {"offset_microseconds": 86_400_000_000}


def test_writes_in_quick_succession_are_all_seen_even_when_the_file_keeps_its_size(tmp_path: Path) -> None:
    """The writer stamps the file one second past its previous stamp, so a reader caching by stamp never misses a
    write that happened within the file system's timestamp granularity."""
    path = tmp_path / "clock.json"
    writer, reader = OffsetClock(FileOffset(path)), FileOffset(path)
    seen = []
    for days in (2, 3, 4, 5, 6, 7, 8, 9):  # 172800000000, 259200000000, …: offsets of one length
        writer.move(lambda _, __, days=days: days * DAY)
        seen.append(reader.get())
    assert seen == [days * DAY for days in (2, 3, 4, 5, 6, 7, 8, 9)]


def test_now_reads_the_file_only_when_it_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "clock.json"
    shared = OffsetClock(FileOffset(path))
    shared.move(lambda _, __: DAY)
    reads = []
    original = Path.read_text

    def counting(self: Path, *args: object, **kwargs: object) -> str:
        reads.append(self)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", counting)
    reader = OffsetClock(FileOffset(path))
    for _ in range(1000):
        reader.now()
    assert len(reads) == 1
    shared.move(lambda _, current: current + DAY)  # the mover reads the file under its lock
    moved = len(reads)
    assert reader.now() - datetime.now(UTC) > DAY
    assert len(reads) == moved + 1
    reader.now()
    assert len(reads) == moved + 1


def test_now_stays_cheap(tmp_path: Path) -> None:
    """One os.stat per call; measured 6.4 µs on this machine (docs/performance.md). The bound here is loose
    so a busy machine does not fail it; it still catches a clock that reads or parses the file on every call."""
    path = tmp_path / "clock.json"
    shared = OffsetClock(FileOffset(path))
    shared.move(lambda _, __: DAY)
    calls = 20_000
    started = time.perf_counter()
    for _ in range(calls):
        shared.now()
    per_call = (time.perf_counter() - started) / calls
    assert per_call < 50e-6, f"{per_call * 1e6:.1f} µs per now()"


def test_concurrent_moves_from_separate_readers_of_one_file_are_applied_one_after_the_other(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    movers = [OffsetClock(FileOffset(path)) for _ in range(4)]  # as four processes would (one lock file)

    def advance(mover: OffsetClock) -> None:
        for _ in range(25):
            mover.move(lambda _, current: current + timedelta(seconds=1))

    threads = [threading.Thread(target=advance, args=(mover,)) for mover in movers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert FileOffset(path).get() == timedelta(seconds=100)


def test_a_refused_move_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    shared = OffsetClock(FileOffset(path))
    shared.move(lambda _, __: DAY)

    def refuse(_: datetime, __: timedelta) -> timedelta:
        raise ValueError("no")

    with pytest.raises(ValueError):
        shared.move(refuse)
    assert shared.offset() == DAY


def test_a_file_that_holds_no_offset_is_an_error_not_a_silent_zero(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    path.write_text("not json")
    with pytest.raises(RuntimeError, match="does not hold a clock offset"):
        FileOffset(path).get()


def test_the_memory_offset_belongs_to_its_process() -> None:
    base = ManualClock(datetime(2026, 5, 1, tzinfo=UTC))
    own = OffsetClock(MemoryOffset(), base)
    own.move(lambda _, __: timedelta(hours=5))
    assert own.now() == datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
    assert OffsetClock(MemoryOffset(), base).now() == base.now()


PROBE = "from chalicelib.core import clock; print(clock.now().isoformat())"


def _now_in_another_process(environ: dict[str, str]) -> datetime:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VBWD_")}
    env.update(environ)
    output = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return datetime.fromisoformat(output.strip())


def test_a_second_process_naming_the_file_sees_the_same_now(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    here = OffsetClock(FileOffset(path))
    here.move(lambda _, __: timedelta(days=30))
    there = _now_in_another_process({"VBWD_STAGE": "local", "VBWD_CLOCK_FILE": str(path)})
    assert abs(there - here.now()) < timedelta(seconds=20)
    assert there - datetime.now(UTC) > timedelta(days=29)


def test_a_process_of_another_stage_ignores_the_file(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    OffsetClock(FileOffset(path)).move(lambda _, __: timedelta(days=30))
    there = _now_in_another_process({"VBWD_STAGE": "dev", "VBWD_CLOCK_FILE": str(path)})
    assert abs(there - datetime.now(UTC)) < timedelta(seconds=20)


def test_movable_is_the_installed_offset_clock_only() -> None:
    installed = OffsetClock(MemoryOffset())
    previous = clock.use_clock(installed)
    try:
        assert clock.movable() is installed
        clock.use_clock(ManualClock(datetime(2026, 5, 1, tzinfo=UTC)))
        assert clock.movable() is None
    finally:
        clock.use_clock(previous)
