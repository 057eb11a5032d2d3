"""`make run`'s choices: which Java runs DynamoDB Local, which DynamoDB engine, and the serialized moto fallback."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from infra import local_env
from infra.dynamodb_local import java_major_version
from infra.run_local import choose_dynamodb

JAVA = "/usr/bin/java"


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment', 17),
        ('openjdk version "21" 2023-09-19', 21),
        ('java version "1.8.0_402"\nJava(TM) SE Runtime Environment', 8),
        ('openjdk version "11.0.2" 2019-01-15', 11),
        ("bash: java: command not found", None),
    ],
)
def test_the_java_major_version_is_read_from_java_version(output: str, major: int | None) -> None:
    assert java_major_version(output) == major


def test_dynamodb_local_runs_whenever_java_and_the_package_are_there() -> None:
    choice = choose_dynamodb({}, JAVA, installed=True)
    assert (choice.engine, choice.java) == ("dynamodb-local", JAVA)
    assert choose_dynamodb({"DYNAMODB_ENGINE": "auto"}, JAVA, installed=True).engine == "dynamodb-local"
    assert choose_dynamodb({"AWS_EMULATOR": "external"}, JAVA, installed=True).engine == "dynamodb-local"


def test_without_java_or_the_package_moto_serves_dynamodb_and_says_why() -> None:
    assert (choose_dynamodb({}, None, installed=True).engine, choose_dynamodb({}, None, installed=True).reason) == (
        "moto",
        "no Java 17+ for DynamoDB Local",
    )
    assert choose_dynamodb({}, JAVA, installed=False).reason == "DynamoDB Local not installed"
    assert choose_dynamodb({"AWS_EMULATOR": "external"}, None, installed=True).engine == "external"


def test_the_engine_can_be_insisted_on() -> None:
    assert choose_dynamodb({"DYNAMODB_ENGINE": "moto"}, JAVA, installed=True).engine == "moto"
    with pytest.raises(ValueError, match="Java 17"):
        choose_dynamodb({"DYNAMODB_ENGINE": "dynamodb-local"}, None, installed=True)
    with pytest.raises(ValueError, match="npm ci"):
        choose_dynamodb({"DYNAMODB_ENGINE": "dynamodb-local"}, JAVA, installed=False)
    with pytest.raises(ValueError, match="DYNAMODB_ENGINE must be one of"):
        choose_dynamodb({"DYNAMODB_ENGINE": "sqlite"}, JAVA, installed=True)


def test_a_dynamodb_endpoint_given_by_the_caller_is_used_as_it_is() -> None:
    environ = {"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9000", "DYNAMODB_ENGINE": "moto"}
    assert choose_dynamodb(environ, JAVA, installed=True).engine == "external"


def test_make_seed_finds_the_endpoints_of_the_running_stack(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_env, "PROJECT_DIR", tmp_path)
    assert local_env.running_stack(4566) == {}
    local_env.stack_file(4566).parent.mkdir(parents=True)
    local_env.stack_file(4566).write_text('{"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8001"}')
    assert local_env.running_stack(4566) == {"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8001"}
    assert local_env.running_stack(4567) == {}
    local_env.stack_file(4566).write_text("not json")
    assert local_env.running_stack(4566) == {}


def test_the_fallback_server_runs_moto_dynamodb_calls_one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.responses import DynamoHandler

    from infra.moto_server import serialize_dynamodb

    inside, most = 0, 0
    count = threading.Lock()

    def slow_call(self: Any) -> str:
        nonlocal inside, most
        with count:
            inside += 1
            most = max(most, inside)
        time.sleep(0.02)
        with count:
            inside -= 1
        return "done"

    monkeypatch.setattr(DynamoHandler, "call_action", slow_call)
    serialize_dynamodb()
    serialize_dynamodb()  # a second call must not nest another lock around the first
    handler = object.__new__(DynamoHandler)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: DynamoHandler.call_action(handler), range(16)))
    assert answers == ["done"] * 16
    assert most == 1
    assert DynamoHandler.call_action.__wrapped__ is slow_call  # type: ignore[attr-defined]


def test_every_process_of_a_stack_names_the_stack_s_one_clock_file(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_env, "PROJECT_DIR", tmp_path)
    assert local_env.local_environment(4566)["VBWD_CLOCK_FILE"] == str(tmp_path / ".local" / "clock-4566.json")
    assert local_env.clock_file(4567) != local_env.clock_file(4566)  # two stacks on one machine keep two clocks


def test_a_process_started_by_hand_joins_the_running_stack_s_clock(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m infra.worker` imports the clock before it applies the local environment: the clock is installed
    again from the variables it then has."""
    from datetime import UTC, datetime, timedelta

    from chalicelib.core import clock
    from chalicelib.core.config import reload_settings

    monkeypatch.setattr(local_env, "PROJECT_DIR", tmp_path)
    shared = clock.OffsetClock(clock.FileOffset(local_env.clock_file(4566)))
    shared.move(lambda _, __: timedelta(days=3))
    previous, environment = clock.installed(), dict(os.environ)
    os.environ.pop("VBWD_CLOCK_FILE", None)
    try:
        local_env.apply_local_environment(4566)
        assert clock.now() - datetime.now(UTC) > timedelta(days=2)
    finally:  # apply_local_environment sets what was missing, AWS_ENDPOINT_URL too: put the test process back
        os.environ.clear()
        os.environ.update(environment)
        clock.use_clock(previous)
        reload_settings()
