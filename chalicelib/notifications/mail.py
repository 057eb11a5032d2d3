"""Sends e-mail through SES and keeps a log of what was sent (read by the local-stage notification outbox)."""

from __future__ import annotations

from datetime import timedelta

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.core import clock
from chalicelib.core.aws import aws_client
from chalicelib.core.config import get_settings
from chalicelib.core.ids import new_id
from chalicelib.core.times import iso
from chalicelib.store.base import NotificationsTable

LOG_RETENTION = timedelta(days=30)


class NotificationItem(NotificationsTable, discriminator="NOTIFICATION"):
    """pk `NOTIFICATION#<id>`; GSI1 `ALL` (and `TO#<address>`) by time for the newest-first outbox."""

    id = UnicodeAttribute()
    channel = UnicodeAttribute()
    to = UnicodeAttribute()
    subject = UnicodeAttribute(null=True)
    body = UnicodeAttribute()
    template = UnicodeAttribute()
    provider_message_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


def send_email(to: str, subject: str, body: str, template: str) -> NotificationItem:
    settings = get_settings()
    response = aws_client("ses").send_email(
        Source=settings.mail_from,
        Destination={"ToAddresses": [to]},
        Message={
            "Subject": {"Data": subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
        },
    )
    now = clock.now()
    notification_id = new_id()
    item = NotificationItem(
        pk=f"NOTIFICATION#{notification_id}",
        sk="NOTIFICATION",
        id=notification_id,
        channel="email",
        to=to,
        subject=subject,
        body=body,
        template=template,
        provider_message_id=response.get("MessageId"),
        created_at=now,
        gsi1pk="ALL",
        gsi1sk=f"{iso(now)}#{notification_id}",
        ttl=now + LOG_RETENTION,
    )
    item.save()
    return item
