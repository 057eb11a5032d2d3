"""Fixed-window rate limits (contract README §1.9), counted in the `ratelimits` table.

Each request costs one UpdateItem: the per-IP default keeps one item per IP and UTC day holding the day's count
and one attribute per hour (`h00`…`h23`), so the hourly and the daily window are counted by the same write.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from chalicelib.core import clock
from chalicelib.core.config import get_settings
from chalicelib.core.errors import RateLimited
from chalicelib.core.times import unix


class LimitScope(Enum):
    NONE = "none"
    DEFAULT = "default"
    AUTH = "auth"


@dataclass(frozen=True)
class Window:
    limit: int
    count: int
    resets_at: datetime
    description: str

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    def headers(self, now: datetime) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - self.count)),
            "X-RateLimit-Reset": str(unix(self.resets_at)),
        }

    def retry_after(self, now: datetime) -> int:
        return max(1, math.ceil((self.resets_at - now).total_seconds()))


def _increment(key: str, attributes: list[str], expires: datetime) -> dict[str, int]:
    from chalicelib.store.connection import client

    names = {f"#a{i}": name for i, name in enumerate(attributes)}
    adds = ", ".join(f"{alias} :one" for alias in names)
    response = client().update_item(
        TableName=get_settings().table_name("ratelimits"),
        Key={"pk": {"S": key}, "sk": {"S": "WINDOW"}},
        UpdateExpression=f"ADD {adds} SET #ttl = if_not_exists(#ttl, :ttl), #kind = if_not_exists(#kind, :kind)",
        ExpressionAttributeNames={**names, "#ttl": "ttl", "#kind": "kind"},
        ExpressionAttributeValues={
            ":one": {"N": "1"},
            ":ttl": {"N": str(unix(expires))},
            ":kind": {"S": "WINDOW"},
        },
        ReturnValues="UPDATED_NEW",
    )
    values: dict[str, Any] = response.get("Attributes", {})
    return {name: int(values[name]["N"]) for name in attributes if name in values}


def hit(scope: LimitScope, ip: str) -> Window | None:
    """Count one request of `ip` and return the window that governs it (the tightest one)."""
    settings = get_settings()
    if scope is LimitScope.NONE or not settings.rate_limit_enabled:
        return None
    now = clock.now()
    if scope is LimitScope.AUTH:
        minute = now.replace(second=0, microsecond=0)
        counts = _increment(f"AUTH#{ip}#{minute:%Y%m%d%H%M}", ["c"], minute + timedelta(minutes=2))
        limit = settings.auth_rate_limit_per_minute
        return Window(limit, counts["c"], minute + timedelta(minutes=1), f"{limit} per 1 minute")
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    hour_attr = f"h{now.hour:02d}"
    counts = _increment(f"IP#{ip}#{day:%Y%m%d}", ["d", hour_attr], day + timedelta(days=2))
    hour_start = now.replace(minute=0, second=0, microsecond=0)
    hourly = Window(
        settings.rate_limit_per_hour,
        counts[hour_attr],
        hour_start + timedelta(hours=1),
        f"{settings.rate_limit_per_hour} per 1 hour",
    )
    daily = Window(
        settings.rate_limit_per_day,
        counts["d"],
        day + timedelta(days=1),
        f"{settings.rate_limit_per_day} per 1 day",
    )
    if daily.exceeded:
        return daily
    return hourly


def enforce(scope: LimitScope, ip: str) -> dict[str, str]:
    """Count the request; raise 429 when over the limit; return the X-RateLimit-* headers for the answer."""
    window = hit(scope, ip)
    if window is None:
        return {}
    now = clock.now()
    headers = window.headers(now)
    if window.exceeded:
        headers["Retry-After"] = str(window.retry_after(now))
        raise RateLimited("Rate limit exceeded", headers=headers, message=window.description)
    return headers
