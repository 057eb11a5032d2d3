"""Reads and writes of the development routes: the notification log newest first, and the stage's tables emptied.

Only the local stage reaches this module (every development route is declared `stage="local"`).
"""

from __future__ import annotations

import importlib
from typing import Any

from chalicelib.core.paging import PageRequest
from chalicelib.notifications.models import EVERYTHING, NotificationItem


def sent_notifications(
    request: PageRequest, to: str | None, channel: str | None
) -> tuple[list[NotificationItem], dict[str, Any] | None]:
    """A page of the log, newest first: one Query of GSI1's log partition, resumed at `request.after`. The filters
    are applied by DynamoDB to what the Query reads (the log is the local stage's, kept 30 days); the continuation
    key is where the page's last item was read, so the next page starts right after it."""
    condition = None
    if to is not None:
        condition = NotificationItem.to == to
    if channel is not None:
        by_channel = NotificationItem.channel == channel
        condition = by_channel if condition is None else condition & by_channel
    results = NotificationItem.gsi1.query(
        EVERYTHING,
        filter_condition=condition,
        scan_index_forward=False,
        last_evaluated_key=request.after,
        page_size=max(request.limit, 25),
    )
    items: list[NotificationItem] = []
    for item in results:
        if not isinstance(item, NotificationItem):
            continue
        items.append(item)
        if len(items) == request.limit:
            return items, _key_of(item)
    return items, None


def _key_of(item: NotificationItem) -> dict[str, Any]:
    """The continuation key of a GSI1 Query that stopped at `item`."""
    return {
        "pk": {"S": item.pk},
        "sk": {"S": item.sk},
        "gsi1pk": {"S": str(item.gsi1pk)},
        "gsi1sk": {"S": str(item.gsi1sk)},
    }


def recreate_tables() -> list[str]:
    """Delete every table of the stage and create it again, empty (the local stage's reseed). Returns their names."""
    from chalicelib.core.aws import aws_client
    from chalicelib.core.config import get_settings
    from chalicelib.store.base import TABLES

    # The table definitions become CreateTable calls in `infra/` (the local tooling, not part of a Lambda bundle):
    # imported by name so that the application's type check does not take in the tooling.
    ensure_tables = importlib.import_module("infra.bootstrap").ensure_tables

    settings = get_settings()
    dynamodb = aws_client("dynamodb")
    names = [settings.table_name(spec.logical_name) for spec in TABLES.values()]
    existing = set(_all_tables(dynamodb))
    for name in names:
        if name in existing:
            dynamodb.delete_table(TableName=name)
    for name in names:
        if name in existing:
            dynamodb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    ensure_tables(settings)
    return names


def _all_tables(dynamodb: Any) -> list[str]:
    names: list[str] = []
    for page in dynamodb.get_paginator("list_tables").paginate():
        names.extend(page["TableNames"])
    return names
