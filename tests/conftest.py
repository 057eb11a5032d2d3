"""Shared fixtures: moto in-process, the stage's resources, the seed, and the Chalice test client."""

from __future__ import annotations

import copy
import os

# The environment of a test run, fixed before any application module reads it.
os.environ.update(
    VBWD_STAGE="local",
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SECURITY_TOKEN="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    BCRYPT_ROUNDS="4",
    POWERTOOLS_LOG_LEVEL="WARNING",
    DYNAMODB_ENGINE="moto",
)
# moto's in-process mock stops intercepting a service whose endpoint is configured (botocore reads these itself).
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
os.environ.pop("AWS_ENDPOINT_URL_SQS", None)
os.environ.pop("AWS_ENDPOINT_URL_EVENTBRIDGE", None)
os.environ.pop("AWS_ENDPOINT_URL_SES", None)
os.environ.pop("AWS_ENDPOINT_URL_SSM", None)
os.environ.pop("AWS_ENDPOINT_URL_SNS", None)

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from moto import mock_aws

from chalicelib.core import clock
from chalicelib.core.aws import reset_clients
from chalicelib.core.config import get_settings, reload_settings
from chalicelib.plugins.registry import forget_cached_states
from chalicelib.store.connection import reset_connection
from infra.gateway import install_greedy_routes

install_greedy_routes()


def _fresh_state() -> None:
    from chalicelib.catalog.repository import forget_snapshot

    forget_snapshot()
    reload_settings()
    reset_connection()
    reset_clients()
    forget_cached_states()


ACCOUNT, REGION = "123456789012", "us-east-1"
_seeded: tuple[Any, dict[str, object]] | None = None
_empty: Any = None
_messaging: dict[str, dict[str, Any]] | None = None
_MESSAGING_SERVICES = ("sqs", "events", "ses")


def _dynamodb_backend() -> Any:
    from moto.backends import get_backend

    return get_backend("dynamodb")[ACCOUNT][REGION]


def _seeded_tables() -> tuple[Any, dict[str, object]]:
    """moto's DynamoDB tables after bootstrap and seed, built once per test process.

    Seeding takes seconds on moto; copying its seeded tables takes milliseconds. Every account a test gets is
    such a snapshot (tables, bus, rules, queues, mail identity) restored into a fresh moto account — moto's own
    implementation still serves every call.
    """
    global _seeded
    if _seeded is None:
        with mock_aws():
            _fresh_state()
            from chalicelib.seed.runner import seed
            from infra.bootstrap import ensure_tables

            ensure_tables(get_settings())
            report = seed()
            _seeded = (copy.deepcopy(_dynamodb_backend().tables), report)
        _fresh_state()
    return _seeded


def _copied(state: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a moto backend's state; an SQS queue's lock is replaced by a new one, not copied."""
    from threading import Condition

    memo: dict[int, Any] = {id(queue._messages_lock): Condition() for queue in state.get("queues", {}).values()}
    return copy.deepcopy(state, memo)


def _messaging_state() -> dict[str, dict[str, Any]]:
    """moto's bus, rules, queues and mail identity after bootstrap, built once per test process (as the tables)."""
    global _messaging
    if _messaging is None:
        from moto.backends import get_backend

        with mock_aws():
            _fresh_state()
            from infra.bootstrap import ensure_mail_identity, ensure_messaging

            ensure_messaging(get_settings())
            ensure_mail_identity(get_settings())
            _messaging = {}
            for service in _MESSAGING_SERVICES:
                backend = vars(get_backend(service)[ACCOUNT][REGION])
                _messaging[service] = _copied(
                    {k: v for k, v in backend.items() if k not in ("region_name", "account_id")}
                )
        _fresh_state()
    return _messaging


def _restore_messaging() -> None:
    from moto.backends import get_backend

    for service, state in _messaging_state().items():
        vars(get_backend(service)[ACCOUNT][REGION]).update(_copied(state))


def _empty_tables() -> Any:
    """moto's DynamoDB tables right after bootstrap, built once per test process (as the seeded ones)."""
    global _empty
    if _empty is None:
        with mock_aws():
            _fresh_state()
            from infra.bootstrap import ensure_tables

            ensure_tables(get_settings())
            _empty = copy.deepcopy(_dynamodb_backend().tables)
        _fresh_state()
    return _empty


@contextmanager
def emulated_stack(*, seeded: bool) -> Iterator[dict[str, object]]:
    """A moto account with the stage's tables, bus, rules and queues (and the seed data when asked).

    Nested moto mocks reset each other, so a test module uses either the module-wide stack (`stack`, `api`)
    or fresh per-test ones (`aws`, `seeded`, `fresh_api`), never both.
    """
    tables, report = _seeded_tables() if seeded else (_empty_tables(), {})
    _messaging_state()
    with mock_aws():
        _fresh_state()
        _dynamodb_backend().tables = copy.deepcopy(tables)
        _restore_messaging()
        try:
            yield dict(report)
        finally:
            from chalicelib.events import tasks
            from infra.worker import forget_queue_urls

            forget_queue_urls()
            tasks.forget_queue_urls()
    _fresh_state()


@pytest.fixture
def aws() -> Iterator[None]:
    """A fresh, empty account for one test."""
    with emulated_stack(seeded=False):
        yield


@pytest.fixture
def seeded() -> Iterator[dict[str, object]]:
    """A fresh, seeded account for one test (for tests that change shared state)."""
    with emulated_stack(seeded=True) as report:
        yield report


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, object]]:
    """One seeded account shared by the tests of a module; they must only change records they created."""
    with emulated_stack(seeded=True) as report:
        yield report


@pytest.fixture
def manual_clock() -> Iterator[clock.ManualClock]:
    manual = clock.ManualClock(datetime(2026, 5, 1, 9, 0, tzinfo=UTC))
    previous = clock.use_clock(manual)
    yield manual
    clock.use_clock(previous)
