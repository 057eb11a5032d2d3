"""Fixed-window rate limits (contract README §1.9): which window governs a request, its limit and its headers.

The counting is `chalicelib.store.ratelimits` (one UpdateItem per request: the per-IP default counts the hourly
and the daily window with the same write).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from chalicelib.core import clock
from chalicelib.core.config import get_settings
from chalicelib.core.errors import RateLimited
from chalicelib.core.times import unix
from chalicelib.store import ratelimits as counters


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


def hit(scope: LimitScope, ip: str) -> Window | None:
    """Count one request of `ip` and return the window that governs it (the tightest one)."""
    settings = get_settings()
    if scope is LimitScope.NONE or not settings.rate_limit_enabled:
        return None
    now = clock.now()
    if scope is LimitScope.AUTH:
        minute = now.replace(second=0, microsecond=0)
        limit = settings.auth_rate_limit_per_minute
        count = counters.count_auth_request(ip, minute)
        return Window(limit, count, minute + timedelta(minutes=1), f"{limit} per 1 minute")
    counts = counters.count_request(ip, now)
    hour_start = now.replace(minute=0, second=0, microsecond=0)
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    hourly = Window(
        settings.rate_limit_per_hour,
        counts.hour,
        hour_start + timedelta(hours=1),
        f"{settings.rate_limit_per_hour} per 1 hour",
    )
    daily = Window(
        settings.rate_limit_per_day,
        counts.day,
        day_start + timedelta(days=1),
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
