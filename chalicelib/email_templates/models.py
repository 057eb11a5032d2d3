"""Stored e-mail templates (admin.md §20) in the `catalog` table.

One item per event type in a partition of their own: pk `EMAIL_TEMPLATES`, sk `<event type>`. The event type is the
natural key, so "one template per event type" is the key itself (a conditional put), the mail consumer reads the
template of its event with one GetItem, and the list is one Query, already in `event_type` order. The partition
holds at most one item per declared event type (`chalicelib.email_templates.event_types`), so reading it whole to
find a template by its id stays a single small Query whatever else the catalog holds.
"""

from __future__ import annotations

from typing import ClassVar

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.store.base import CatalogTable

PARTITION = "EMAIL_TEMPLATES"
EDITABLE = ("subject", "html_body", "text_body", "is_active")


class EmailTemplateItem(CatalogTable, discriminator="EMAIL_TEMPLATE"):
    """pk `EMAIL_TEMPLATES`, sk the event type."""

    PK: ClassVar[str] = PARTITION

    id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    subject = UnicodeAttribute(default="")
    html_body = UnicodeAttribute(default="")
    text_body = UnicodeAttribute(default="")
    is_active = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, event_type: str) -> tuple[str, str]:
        return PARTITION, event_type
