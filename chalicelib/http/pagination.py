"""Paging of lists (contract README §1.11): limit/offset and page/per_page, totals, opaque cursors."""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Any

from chalicelib.core.errors import BadRequest
from chalicelib.http.request import Req

INVALID = "Invalid pagination parameters"
MAX_PAGE = 100
WHOLE_LIST_CAP = 1000


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int
    style: str  # "limit" or "page"


def _int(req: Req, name: str) -> int | None:
    value = req.query(name)
    if value is None or value == "":
        return None
    try:
        return int(value.strip())
    except ValueError as exc:
        raise BadRequest(INVALID) from exc


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset = data["o"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise BadRequest(INVALID) from exc
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise BadRequest(INVALID)
    return offset


def page_request(req: Req, default_size: int, default_style: str = "limit") -> Page | None:
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
    if cursor:
        start = decode_cursor(cursor)
    return Page(start, size, style)


def page_keys(page: Page, total: int) -> dict[str, Any]:
    next_offset = page.offset + page.limit
    return {
        "total": total,
        "limit": page.limit,
        "offset": page.offset,
        "page": page.offset // page.limit + 1,
        "per_page": page.limit,
        "pages": math.ceil(total / page.limit) if total else 0,
        "next_cursor": encode_cursor(next_offset) if next_offset < total else None,
    }


def whole_list(req: Req, body: dict[str, Any], key: str, default_size: int = 20) -> dict[str, Any]:
    """Lists VBWD returned whole: everything (up to 1000) with `total`, or a page when paging is asked for."""
    items = body[key]
    total = len(items)
    page = page_request(req, default_size)
    if page is None:
        answer = {**body, key: items[:WHOLE_LIST_CAP], "total": total}
        if total > WHOLE_LIST_CAP:
            answer["next_cursor"] = encode_cursor(WHOLE_LIST_CAP)
        return answer
    return {**body, key: items[page.offset : page.offset + page.limit], **page_keys(page, total)}
