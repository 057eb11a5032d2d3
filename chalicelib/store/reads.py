"""Strongly consistent multi-table reads in one round trip (BatchGetItem)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pynamodb.models import Model

from chalicelib.store.connection import client

Key = tuple[type[Model], str, str | None]
BATCH_LIMIT = 100


def batch_get(keys: Sequence[Key]) -> list[Model | None]:
    """Fetch items of any tables by key; returns them in the order asked, None where missing.

    One BatchGetItem per 100 keys, ConsistentRead, retrying unprocessed keys. Each item is built with the model
    class asked for its key (several item classes may share a table).
    """
    results: list[Model | None] = [None] * len(keys)
    wanted: dict[tuple[str, str], tuple[type[Model], list[int]]] = {}
    pending: list[tuple[str, dict[str, Any]]] = []
    for position, (model, hash_key, range_key) in enumerate(keys):
        kwargs = model.get_operation_kwargs_from_class(hash_key, range_key)
        identity = (kwargs["TableName"], _key_identity(kwargs["Key"]))
        if identity not in wanted:
            wanted[identity] = (model, [])
            pending.append((kwargs["TableName"], kwargs["Key"]))
        wanted[identity][1].append(position)
    ddb = client()
    while pending:
        chunk, pending = pending[:BATCH_LIMIT], pending[BATCH_LIMIT:]
        request: dict[str, dict[str, Any]] = {}
        for table, key in chunk:
            request.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(key)
        response = ddb.batch_get_item(RequestItems=request)
        for table, items in response.get("Responses", {}).items():
            key_names = list(request[table]["Keys"][0])
            for raw in items:
                identity = (table, _key_identity({name: raw[name] for name in key_names}))
                model, positions = wanted[identity]
                instance = model.from_raw_data(raw)
                for position in positions:
                    results[position] = instance
        for table, spec in (response.get("UnprocessedKeys") or {}).items():
            pending.extend((table, key) for key in spec["Keys"])
    return results


def _key_identity(key: dict[str, dict[str, str]]) -> str:
    return "|".join(f"{name}={next(iter(value.values()))}" for name, value in sorted(key.items()))
