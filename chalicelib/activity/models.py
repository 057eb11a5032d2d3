"""The activity log (admin.md §17.7): domain events, client events and the admin audit trail, newest first."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.core.ids import new_id
from chalicelib.core.times import iso
from chalicelib.store.base import AnalyticsTable

RETENTION = timedelta(days=400)


class ActivityItem(AnalyticsTable, discriminator="ACTIVITY"):
    """pk `ACTIVITY#<yyyy-mm>`, sk `<created_at>#<id>`; GSI1 `SOURCE#<source>` by time."""

    id = UnicodeAttribute()
    type = UnicodeAttribute()
    source = UnicodeAttribute()
    description = UnicodeAttribute()
    actor_type = UnicodeAttribute()
    actor_id = UnicodeAttribute(null=True)
    actor_email = UnicodeAttribute(null=True)
    subject_type = UnicodeAttribute(null=True)
    subject_id = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute(null=True)  # the user the entry is about, when it is about one (the `user_id` filter)
    data = JSONAttribute(default=dict)
    created_at = UTCDateTimeAttribute()

    @classmethod
    def new(
        cls,
        *,
        type: str,
        source: str,
        description: str,
        actor: tuple[str, str | None, str | None],
        subject: tuple[str, str] | None,
        now: datetime,
        data: dict[str, Any] | None = None,
        activity_id: str | None = None,
        user_id: str | None = None,
    ) -> ActivityItem:
        """`activity_id`: the entry's own id, e.g. the event's (a second entry of the same id and moment is refused);
        `user_id`: the user it is about, the subject's when the subject is a user."""
        activity_id = activity_id or new_id()
        order = f"{iso(now)}#{activity_id}"
        actor_type, actor_id, actor_email = actor
        return cls(
            f"ACTIVITY#{now:%Y-%m}",
            order,
            id=activity_id,
            type=type,
            source=source,
            description=description,
            actor_type=actor_type,
            actor_id=actor_id,
            actor_email=actor_email,
            subject_type=subject[0] if subject else None,
            subject_id=subject[1] if subject else None,
            user_id=user_id or (subject[1] if subject and subject[0] == "user" else None),
            data=data or {},
            created_at=now,
            gsi1pk=f"SOURCE#{source}",
            gsi1sk=order,
            ttl=now + RETENTION,
        )


class ActivityCountsItem(AnalyticsTable, discriminator="ACTIVITY_COUNTS"):
    """pk `COUNT#ACTIVITY`, sk `COUNT`: entries written, in all and per source (moved with each entry)."""

    total = NumberAttribute(default=0)
    domain = NumberAttribute(default=0)
    client = NumberAttribute(default=0)
    admin = NumberAttribute(default=0)

    @staticmethod
    def key() -> tuple[str, str]:
        return "COUNT#ACTIVITY", "COUNT"
