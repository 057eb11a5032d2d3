"""The log of sent e-mail and SMS in the `notifications` table (docs/data-model.md § notifications)."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.core.times import iso
from chalicelib.store.attributes import string_list
from chalicelib.store.base import NotificationsTable

EVERYTHING = "ALL"


class NotificationItem(NotificationsTable, discriminator="NOTIFICATION"):
    """pk `NOTIFICATION#<id>`, sk `NOTIFICATION`; GSI1 `ALL` / `<created_at>#<id>` for the newest-first log."""

    id = UnicodeAttribute()
    channel = UnicodeAttribute()
    to = UnicodeAttribute()
    subject = UnicodeAttribute(null=True)
    body = UnicodeAttribute()
    template = UnicodeAttribute()
    provider_message_id = UnicodeAttribute(null=True)
    attachments = string_list(default=list)
    created_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, notification_id: str) -> tuple[str, str]:
        return f"NOTIFICATION#{notification_id}", "NOTIFICATION"

    def index(self) -> None:
        self.gsi1pk, self.gsi1sk = EVERYTHING, f"{iso(self.created_at)}#{self.id}"
