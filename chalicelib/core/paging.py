"""Paging as services and repositories see it: what page is wanted, and the page that came back.

The wire forms (limit/offset, page/per_page, opaque signed cursors; contract README §1.11) belong to the HTTP layer
(`chalicelib.http.pagination`); a repository pages in DynamoDB with `Limit` and the real continuation key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
U = TypeVar("U")
MAX_PAGE = 100
WHOLE_LIST_CAP = 1000


@dataclass(frozen=True)
class PageRequest:
    """`limit` items starting at `offset`; `after` is the continuation key of the previous page when the client
    came back with its cursor (then `offset` is only the position it tells the client)."""

    limit: int
    offset: int = 0
    after: dict[str, Any] | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int
    next_key: dict[str, Any] | None = None  # where the next page starts; None on the last page
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def next_offset(self) -> int:
        return self.offset + len(self.items)

    @property
    def has_more(self) -> bool:
        return self.next_key is not None

    def map(self, render: Callable[[T], U]) -> Page[U]:
        return Page([render(item) for item in self.items], self.total, self.offset, self.limit, self.next_key)


def slice_page(items: list[T], request: PageRequest) -> Page[T]:
    """A page of a list that is already in memory (the catalog snapshot): the position is the continuation key."""
    start = int(request.after["position"]) if request.after else request.offset
    chosen = items[start : start + request.limit]
    end = start + len(chosen)
    next_key = {"position": end} if end < len(items) else None
    return Page(chosen, len(items), start, request.limit, next_key)
