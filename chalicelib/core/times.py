"""Datetime wire format (contract README §1.7): UTC with `Z`, six sub-second digits when there are any."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def sortable(moment: datetime) -> str:
    """UTC with all six sub-second digits: strings that sort as the instants do (sort keys). The wire form drops
    the digits of a whole second, and `…:00Z` sorts after `…:00.5Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_instant(text: str) -> datetime:
    """`Z`, a numeric offset or no offset (naive means UTC). Raises ValueError on anything else."""
    if not isinstance(text, str) or not text:
        raise ValueError("not a datetime")
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def unix(moment: datetime) -> int:
    return int(moment.timestamp())
