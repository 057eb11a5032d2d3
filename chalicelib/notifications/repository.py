"""Writes of the notification log: one item per message a provider accepted, kept for 30 days."""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.core.ids import new_id
from chalicelib.notifications.models import NotificationItem

LOG_RETENTION = timedelta(days=30)


def log_sent(
    *,
    channel: str,
    to: str,
    subject: str | None,
    body: str,
    template: str,
    provider_message_id: str | None,
    attachments: list[str],
    now: datetime,
) -> NotificationItem:
    """Record a message the provider accepted (a plain put: the id is new, nothing else writes the item)."""
    notification_id = new_id()
    item = NotificationItem(
        *NotificationItem.key(notification_id),
        id=notification_id,
        channel=channel,
        to=to,
        subject=subject,
        body=body,
        template=template,
        provider_message_id=provider_message_id,
        attachments=attachments,
        created_at=now,
        ttl=now + LOG_RETENTION,
    )
    item.index()
    item.save()
    return item
