"""moto's server with each DynamoDB call made atomic: the AWS emulator of `make run`.

moto applies a TransactWriteItems item by item and rolls a failed one back by restoring copies of whole tables, so
the transactions of concurrent requests interleave and undo each other's writes — a local stack on it double-spends
and loses updates DynamoDB never would. Serializing its DynamoDB calls in the server process (what the integration
tests' `atomic_dynamodb` fixture does in-process) restores per-call atomicity. When Java 17+ is present `make run`
puts DynamoDB on DynamoDB Local instead and this server only serves SQS, EventBridge, SES, SSM and SNS; the lock
then never sees a call.

Run as `python -m infra.moto_server -H 127.0.0.1 -p 4566`; arguments are those of `moto_server`.
"""

from __future__ import annotations

import functools
import sys
import threading
from typing import Any

_lock = threading.RLock()


def serialize_dynamodb() -> None:
    """Make moto's DynamoDB handler run one call at a time in this process (idempotent)."""
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action
    if getattr(original, "serialized", False):
        return

    @functools.wraps(original)
    def call_action(self: DynamoHandler) -> Any:
        with _lock:
            return original(self)

    call_action.serialized = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    serialize_dynamodb()
    from moto.server import main as moto_main

    moto_main(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
