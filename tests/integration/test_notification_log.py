"""The log of sent mail (docs/data-model.md § notifications): one item per message SES accepted, newest first on
GSI1, expiring after 30 days."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.notifications.models import NotificationItem
from tests.integration.conftest import Api, drain_events, sent_mail


def test_every_mail_sent_is_logged_newest_first(fresh_api: Api, manual_clock) -> None:
    for email in ("ada@example.com", "grace@example.com"):
        answer = fresh_api.post("/api/v1/auth/register", {"email": email, "password": "Abcdef1!"})
        assert answer.status == 200, answer.json
        drain_events()
        manual_clock.advance(timedelta(minutes=1))

    logged = list(NotificationItem.gsi1.query("ALL", scan_index_forward=False))

    assert [(n.to, n.template, n.channel) for n in logged] == [
        ("grace@example.com", "welcome", "email"),
        ("ada@example.com", "welcome", "email"),
    ]
    assert [n.subject for n in logged] == [m["subject"] for m in reversed(sent_mail())]
    for item in logged:
        assert (item.pk, item.sk) == NotificationItem.key(item.id)
        assert item.provider_message_id
        assert item.ttl == item.created_at + timedelta(days=30)
