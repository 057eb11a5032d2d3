"""Paging on the wire (contract README §1.11): limit/offset and page/per_page, totals, opaque signed cursors.

A cursor carries where the next page starts — the DynamoDB continuation key a repository returned, or a position
in an in-memory list — and the offset it stands for, signed with a key derived from the stage's secret and bound to
the caller, the path and the list's filters. A cursor that was altered, made up, or taken from another user's,
another route's or another filter's list is refused with 400 `Invalid pagination parameters` before any read.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.core.errors import BadRequest
from chalicelib.core.paging import MAX_PAGE, WHOLE_LIST_CAP, Page, PageRequest, slice_page

INVALID = "Invalid pagination parameters"
MAC_BYTES = 16


class Asked(Protocol):
    """What paging reads of a request: its query parameters (and, when it has them, its caller and path)."""

    def query(self, name: str) -> str | None: ...


@dataclass(frozen=True)
class Paging:
    """The page a client asked for, in wire terms."""

    offset: int
    limit: int
    style: str  # "limit" or "page": which keys the answer echoes
    after: dict[str, Any] | None = None

    @property
    def request(self) -> PageRequest:
        return PageRequest(self.limit, self.offset, self.after)


# --- cursors ---------------------------------------------------------------------------------------------------


@functools.cache
def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"vbwd-serverless/cursor/v1", hashlib.sha256).digest()


PAGING_PARAMETERS = frozenset({"limit", "offset", "page", "per_page", "cursor"})


def _scope(req: Any) -> bytes:
    """What a cursor is bound to: the caller, the path and the list's filters (`?status=`, `?type=` …) — a
    continuation key of one filtered list means nothing in another."""
    principal = getattr(req, "principal", None)
    who = getattr(principal, "user_id", None) or "-"
    path = str(getattr(req, "path", "") or "").rstrip("/")
    asked = getattr(req, "query_dict", None)
    filters = sorted((k, v) for k, v in asked().items() if k not in PAGING_PARAMETERS) if callable(asked) else []
    return f"{who}|{path}|{json.dumps(filters)}".encode()


def _mac(payload: bytes, scope: bytes) -> bytes:
    from chalicelib.core.config import get_settings

    key = _key(get_settings().jwt_secret.get_secret_value())
    return hmac.new(key, scope + b"\n" + payload, hashlib.sha256).digest()[:MAC_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode())


def encode_cursor(req: Any, offset: int, key: dict[str, Any]) -> str:
    payload = json.dumps({"o": offset, "k": key}, separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(payload)}.{_b64(_mac(payload, _scope(req)))}"


def decode_cursor(req: Any, cursor: str) -> tuple[int, dict[str, Any]]:
    try:
        payload_text, mac_text = cursor.split(".")
        payload, mac = _unb64(payload_text), _unb64(mac_text)
    except (ValueError, binascii.Error) as exc:
        raise BadRequest(INVALID) from exc
    if not hmac.compare_digest(mac, _mac(payload, _scope(req))):
        raise BadRequest(INVALID)
    data = json.loads(payload)  # signed by us: well-formed
    return int(data["o"]), dict(data["k"])


# --- requests and answers ----------------------------------------------------------------------------------------


def _int(req: Asked, name: str) -> int | None:
    value = req.query(name)
    if value is None or value == "":
        return None
    try:
        return int(value.strip())
    except ValueError as exc:
        raise BadRequest(INVALID) from exc


def page_request(req: Asked, default_size: int, default_style: str = "limit") -> Paging | None:
    """The paging asked for, or None when no paging parameter was sent."""
    page, per_page = _int(req, "page"), _int(req, "per_page")
    limit, offset = _int(req, "limit"), _int(req, "offset")
    cursor = req.query("cursor")
    if all(v is None for v in (page, per_page, limit, offset)) and not cursor:
        return None
    if page is not None:
        wanted = per_page if per_page is not None else limit
        size = min(MAX_PAGE, max(1, wanted if wanted is not None else default_size))
        start = (max(1, page) - 1) * size
        style = "page"
    elif per_page is not None:  # `per_page` alone acts as `limit` (README §1.11): an `offset` still applies
        size = min(MAX_PAGE, max(1, per_page))
        start = max(0, offset or 0)
        style = "page" if limit is None else default_style
    else:
        size = min(MAX_PAGE, max(1, limit if limit is not None else default_size))
        start = max(0, offset or 0)
        style = "limit"
    after = None
    if cursor:
        start, after = decode_cursor(req, cursor)
    return Paging(start, size, style, after)


def page_or_default(req: Asked, default_size: int, default_style: str = "limit") -> Paging:
    return page_request(req, default_size, default_style) or Paging(0, default_size, default_style)


def page_keys(req: Any, page: Page[Any]) -> dict[str, Any]:
    """`total, limit, offset, page, per_page, pages, next_cursor` of a page (README §1.11)."""
    size = page.limit
    return {
        "total": page.total,
        "limit": size,
        "offset": page.offset,
        "page": page.offset // size + 1,
        "per_page": size,
        "pages": math.ceil(page.total / size) if page.total else 0,
        "next_cursor": encode_cursor(req, page.next_offset, page.next_key) if page.next_key is not None else None,
    }


def whole_list(
    req: Any, body: dict[str, Any], key: str, default_size: int = 20, *, with_total: bool = True
) -> dict[str, Any]:
    """Lists VBWD returned whole: everything (up to 1000) with `total`, or a page when paging is asked for. The
    items are already in memory (the catalog snapshot), so a page is a slice and the cursor a position.
    `with_total=False` is for the few whole lists whose contract answer has no `total` (`GET /user/addons`)."""
    items = body[key]
    paging = page_request(req, default_size)
    if paging is None:
        answer = {**body, key: items[:WHOLE_LIST_CAP]}
        if with_total:
            answer["total"] = len(items)
        if len(items) > WHOLE_LIST_CAP:
            answer["next_cursor"] = encode_cursor(req, WHOLE_LIST_CAP, {"position": WHOLE_LIST_CAP})
        return answer
    page = slice_page(items, paging.request)
    return {**body, key: page.items, **page_keys(req, page)}


def whole_list_or_page(
    req: Any, key: str, fetch: Callable[[PageRequest], Page[Any]], default_size: int = 20
) -> dict[str, Any]:
    """A list VBWD returned whole, paged in DynamoDB: without paging parameters the first 1000 items and `total`
    (with `next_cursor` when there are more), else the page asked for with its paging keys. `fetch` reads one page
    with `Limit` and the continuation key, and the total from a counter, so neither form reads the whole list."""
    paging = page_request(req, default_size)
    if paging is None:
        page = fetch(PageRequest(WHOLE_LIST_CAP))
        answer: dict[str, Any] = {key: page.items, "total": page.total}
        if page.next_key is not None:
            answer["next_cursor"] = encode_cursor(req, page.next_offset, page.next_key)
        return answer
    page = fetch(paging.request)
    return {key: page.items, **page_keys(req, page)}
