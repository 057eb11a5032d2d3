import sys
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core import clock
from chalicelib.core.lazy import lazy_module


def test_lazy_module_imports_on_first_attribute() -> None:
    name = "chalicelib.seed.countries"
    sys.modules.pop(name, None)
    module = lazy_module(name)
    assert name not in sys.modules
    assert module.ENABLED[0] == "DE"
    assert name in sys.modules


def test_lazy_module_of_a_missing_module_fails_on_use() -> None:
    module = lazy_module("chalicelib.does_not_exist")
    with pytest.raises(ModuleNotFoundError):
        module.anything  # noqa: B018


def test_manual_clock_moves_only_when_told() -> None:
    manual = clock.ManualClock(datetime(2026, 5, 1, 9, 0, tzinfo=UTC))
    previous = clock.use_clock(manual)
    try:
        assert clock.now() == datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
        manual.advance(timedelta(days=31))
        assert clock.now() == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
        manual.set(datetime(2027, 1, 1, tzinfo=UTC))
        assert clock.now().year == 2027
    finally:
        clock.use_clock(previous)
    with pytest.raises(ValueError, match="aware"):
        clock.ManualClock(datetime(2026, 5, 1))
