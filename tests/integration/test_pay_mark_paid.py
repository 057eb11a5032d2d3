"""POST /api/v1/admin/invoices/<id>/mark-paid (admin.md §9.4): an admin confirms a payment; the capture of
checkout-and-payments.md §6 runs without an amount check."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from chalicelib.core.clock import ManualClock
from chalicelib.core.ids import seed_id
from tests.contract import EXTRA_STORAGE, INVALID_ID, NO_CREDENTIAL
from tests.integration.buyers import buy_basic_and_tokens, german_buyer, pay
from tests.integration.conftest import ADMIN, Api, drain_events, outbox_events, sent_mail

OBSERVER = ("observer@example.com", "ObserverPass123@")


def mark_paid(api: Api, token: str | None, invoice_id: str, body: dict[str, Any] | None = None, **kw: Any) -> Any:
    return api.post(f"/api/v1/admin/invoices/{invoice_id}/mark-paid", body or {}, token=token, **kw)


def admin(api: Api) -> str:
    return api.token(*ADMIN)


def test_mark_paid_captures_and_answers_with_the_activated_items(api: Api, manual_clock: ManualClock) -> None:
    shopper = german_buyer(api, "manual")
    email, token = shopper.email, shopper.token
    bought = buy_basic_and_tokens(api, token)
    invoice_id = bought["invoice"]["id"]
    [purchase] = bought["token_bundles"]

    answer = mark_paid(api, admin(api), invoice_id)

    assert answer.status == 200, answer.json
    assert set(answer.json) == {"invoice", "message", "items_activated"}
    assert answer.json["message"] == "Invoice marked as paid"
    assert answer.json["items_activated"] == {
        "subscription": bought["subscription"]["id"],
        "token_bundles": [purchase["id"]],
        "add_ons": [],
        "tokens_credited": 150,
        "bookings": [],
    }
    invoice = answer.json["invoice"]
    assert invoice["id"] == invoice_id and invoice["status"] == "PAID"
    assert invoice["payment_ref"] == "MANUAL" and invoice["payment_method"] == "manual"
    assert invoice["paid_at"] == "2026-05-01T09:00:00Z"
    assert invoice["user_email"] == email
    assert invoice["total_amount"] == "15.46" and invoice["amount_refunded"] == "0.00"
    # The activation is that of any capture.
    sub = api.get(f"/api/v1/user/subscriptions/{bought['subscription']['id']}", token=token).json["subscription"]
    assert (sub["status"], sub["current_period_start"], sub["expires_at"]) == (
        "ACTIVE",
        "2026-05-01T09:00:00Z",
        "2026-06-01T09:00:00Z",
    )
    assert sub["has_saved_payment_method"] is False  # nothing a renewal could charge
    assert api.get("/api/v1/user/tokens/balance", token=token).json == {"balance": 150}
    stored = api.get(f"/api/v1/user/invoices/{invoice_id}", token=token).json["invoice"]
    assert (stored["status"], stored["payment_ref"], stored["payment_method"]) == ("PAID", "MANUAL", "manual")


def test_mark_paid_writes_the_capture_events_with_the_admin_as_actor(api: Api) -> None:
    shopper = german_buyer(api, "manual-events")
    email, token = shopper.email, shopper.token
    bought = buy_basic_and_tokens(api, token)
    invoice_id = bought["invoice"]["id"]
    admin_token = admin(api)
    admin_id = seed_id("user", "admin@example.com")

    assert mark_paid(api, admin_token, invoice_id).status == 200

    [captured] = [e for e in outbox_events("payment.captured") if e["data"]["invoice_id"] == invoice_id]
    assert captured["actor"] == {"type": "admin", "id": admin_id}
    assert captured["data"]["payment_reference"] == "MANUAL" and captured["data"]["provider"] == "manual"
    assert captured["data"]["amount"] == "15.46" and captured["data"]["currency"] == "EUR"
    [paid] = [e for e in outbox_events("invoice.paid") if e["data"]["invoice_id"] == invoice_id]
    assert paid["data"]["payment_reference"] == "MANUAL" and paid["data"]["provider"] == "manual"
    assert paid["data"]["user_email"] == email
    activated = [
        e
        for e in outbox_events("subscription.activated")
        if e["data"]["subscription_id"] == bought["subscription"]["id"]
    ]
    assert len(activated) == 1
    drain_events()
    number = bought["invoice"]["invoice_number"]
    [receipt] = [m for m in sent_mail() if m["subject"] == f"Receipt for invoice {number}"]
    assert set(receipt["to"]) == {email} and list(receipt["attachments"]) == [f"invoice-{number}.pdf"]


def test_mark_paid_records_a_given_reference_and_method(api: Api) -> None:
    token = german_buyer(api, "custom-ref").token
    invoice_id = buy_basic_and_tokens(api, token)["invoice"]["id"]

    answer = mark_paid(api, admin(api), invoice_id, {"payment_reference": "BANK-2026-0042", "payment_method": "wire"})

    assert answer.status == 200, answer.json
    assert answer.json["invoice"]["payment_ref"] == "BANK-2026-0042"
    assert answer.json["invoice"]["payment_method"] == "wire"
    stored = api.get(f"/api/v1/user/invoices/{invoice_id}", token=token).json["invoice"]
    assert (stored["payment_ref"], stored["payment_method"]) == ("BANK-2026-0042", "wire")


def test_mark_paid_of_an_invoice_past_its_due_date_still_captures(api: Api, manual_clock: ManualClock) -> None:
    """Only PENDING is required: a late bank transfer is still recorded (no due-date check on this route)."""
    token = german_buyer(api, "late-transfer").token
    invoice_id = buy_basic_and_tokens(api, token)["invoice"]["id"]
    manual_clock.advance(timedelta(days=40))

    answer = mark_paid(api, admin(api), invoice_id)

    assert answer.status == 200, answer.json
    assert answer.json["invoice"]["paid_at"] == "2026-06-10T09:00:00Z"


def test_mark_paid_twice_400_invoice_already_paid(api: Api) -> None:
    token = german_buyer(api, "manual-twice").token
    invoice_id = buy_basic_and_tokens(api, token)["invoice"]["id"]
    admin_token = admin(api)
    assert mark_paid(api, admin_token, invoice_id).status == 200

    answer = mark_paid(api, admin_token, invoice_id)

    assert answer.status == 400
    assert answer.json == {"error": "Invoice already paid"}
    assert api.get("/api/v1/user/tokens/balance", token=token).json == {"balance": 150}


def test_mark_paid_of_a_sandbox_paid_invoice_400_invoice_already_paid(api: Api) -> None:
    token = german_buyer(api, "sandbox-paid").token
    invoice_id = buy_basic_and_tokens(api, token, payment_method_code="sandbox")["invoice"]["id"]
    assert pay(api, token, invoice_id).status == 200

    answer = mark_paid(api, admin(api), invoice_id)

    assert (answer.status, answer.json) == (400, {"error": "Invoice already paid"})


def test_mark_paid_of_an_authorized_invoice_400(api: Api) -> None:
    token = german_buyer(api, "manual-authorized").token
    invoice_id = buy_basic_and_tokens(api, token, payment_method_code="sandbox")["invoice"]["id"]
    authorized = pay(api, token, invoice_id, {"sandbox_outcome": "authorize"})
    assert authorized.status == 200

    answer = mark_paid(api, admin(api), invoice_id)

    assert answer.status == 400
    assert answer.json == {"error": "Cannot mark as paid: invoice status is AUTHORIZED"}
    assert api.get(f"/api/v1/user/invoices/{invoice_id}", token=token).json["invoice"]["status"] == "AUTHORIZED"


def test_mark_paid_of_a_cancelled_invoice_400(api: Api) -> None:
    token = german_buyer(api, "manual-cancelled").token
    bought = buy_basic_and_tokens(api, token, plan_id=None, token_bundle_ids=None, add_on_ids=[EXTRA_STORAGE])
    [addon] = bought["add_ons"]
    assert api.post(f"/api/v1/user/addons/{addon['id']}/cancel", {}, token=token).status == 200

    answer = mark_paid(api, admin(api), bought["invoice"]["id"])

    assert answer.status == 400
    assert answer.json == {"error": "Cannot mark as paid: invoice status is CANCELLED"}


def test_mark_paid_of_an_unknown_invoice_404(api: Api) -> None:
    answer = mark_paid(api, admin(api), str(uuid.uuid4()))

    assert answer.status == 404
    assert answer.json == {"error": "Invoice not found"}


def test_mark_paid_with_a_malformed_id_400(api: Api) -> None:
    answer = mark_paid(api, admin(api), "12345")

    assert (answer.status, answer.json) == (400, INVALID_ID)


def test_mark_paid_with_an_overlong_reference_400_and_nothing_changes(api: Api) -> None:
    token = german_buyer(api, "long-ref").token
    invoice_id = buy_basic_and_tokens(api, token)["invoice"]["id"]

    answer = mark_paid(api, admin(api), invoice_id, {"payment_reference": "R" * 256})

    assert answer.status == 400
    assert answer.json["error"] == "payment_reference must be 1-255 characters"
    assert api.get(f"/api/v1/user/invoices/{invoice_id}", token=token).json["invoice"]["status"] == "PENDING"


def test_mark_paid_needs_a_token(api: Api) -> None:
    token = german_buyer(api, "manual-anon").token
    invoice_id = buy_basic_and_tokens(api, token)["invoice"]["id"]

    answer = mark_paid(api, None, invoice_id)

    assert (answer.status, answer.json) == (401, NO_CREDENTIAL)


def test_mark_paid_by_a_user_403_admin_access_required(api: Api) -> None:
    token = german_buyer(api, "self-service").token
    invoice_id = buy_basic_and_tokens(api, token)["invoice"]["id"]

    answer = mark_paid(api, token, invoice_id)

    assert answer.status == 403
    assert answer.json == {"error": "Admin access required"}
    assert api.get(f"/api/v1/user/invoices/{invoice_id}", token=token).json["invoice"]["status"] == "PENDING"


def test_mark_paid_by_an_admin_without_invoices_manage_403(api: Api) -> None:
    token = german_buyer(api, "observed").token
    invoice_id = buy_basic_and_tokens(api, token)["invoice"]["id"]

    answer = mark_paid(api, api.token(*OBSERVER), invoice_id)

    assert answer.status == 403
    assert answer.json == {"error": "Permission denied", "required": "invoices.manage"}
    assert api.get(f"/api/v1/user/invoices/{invoice_id}", token=token).json["invoice"]["status"] == "PENDING"


def test_mark_paid_with_an_idempotency_key_replays_the_stored_answer_and_captures_once(api: Api) -> None:
    token = german_buyer(api, "manual-idempotent").token
    bought = buy_basic_and_tokens(api, token)
    invoice_id = bought["invoice"]["id"]
    admin_token = admin(api)
    key = {"Idempotency-Key": f"mark-{uuid.uuid4()}"}

    first = mark_paid(api, admin_token, invoice_id, headers=key)
    again = mark_paid(api, admin_token, invoice_id, headers=key)

    assert first.status == again.status == 200
    assert again.json == first.json
    assert again.json["items_activated"]["tokens_credited"] == 150
    assert again.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    assert api.get("/api/v1/user/tokens/balance", token=token).json == {"balance": 150}
    assert len([e for e in outbox_events("payment.captured") if e["data"]["invoice_id"] == invoice_id]) == 1
    # Without the key the second request is a new one, refused on the invoice's state.
    assert mark_paid(api, admin_token, invoice_id).json == {"error": "Invoice already paid"}
