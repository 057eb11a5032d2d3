"""One DynamoDB connection (one botocore client) for every model.

PynamoDB gives each model class its own connection and botocore client; with a dozen item classes that means a
dozen clients, each costing tens of milliseconds on a cold start. `SharedConnectionModel._get_connection` points all
of them at the single connection built here, created on first use.
"""

from __future__ import annotations

import threading
from typing import Any

from pynamodb.connection import Connection

from chalicelib.core.config import get_settings

_lock = threading.Lock()
_connection: Connection | None = None
_client: Any = None


def connection() -> Connection:
    global _connection
    if _connection is None:
        with _lock:
            if _connection is None:
                settings = get_settings()
                _connection = Connection(
                    region=settings.aws_region,
                    host=settings.endpoint_for("dynamodb"),
                    max_retry_attempts=3,
                    max_pool_connections=50,
                    connect_timeout_seconds=5,
                    read_timeout_seconds=10,
                )
    return _connection


def client() -> Any:
    """The botocore DynamoDB client (created once; botocore clients are thread-safe after creation)."""
    global _client
    if _client is None:
        conn = connection()
        with _lock:
            if _client is None:
                _client = conn.client
    return _client


def reset_connection() -> None:
    """Drop the connection and every model's cached table connection (tests start a fresh emulator per case)."""
    global _connection, _client
    with _lock:
        _connection = None
        _client = None
    from chalicelib.store.base import forget_model_connections

    forget_model_connections()
