"""Sends e-mail through SES and logs every message SES accepted (`chalicelib.notifications.repository`)."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.core import clock
from chalicelib.core.aws import aws_client
from chalicelib.core.config import get_settings
from chalicelib.notifications.models import NotificationItem
from chalicelib.notifications.repository import log_sent


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


def _raw_message(
    sender: str, to: str, subject: str, body: str, html_body: str | None, attachments: list[Attachment]
) -> bytes:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if html_body:
        message.add_alternative(html_body, subtype="html")
    for attachment in attachments:
        maintype, subtype = attachment.content_type.split("/", 1)
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return message.as_bytes()


def send_email(
    to: str,
    subject: str,
    body: str,
    template: str,
    attachments: list[Attachment] | None = None,
    *,
    html_body: str | None = None,
) -> NotificationItem:
    """Send `body` as the plain-text part (and `html_body`, when given, as its HTML alternative)."""
    settings = get_settings()
    ses = aws_client("ses")
    if attachments:
        raw = _raw_message(settings.mail_from, to, subject, body, html_body, attachments)
        response = ses.send_raw_email(Source=settings.mail_from, Destinations=[to], RawMessage={"Data": raw})
    else:
        parts = {"Text": {"Data": body, "Charset": "UTF-8"}}
        if html_body:
            parts["Html"] = {"Data": html_body, "Charset": "UTF-8"}
        response = ses.send_email(
            Source=settings.mail_from,
            Destination={"ToAddresses": [to]},
            Message={"Subject": {"Data": subject, "Charset": "UTF-8"}, "Body": parts},
        )
    return log_sent(
        channel="email",
        to=to,
        subject=subject,
        body=body,
        template=template,
        provider_message_id=response.get("MessageId"),
        attachments=[a.filename for a in attachments or []],
        now=clock.now(),
    )
