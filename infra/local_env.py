"""Environment defaults for running against a local emulator (moto server or LocalStack)."""

from __future__ import annotations

import os

DEFAULT_AWS_PORT = 4566
DEFAULT_API_PORT = 8000


def aws_port() -> int:
    return int(os.environ.get("AWS_PORT", DEFAULT_AWS_PORT))


def api_port() -> int:
    return int(os.environ.get("API_PORT", DEFAULT_API_PORT))


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
    }


def apply_local_environment(aws_port_value: int | None = None) -> None:
    for key, value in local_environment(aws_port_value).items():
        os.environ.setdefault(key, value)
    from chalicelib.core.config import reload_settings

    reload_settings()
