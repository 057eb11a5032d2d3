"""The `activity` consumer: every domain event (events.md §2) becomes an entry of the activity log, source
`domain` (admin.md §17.7). The entry takes the event's id and moment, so a redelivery finds it written and neither
writes nor counts it again. Events that carry secrets or addresses of the unauthenticated (a reset link, a login
attempt's e-mail and IP) are logged without their payload."""

from __future__ import annotations

from typing import Any

from chalicelib.activity import repository
from chalicelib.activity.models import ActivityItem
from chalicelib.core.times import parse_instant

# Payloads kept only for the events outbound webhooks may carry (chalicelib.events.catalog `WEBHOOK`).
PRIVATE = frozenset(
    {
        "user.password_reset_requested",
        "auth.login_failed",
        "auth.locked",
        "auth.logout",
        "auth.refresh_reuse_detected",
    }
)
SUBJECTS = (  # the first of these a payload names is the entry's subject
    ("invoice_id", "invoice"),
    ("credit_note_id", "credit_note"),
    ("addon_subscription_id", "addon_subscription"),
    ("subscription_id", "subscription"),
    ("user_id", "user"),
)
NAMES = ("invoice_number", "credit_note_number", "plan_name", "addon_slug", "email")  # how a description names it


def entry_of(envelope: dict[str, Any]) -> ActivityItem:
    event_type = str(envelope["type"])
    data: dict[str, Any] = dict(envelope.get("data") or {})
    actor = dict(envelope.get("actor") or {})
    subject = next(((kind, str(data[key])) for key, kind in SUBJECTS if data.get(key)), None)
    return ActivityItem.new(
        type=event_type,
        source="domain",
        description=describe(event_type, data),
        actor=(str(actor.get("type") or "system"), actor.get("id"), None),
        subject=subject,
        now=parse_instant(str(envelope["occurred_at"])),
        data={} if event_type in PRIVATE else data,
        activity_id=str(envelope["id"]),
        user_id=str(data["user_id"]) if data.get("user_id") else None,
    )


def describe(event_type: str, data: dict[str, Any]) -> str:
    """`invoice.paid` of INV-2026-000042 → "Invoice INV-2026-000042 paid"."""
    noun, _, action = event_type.partition(".")
    name = next((str(data[key]) for key in NAMES if data.get(key)), None)
    words = [noun.replace("_", " ").capitalize(), *([name] if name else []), action.replace("_", " ")]
    return " ".join(words)


def handle_event(envelope: dict[str, Any]) -> None:
    repository.add(entry_of(envelope))
