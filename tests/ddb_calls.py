"""Counting what a request costs DynamoDB: round trips and items read, from the botocore client's own answers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.client


@dataclass
class Calls:
    operations: list[str] = field(default_factory=list)
    items_read: int = 0

    @property
    def round_trips(self) -> int:
        return len(self.operations)


def _items_read(operation: str, response: dict[str, Any]) -> int:
    if operation in ("Query", "Scan"):
        return int(response.get("ScannedCount", response.get("Count", 0)))
    if operation == "GetItem":
        return 1 if response.get("Item") else 0
    if operation == "BatchGetItem":
        return sum(len(items) for items in response.get("Responses", {}).values())
    return 0


@contextmanager
def counting_dynamodb() -> Iterator[Calls]:
    """Every DynamoDB call made in the block (any thread), with the items each read."""
    calls = Calls()
    original = botocore.client.BaseClient._make_api_call

    def counted(self: Any, operation: str, params: dict[str, Any]) -> Any:
        response = original(self, operation, params)
        if self.meta.service_model.service_name == "dynamodb":
            calls.operations.append(operation)
            calls.items_read += _items_read(operation, response)
        return response

    botocore.client.BaseClient._make_api_call = counted  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]
