"""Every admin write that succeeded is in the audit log with its actor, route, targets and field names — never the
values (admin.md introduction); reads, refusals and replayed answers are not."""

from __future__ import annotations

from typing import Any

from chalicelib.activity.models import ActivityItem
from tests.integration.buyers import buy_basic_and_tokens, german_buyer
from tests.integration.conftest import ADMIN, Api


def audit_entries() -> list[ActivityItem]:
    return [entry for entry in ActivityItem.gsi1.query("SOURCE#admin") if entry.type.startswith("admin.")]


def test_a_successful_admin_write_is_audited_once_and_its_replay_is_not(fresh_api: Api) -> None:
    api = fresh_api
    token = german_buyer(api, "audited").token
    invoice_id = buy_basic_and_tokens(api, token)["invoice"]["id"]
    admin_token = api.token(*ADMIN)
    admin_id = api.get("/api/v1/auth/me", token=admin_token).json["id"]
    body: dict[str, Any] = {"payment_reference": "SECRET-REF-123", "payment_method": "manual"}
    path = f"/api/v1/admin/invoices/{invoice_id}/mark-paid"
    headers = {"Idempotency-Key": "audit-once"}

    first = api.post(path, body, token=admin_token, headers=headers)
    replay = api.post(path, body, token=admin_token, headers=headers)
    refused = api.post(path, body, token=admin_token)  # already paid: 400, not audited

    assert (first.status, replay.status, refused.status) == (200, 200, 400)
    [entry] = audit_entries()
    assert entry.type == "admin.mark_paid" and entry.source == "admin"
    assert (entry.actor_type, entry.actor_id, entry.actor_email) == ("admin", admin_id, ADMIN[0])
    assert (entry.subject_type, entry.subject_id) == ("invoice", invoice_id)
    assert entry.data == {
        "method": "POST",
        "path": path,
        "targets": {"invoice_id": invoice_id},
        "fields": ["payment_method", "payment_reference"],
    }
    assert "SECRET-REF-123" not in repr(entry.attribute_values)


def test_admin_reads_are_not_audited(fresh_api: Api) -> None:
    fresh_api.get("/api/v1/admin/dev/clock", token=fresh_api.token(*ADMIN))
    assert audit_entries() == []
