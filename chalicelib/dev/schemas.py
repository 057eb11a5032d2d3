"""Request and answer models of the development routes (contract admin.md §19)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from chalicelib.core.times import parse_instant
from chalicelib.core.validation import Answer, Body, Instant, PagingQuery, Uuid, refuse

EXACTLY_ONE = "Exactly one of advance_seconds, set or reset is required"
MOVES = ("advance_seconds", "set", "reset")
LONGEST_MOVE_SECONDS = 100 * 366 * 86_400  # a century: far enough for any test, far from datetime's year 9999
CHANNELS = ("email", "sms")


class ClockBody(Body):
    """`POST /admin/dev/clock`: exactly one of the three moves."""

    advance_seconds: Annotated[
        int | None, Field(description="Move the clock this many seconds ahead", ge=1, le=LONGEST_MOVE_SECONDS)
    ] = None
    set: Annotated[datetime | None, Field(description="Move the clock to this moment (not earlier than now)")] = None
    reset: Annotated[bool | None, Field(description="`true`: back to the machine's time")] = None

    @model_validator(mode="before")
    @classmethod
    def _exactly_one(cls, data: Any) -> Any:
        if not isinstance(data, dict) or sum(data.get(name) is not None for name in MOVES) != 1:
            raise refuse(EXACTLY_ONE)
        return data

    @field_validator("advance_seconds", mode="before")
    @classmethod
    def _advance(cls, value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise refuse("advance_seconds must be a positive integer")
        if value > LONGEST_MOVE_SECONDS:
            raise refuse(f"advance_seconds must not exceed {LONGEST_MOVE_SECONDS}")
        return value

    @field_validator("set", mode="before")
    @classmethod
    def _set(cls, value: Any) -> datetime | None:
        if value is None:
            return None
        try:
            return parse_instant(value)
        except (ValueError, TypeError, OverflowError):
            raise refuse("set must be an ISO-8601 date-time") from None

    @field_validator("reset", mode="before")
    @classmethod
    def _reset(cls, value: Any) -> bool | None:
        if value is not None and value is not True:
            raise refuse("reset must be true")
        return value


class NotificationsQuery(PagingQuery):
    to: Annotated[str | None, Field(description="Only messages sent to this address or number")] = None
    channel: Annotated[str | None, Field(description="`email` or `sms`")] = None

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if value.strip().lower() not in CHANNELS:
            raise refuse(f"Invalid channel: {value}")
        return value.strip().lower()

    @field_validator("to")
    @classmethod
    def _to(cls, value: str | None) -> str | None:
        return value.strip() if value and value.strip() else None


# --- answers ---------------------------------------------------------------------------------------------------


class ClockAnswer(Answer):
    """The system's now and how far it is ahead of the machine's time"""

    now: Instant
    offset_seconds: int


class JobRunAnswer(Answer):
    """What the job did, and what the consumers it set going then delivered (`result.delivered`)"""

    job: str
    result: dict[str, Any]


class DevNotification(Answer):
    """One e-mail or SMS the system sent"""

    id: Uuid
    channel: str
    to: str
    subject: str | None
    body: str
    template: str
    created_at: Instant


class NotificationsAnswer(Answer):
    """Sent messages, newest first; `next_cursor` continues the list"""

    notifications: list[DevNotification]
    next_cursor: str | None


class ReseedAnswer(Answer):
    """All data replaced by the seed"""

    message: str
