"""Per-request context. Chalice's `app.current_request` is shared by every thread of `chalice local` (and of
threaded tests), so the request, its id and its caller live in context variables instead."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

current_request: ContextVar[Any] = ContextVar("current_request", default=None)
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# Values read once per request (e.g. the catalog snapshot); None outside a request.
request_memo: ContextVar[dict[str, Any] | None] = ContextVar("request_memo", default=None)
