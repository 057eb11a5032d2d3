"""Last of the end-to-end tier (files run in name order): after everything the tier did to the running stack —
the money races, the fuzz tier's thousands of generated requests — the money's invariants hold (`make check`)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.e2e.conftest import PROJECT_DIR, LocalStack

pytestmark = pytest.mark.e2e


def test_the_invariants_hold_over_the_running_stack(local_stack: LocalStack) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VBWD_", "DYNAMODB_"))}
    env.update(AWS_PORT=str(local_stack.aws_port))
    done = subprocess.run(
        [sys.executable, "-m", "infra.check"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300
    )
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "invariants: all hold" in done.stdout
