"""Writes of the activity log (the `analytics` table)."""

from __future__ import annotations

from chalicelib.activity.models import ActivityItem


def add(entry: ActivityItem) -> None:
    """One new entry (its key is unique: its time and a fresh id)."""
    entry.save(ActivityItem.pk.does_not_exist())
