"""Scenario tests share the integration fixtures: a seeded account per test and the Chalice test client.

After every scenario that passed, while its emulated account and its clock are still in place, the system is let
settle as it would on its own — every scheduled job runs once and the queues drain — and then the money's
invariants must hold over everything stored (`chalicelib.audit.invariants`); a violation fails the scenario.
"""

from collections.abc import Generator
from typing import Any

import pytest

from tests.integration.conftest import atomic_dynamodb, drain_events, empty_api, fresh_api  # noqa: F401


def settle() -> None:
    from chalicelib.jobs import JOBS, run

    for job in JOBS:
        run(job.name)
    drain_events()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    result = yield
    from chalicelib.audit.invariants import check_all, report
    from chalicelib.core import clock

    settle()
    violations = check_all(clock.now())
    assert not violations, report(violations)
    return result
