"""Paging a DynamoDB Query: `Limit` and the real continuation key, never "read the partition, then slice"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pynamodb.pagination import ResultIterator

from chalicelib.core.paging import Page, PageRequest

T = TypeVar("T")

Query = Callable[..., ResultIterator[Any]]


def query_page(query: Query, request: PageRequest, total: int) -> Page[Any]:
    """One page of `query` (a PynamoDB `Model.query`/`Index.query` bound to its key condition).

    A cursor resumes at its continuation key and reads `limit + 1` items; a plain offset (no cursor) reads past
    `offset` items first, so deep offsets cost what they skip — clients that page through a list follow
    `next_cursor`. The extra item tells whether another page exists, so the last page never carries a cursor to
    an empty one.
    """
    skip = 0 if request.after else request.offset
    wanted = skip + request.limit + 1
    results = query(limit=wanted, page_size=wanted, last_evaluated_key=request.after)
    items: list[Any] = []
    next_key: dict[str, Any] | None = None
    for position, item in enumerate(results):
        if position < skip:
            continue
        if len(items) == request.limit:
            return Page(items, total, request.offset, request.limit, next_key)
        items.append(item)
        next_key = results.last_evaluated_key
    return Page(items, total, request.offset, request.limit, None)
