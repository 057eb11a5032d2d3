"""Starts the real local stack (`python -m infra.run_local`: DynamoDB Local or moto's DynamoDB, moto server, chalice
local, worker, scheduler) on free ports, and stops it the way a developer does: SIGINT to its process group.

The engine is `make run`'s own choice (DynamoDB Local when Java 17+ is present); `E2E_DYNAMODB_ENGINE=moto` runs the
tier on the fallback instead.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from infra.local_env import stack_file

PROJECT_DIR = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120
STOP_TIMEOUT = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass
class LocalStack:
    api: str
    aws_endpoint: str
    process: subprocess.Popen[bytes]
    log: Path
    aws_port: int
    api_port: int
    dynamodb_port: int
    dynamodb_endpoint: str = ""
    engine: str = ""

    def url(self, path: str) -> str:
        return f"{self.api}{path}"

    def dynamodb(self) -> Any:
        """A boto3 client of the stack's DynamoDB, whichever engine serves it."""
        return boto3.client(
            "dynamodb",
            endpoint_url=self.dynamodb_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def notification_items(self) -> list[dict[str, Any]]:
        """Every mail notification the stack recorded, as raw DynamoDB items (`{"to": {"S": …}, …}`)."""
        return self.dynamodb().query(  # type: ignore[no-any-return]
            TableName="vbwd-local-notifications",
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :all",
            ExpressionAttributeValues={":all": {"S": "ALL"}},
        )["Items"]


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    aws_port, api_port, dynamodb_port = free_port(), free_port(), free_port()
    log = tmp_path_factory.mktemp("stack") / "run_local.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VBWD_", "DYNAMODB_"))}
    env.update(
        AWS_PORT=str(aws_port),
        API_PORT=str(api_port),
        DYNAMODB_PORT=str(dynamodb_port),
        DYNAMODB_ENGINE=os.environ.get("E2E_DYNAMODB_ENGINE", "auto"),
        BCRYPT_ROUNDS="4",
        PYTHONUNBUFFERED="1",
        # Every request of the tier comes from 127.0.0.1; the fuzz tier alone sends more than the default 2000/h.
        RATE_LIMIT_PER_HOUR="1000000",
        RATE_LIMIT_PER_DAY="10000000",
    )
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.run_local"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, like a terminal's foreground job
        )
    aws_endpoint = f"http://127.0.0.1:{aws_port}"
    stack = LocalStack(f"http://127.0.0.1:{api_port}", aws_endpoint, process, log, aws_port, api_port, dynamodb_port)
    try:
        _wait_until_ready(stack)
        stack.engine = requests.get(stack.url("/api/v1/health"), timeout=10).json()["dynamodb"]
        local = stack.engine == "dynamodb-local"
        stack.dynamodb_endpoint = f"http://127.0.0.1:{dynamodb_port}" if local else aws_endpoint
        yield stack
    finally:
        _stop(stack)


def _wait_until_ready(stack: LocalStack) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            raise RuntimeError(f"make run exited early:\n{stack.log.read_text()}")
        if "Press Ctrl-C to stop everything." in stack.log.read_text(errors="replace"):
            return
        time.sleep(0.3)
    raise TimeoutError(f"the stack did not start within {START_TIMEOUT} s:\n{stack.log.read_text()}")


def _stop(stack: LocalStack) -> None:
    pgid = stack.process.pid
    if group_alive(pgid):
        os.killpg(pgid, signal.SIGINT)
    try:
        stack.process.wait(timeout=STOP_TIMEOUT)
    finally:
        deadline = time.monotonic() + STOP_TIMEOUT
        while group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.2)
        leftovers = group_alive(pgid)
        if leftovers:
            os.killpg(pgid, signal.SIGKILL)
        assert not leftovers, "processes of the stack outlived Ctrl-C"
        assert not port_in_use(stack.api_port), "the API port is still bound after Ctrl-C"
        assert not port_in_use(stack.aws_port), "the AWS emulator port is still bound after Ctrl-C"
        assert not port_in_use(stack.dynamodb_port), "the DynamoDB Local port is still bound after Ctrl-C"
        assert not stack_file(stack.aws_port).exists(), "the stack's endpoint record outlived it"


@pytest.fixture(scope="session")
def http(local_stack: LocalStack) -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session
