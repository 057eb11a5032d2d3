"""Who holds each access level: one item per holding and a counter per level (`chalicelib/access/members.py`
writes them with every change of a user's level lists)."""

from __future__ import annotations

from typing import ClassVar

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.store.base import CountersTable, UsersTable


class LevelMemberItem(UsersTable, discriminator="LEVEL_MEMBER"):
    """pk `LEVEL#<level id>`, sk `USER#<user id>`: the user holds the level."""

    user_id = UnicodeAttribute()

    @classmethod
    def key(cls, level_id: str, user_id: str) -> tuple[str, str]:
        return f"LEVEL#{level_id}", f"USER#{user_id}"


class LevelCountItem(CountersTable, discriminator="LEVEL_COUNT"):
    """pk `COUNT#LEVEL#<level id>`, sk `COUNT`: how many users hold the level."""

    FIELD: ClassVar[str] = "members"
    members = NumberAttribute(default=0)

    @classmethod
    def key(cls, level_id: str) -> tuple[str, str]:
        return f"COUNT#LEVEL#{level_id}", "COUNT"
