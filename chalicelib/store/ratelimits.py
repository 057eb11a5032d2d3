"""Fixed-window request counters in the `ratelimits` table (which windows exist is `chalicelib.http.ratelimit`'s).

Every counted request costs one UpdateItem: `ADD` on the window's counters, returning their new values. The
per-IP default keeps one item per IP and UTC day, holding the day's count (`d`) and one counter per hour
(`h00`…`h23`), so the hourly and the daily window are counted by the same write; the auth routes count one item
per IP and minute (`c`); a limited admin action (test e-mails, invoice resends) one item per actor and hour (`c`).
Items expire (TTL) once no window can still read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.config import get_settings
from chalicelib.core.times import unix

KIND = "WINDOW"


@dataclass(frozen=True)
class DayCounts:
    """A client's requests so far in its UTC day and in the current hour of it."""

    day: int
    hour: int


def count_auth_request(ip: str, minute: datetime) -> int:
    """Count one auth-route request of `ip` in the minute starting at `minute`; the minute's count so far."""
    counts = _add_one(f"AUTH#{ip}#{minute:%Y%m%d%H%M}", ["c"], minute + timedelta(minutes=2))
    return counts["c"]


def count_action(action: str, actor: str, hour: datetime) -> int:
    """Count one `action` of `actor` (an admin's test e-mails, an invoice's resends) in the UTC hour starting at
    `hour`; the hour's count so far."""
    counts = _add_one(f"ACTION#{action}#{actor}#{hour:%Y%m%d%H}", ["c"], hour + timedelta(hours=2))
    return counts["c"]


def spend_hourly_allowance(action: str, actor: str, per_hour: int, now: datetime) -> None:
    """Count one `action` of `actor` in the current UTC hour; 429 (with `Retry-After`: the hour's rest) once more
    than `per_hour` were counted in it."""
    from chalicelib.core.errors import RateLimited

    hour = now.replace(minute=0, second=0, microsecond=0)
    if count_action(action, actor, hour) > per_hour:
        retry_after = max(1, int((hour.timestamp() + 3600) - now.timestamp()))
        raise RateLimited(
            "Rate limit exceeded", headers={"Retry-After": str(retry_after)}, message=f"{per_hour} per 1 hour"
        )


def count_request(ip: str, now: datetime) -> DayCounts:
    """Count one request of `ip` in its UTC day and hour (both by one write); the counts so far."""
    hour = f"h{now.hour:02d}"
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    counts = _add_one(f"IP#{ip}#{day:%Y%m%d}", ["d", hour], day + timedelta(days=2))
    return DayCounts(day=counts["d"], hour=counts[hour])


def _add_one(key: str, attributes: list[str], expires: datetime) -> dict[str, int]:
    """One UpdateItem: add 1 to each attribute of the window item (created on first use); their new values."""
    from chalicelib.store.connection import client

    names = {f"#a{i}": name for i, name in enumerate(attributes)}
    adds = ", ".join(f"{alias} :one" for alias in names)
    response = client().update_item(
        TableName=get_settings().table_name("ratelimits"),
        Key={"pk": {"S": key}, "sk": {"S": KIND}},
        UpdateExpression=f"ADD {adds} SET #ttl = if_not_exists(#ttl, :ttl), #kind = if_not_exists(#kind, :kind)",
        ExpressionAttributeNames={**names, "#ttl": "ttl", "#kind": "kind"},
        ExpressionAttributeValues={
            ":one": {"N": "1"},
            ":ttl": {"N": str(unix(expires))},
            ":kind": {"S": KIND},
        },
        ReturnValues="UPDATED_NEW",
    )
    values: dict[str, Any] = response.get("Attributes", {})
    return {name: int(values[name]["N"]) for name in attributes}
