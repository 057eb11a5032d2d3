"""Sends e-mail through SES and keeps a log of what was sent (read by the local-stage notification outbox)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.core import clock
from chalicelib.core.aws import aws_client
from chalicelib.core.config import get_settings
from chalicelib.core.ids import new_id
from chalicelib.core.times import iso
from chalicelib.store.attributes import string_list
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
    attachments = string_list(default=list)
    created_at = UTCDateTimeAttribute()


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


def _raw_message(sender: str, to: str, subject: str, body: str, attachments: list[Attachment]) -> bytes:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    for attachment in attachments:
        maintype, subtype = attachment.content_type.split("/", 1)
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return message.as_bytes()


def send_email(
    to: str, subject: str, body: str, template: str, attachments: list[Attachment] | None = None
) -> NotificationItem:
    settings = get_settings()
    ses = aws_client("ses")
    if attachments:
        raw = _raw_message(settings.mail_from, to, subject, body, attachments)
        response = ses.send_raw_email(Source=settings.mail_from, Destinations=[to], RawMessage={"Data": raw})
    else:
        response = ses.send_email(
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
        attachments=[a.filename for a in attachments or []],
        created_at=now,
        gsi1pk="ALL",
        gsi1sk=f"{iso(now)}#{notification_id}",
        ttl=now + LOG_RETENTION,
    )
    item.save()
    return item
