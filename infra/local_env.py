"""Environment defaults for running against a local emulator (moto server or LocalStack) and DynamoDB Local.

`make run` records the endpoints it chose in `.local/stack-<AWS_PORT>.json` while it runs, so `make seed`,
`make bootstrap` and a worker started by hand talk to the same DynamoDB engine as the running API. The stack's one
clock offset (admin.md §19, `chalicelib/core/clock.py`) lives in `.local/clock-<AWS_PORT>.json`, named to every
process in `VBWD_CLOCK_FILE`, so the API, the worker, the scheduler and a `make seed` share one "now".
"""

from __future__ import annotations

import json
import os
from pathlib import Path

DEFAULT_AWS_PORT = 4566
DEFAULT_API_PORT = 8000
DEFAULT_DYNAMODB_PORT = 8001
PROJECT_DIR = Path(__file__).resolve().parent.parent


def aws_port() -> int:
    return int(os.environ.get("AWS_PORT", DEFAULT_AWS_PORT))


def api_port() -> int:
    return int(os.environ.get("API_PORT", DEFAULT_API_PORT))


def dynamodb_port() -> int:
    return int(os.environ.get("DYNAMODB_PORT", DEFAULT_DYNAMODB_PORT))


def stack_file(aws_port_value: int) -> Path:
    """Where a running `make run` on this AWS port keeps the endpoints it chose (removed when it stops)."""
    return PROJECT_DIR / ".local" / f"stack-{aws_port_value}.json"


def clock_file(aws_port_value: int) -> Path:
    """The clock offset of the stack on this AWS port (removed when `make run` starts and when it stops)."""
    return PROJECT_DIR / ".local" / f"clock-{aws_port_value}.json"


def running_stack(aws_port_value: int) -> dict[str, str]:
    try:
        recorded = json.loads(stack_file(aws_port_value).read_text())
    except (OSError, ValueError):
        return {}
    return {str(key): str(value) for key, value in recorded.items()} if isinstance(recorded, dict) else {}


def local_environment(aws_port_value: int | None = None) -> dict[str, str]:
    """Variables every local process gets (unless the caller already set them)."""
    port = aws_port_value if aws_port_value is not None else aws_port()
    return {
        "VBWD_STAGE": "local",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "vbwd-api",
        "VBWD_CLOCK_FILE": str(clock_file(port)),
    }


def apply_local_environment(aws_port_value: int | None = None) -> None:
    """Point this process at the local stack: the defaults above plus the endpoints a running `make run` chose."""
    port = aws_port_value if aws_port_value is not None else aws_port()
    for key, value in {**local_environment(port), **running_stack(port)}.items():
        os.environ.setdefault(key, value)
    from chalicelib.core import clock
    from chalicelib.core.config import reload_settings

    reload_settings()
    clock.use_clock(clock.from_environment(os.environ))  # the module may have been imported before the variables
