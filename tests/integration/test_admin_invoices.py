"""Admin invoices (admin.md §9.2, §9.5, §9.7, §9.8, §9.12): detail, void, soft delete, PDF and credit notes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from chalicelib.admin_billing.schemas import AdminInvoiceDetail
from chalicelib.core.clock import ManualClock
from tests.contract import INVALID_ID
from tests.integration.buyers import Buyer, buy_basic_and_tokens, german_buyer, paid
from tests.integration.conftest import ADMIN, Api

OBSERVER = ("observer@example.com", "ObserverPass123@")
ADMIN_PATH = "/api/v1/admin/invoices"


def pending_basket(api: Api, tag: str) -> tuple[Buyer, dict[str, Any]]:
    buyer = german_buyer(api, tag)
    return buyer, buy_basic_and_tokens(api, buyer.token, payment_method_code="sandbox")


def test_the_detail_adds_owner_plan_and_subscription(api: Api, manual_clock: ManualClock) -> None:
    buyer, bought = pending_basket(api, "detail")
    invoice_id = bought["invoice"]["id"]

    answer = api.get(f"{ADMIN_PATH}/{invoice_id}", token=api.token(*OBSERVER))

    assert answer.status == 200, answer.json
    invoice = answer.json["invoice"]
    AdminInvoiceDetail.model_validate(invoice)
    assert (invoice["user_email"], invoice["plan_name"], invoice["plan_price"]) == (buyer.email, "Basic", "9.99")
    assert (invoice["subscription_status"], invoice["subscription_is_trial"], invoice["payment_attempts"]) == (
        "PENDING",
        False,
        0,
    )
    assert len(invoice["line_items"]) == 2


def test_void_cancels_the_invoice_and_what_it_bills(api: Api, manual_clock: ManualClock) -> None:
    buyer, bought = pending_basket(api, "void")
    invoice_id = bought["invoice"]["id"]

    answer = api.post(f"{ADMIN_PATH}/{invoice_id}/void", {}, token=api.token(*ADMIN))

    assert answer.status == 200, answer.json
    assert (answer.json["message"], answer.json["invoice"]["status"]) == ("Invoice voided", "CANCELLED")
    sub = api.get(f"/api/v1/user/subscriptions/{bought['subscription']['id']}", token=buyer.token).json
    assert (sub["subscription"]["status"], sub["subscription"]["cancel_reason"]) == ("CANCELLED", "admin")
    again = api.post(f"{ADMIN_PATH}/{invoice_id}/void", {}, token=api.token(*ADMIN))
    assert (again.status, again.json) == (400, {"error": "Cannot void: invoice status is CANCELLED"})


def test_paid_invoices_are_neither_voided_nor_deleted(api: Api, manual_clock: ManualClock) -> None:
    buyer, bought = pending_basket(api, "paid-stays")
    invoice_id = bought["invoice"]["id"]
    paid(api, buyer.token, invoice_id)
    admin = api.token(*ADMIN)

    assert api.post(f"{ADMIN_PATH}/{invoice_id}/void", {}, token=admin).json == {
        "error": "Cannot void: invoice status is PAID"
    }
    assert api.request("DELETE", f"{ADMIN_PATH}/{invoice_id}", token=admin).json == {
        "error": "Cannot delete: invoice status is PAID"
    }


def test_a_deleted_invoice_is_gone_from_every_read(api: Api, manual_clock: ManualClock) -> None:
    buyer, bought = pending_basket(api, "delete")
    invoice_id = bought["invoice"]["id"]
    admin = api.token(*ADMIN)

    answer = api.request("DELETE", f"{ADMIN_PATH}/{invoice_id}", token=admin)

    assert (answer.status, answer.json) == (200, {"message": "Invoice deleted successfully"})
    assert api.get(f"{ADMIN_PATH}/{invoice_id}", token=admin).json == {"error": "Invoice not found"}
    assert api.get(f"/api/v1/user/invoices/{invoice_id}", token=buyer.token).status == 404
    assert api.get("/api/v1/user/invoices", token=buyer.token).json["invoices"] == []
    sub = api.get(f"/api/v1/user/subscriptions/{bought['subscription']['id']}", token=buyer.token).json
    assert sub["subscription"]["status"] == "CANCELLED"


def test_pdfs_of_invoices_and_credit_notes(api: Api, manual_clock: ManualClock) -> None:
    buyer, bought = pending_basket(api, "pdfs")
    invoice_id = bought["invoice"]["id"]
    paid(api, buyer.token, invoice_id)
    admin = api.token(*ADMIN)
    note = api.post(f"{ADMIN_PATH}/{invoice_id}/refund", {"amount": "1.00"}, token=admin).json["credit_note"]

    invoice_pdf = api.get(f"{ADMIN_PATH}/{invoice_id}/pdf", token=api.token(*OBSERVER))
    notes = api.get(f"{ADMIN_PATH}/{invoice_id}/credit-notes", token=api.token(*OBSERVER))
    note_pdf = api.get(f"/api/v1/admin/credit-notes/{note['id']}/pdf", token=admin)

    assert invoice_pdf.status == 200 and invoice_pdf.body.startswith(b"%PDF")
    number = bought["invoice"]["invoice_number"]
    assert invoice_pdf.headers["content-disposition"] == f'attachment; filename="invoice-{number}.pdf"'
    assert notes.json == {"credit_notes": [note]}
    assert note_pdf.status == 200 and note_pdf.body.startswith(b"%PDF")
    assert note_pdf.headers["content-disposition"] == (
        f'attachment; filename="credit-note-{note["credit_note_number"]}.pdf"'
    )


@pytest.mark.parametrize(
    ("method", "path", "error"),
    [
        ("GET", "{invoices}/{id}", "Invoice not found"),
        ("POST", "{invoices}/{id}/void", "Invoice not found"),
        ("DELETE", "{invoices}/{id}", "Invoice not found"),
        ("GET", "{invoices}/{id}/pdf", "Invoice not found"),
        ("GET", "{invoices}/{id}/credit-notes", "Invoice not found"),
        ("GET", "/api/v1/admin/credit-notes/{id}/pdf", "Credit note not found"),
    ],
)
def test_unknown_ids_answer_404(api: Api, method: str, path: str, error: str) -> None:
    target = path.format(invoices=ADMIN_PATH, id=uuid.uuid4())
    answer = api.request(method, target, token=api.token(*ADMIN))
    assert (answer.status, answer.json) == (404, {"error": error})
    bad = api.request(method, path.format(invoices=ADMIN_PATH, id="nope"), token=api.token(*ADMIN))
    assert bad.json == INVALID_ID


@pytest.mark.parametrize(("method", "suffix"), [("POST", "/void"), ("DELETE", "")])
def test_observers_may_not_change_invoices(api: Api, method: str, suffix: str) -> None:
    answer = api.request(method, f"{ADMIN_PATH}/{uuid.uuid4()}{suffix}", token=api.token(*OBSERVER))
    assert (answer.status, answer.json["error"]) == (403, "Permission denied")


# --- the list (§9.1) ------------------------------------------------------------------------------------------


def listed(api: Api, query: str, token: str | None = None) -> Any:
    return api.get(f"{ADMIN_PATH}/?{query}", token=token or api.token(*ADMIN))


def test_the_list_filters_by_user_status_number_email_and_date(fresh_api: Api, manual_clock: ManualClock) -> None:
    from datetime import timedelta

    api = fresh_api
    first, bought = pending_basket(api, "list-a")
    paid(api, first.token, bought["invoice"]["id"])
    manual_clock.advance(timedelta(days=60))  # 2026-06-30: past every seeded invoice
    second, later = pending_basket(api, "list-b")
    ids = {"paid": bought["invoice"]["id"], "pending": later["invoice"]["id"]}
    everything = listed(api, "limit=100").json
    total = everything["total"]

    order = [i["id"] for i in everything["invoices"]]
    assert order.index(ids["pending"]) < order.index(ids["paid"])  # newest first (the seed is dated by the real clock)
    assert total == len(everything["invoices"])
    assert [i["id"] for i in listed(api, f"user_id={first.user_id}").json["invoices"]] == [ids["paid"]]
    by_status = listed(api, "status=paid&limit=100").json
    assert ids["paid"] in [i["id"] for i in by_status["invoices"]] and ids["pending"] not in [
        i["id"] for i in by_status["invoices"]
    ]
    assert by_status["total"] == len(by_status["invoices"])
    number = later["invoice"]["invoice_number"]
    assert [i["id"] for i in listed(api, f"search={number}").json["invoices"]] == [ids["pending"]]
    assert [i["id"] for i in listed(api, f"search={second.email}").json["invoices"]] == [ids["pending"]]
    dated = listed(api, "date_from=2026-06-30&date_to=2026-06-30").json
    assert ([i["id"] for i in dated["invoices"]], dated["total"]) == ([ids["pending"]], 1)
    before = listed(api, "date_to=2026-06-29&limit=100").json
    assert ids["paid"] in [i["id"] for i in before["invoices"]] and ids["pending"] not in [
        i["id"] for i in before["invoices"]
    ]
    assert before["total"] == len(before["invoices"])


def test_the_list_pages_with_cursors_and_offsets(fresh_api: Api, manual_clock: ManualClock) -> None:
    from datetime import timedelta

    api = fresh_api
    for n in range(5):
        pending_basket(api, f"page-{n}")
        manual_clock.advance(timedelta(minutes=1))
    whole = [i["id"] for i in listed(api, "limit=100").json["invoices"]]

    first = listed(api, "limit=2").json
    second = listed(api, f"limit=2&cursor={first['next_cursor']}").json
    by_offset = listed(api, "limit=2&offset=2").json

    assert [i["id"] for i in first["invoices"]] == whole[:2]
    assert [i["id"] for i in second["invoices"]] == whole[2:4] == [i["id"] for i in by_offset["invoices"]]
    assert (first["total"], first["pages"], first["page"]) == (len(whole), (len(whole) + 1) // 2, 1)


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("status=SHIPPED", "Invalid status: SHIPPED"),
        ("user_id=nope", "Invalid user_id format"),
        ("date_from=yesterday", "Invalid date: yesterday"),
        ("date_to=2026-13-01", "Invalid date: 2026-13-01"),
    ],
)
def test_the_list_refuses_bad_filters(api: Api, query: str, error: str) -> None:
    answer = listed(api, query)
    assert (answer.status, answer.json) == (400, {"error": error})


def test_observers_read_the_list(api: Api) -> None:
    assert listed(api, "limit=1", token=api.token(*OBSERVER)).status == 200


def test_a_duplicate_copies_the_lines_and_its_payment_activates_nothing(api: Api, manual_clock: ManualClock) -> None:
    buyer, bought = pending_basket(api, "duplicate")
    original = bought["invoice"]
    paid(api, buyer.token, original["id"])
    admin = api.token(*ADMIN)
    key = {"Idempotency-Key": str(uuid.uuid4())}

    answer = api.post(f"{ADMIN_PATH}/{original['id']}/duplicate", {}, token=admin, headers=key)
    replay = api.post(f"{ADMIN_PATH}/{original['id']}/duplicate", {}, token=admin, headers=key)

    assert answer.status == 201, answer.json
    assert replay.json == answer.json
    copy = answer.json["invoice"]
    assert answer.json["message"] == "Invoice duplicated successfully"
    assert (copy["status"], copy["billing_reason"], copy["user_email"]) == ("PENDING", "MANUAL", buyer.email)
    assert copy["invoice_number"] != original["invoice_number"] and copy["id"] != original["id"]
    assert (copy["total_amount"], copy["tax_amount"], copy["subscription_id"]) == (
        original["total_amount"],
        original["tax_amount"],
        original["subscription_id"],
    )
    assert [(ln["description"], ln["gross_amount"]) for ln in copy["line_items"]] == [
        (ln["description"], ln["gross_amount"]) for ln in original["line_items"]
    ]
    captured = api.post(f"{ADMIN_PATH}/{copy['id']}/mark-paid", {}, token=admin)
    assert captured.status == 200, captured.json
    assert captured.json["items_activated"] == {
        "subscription": None,
        "token_bundles": [],
        "add_ons": [],
        "tokens_credited": 0,
        "bookings": [],
    }
    assert api.get("/api/v1/user/tokens/balance", token=buyer.token).json == {"balance": 150}
    missing = api.post(f"{ADMIN_PATH}/{uuid.uuid4()}/duplicate", {}, token=admin)
    assert (missing.status, missing.json) == (404, {"error": "Invoice not found"})


# --- authorizations (§9.9, §9.10) -----------------------------------------------------------------------------


def authorized(api: Api, tag: str) -> tuple[Buyer, dict[str, Any]]:
    buyer, bought = pending_basket(api, tag)
    answer = api.post(
        f"/api/v1/user/invoices/{bought['invoice']['id']}/pay", {"sandbox_outcome": "authorize"}, token=buyer.token
    )
    assert answer.status == 200 and answer.json["invoice"]["status"] == "AUTHORIZED", answer.json
    return buyer, bought


def test_capture_of_an_authorization_activates_what_it_bills(api: Api, manual_clock: ManualClock) -> None:
    buyer, bought = authorized(api, "capture")
    invoice_id = bought["invoice"]["id"]
    admin = api.token(*ADMIN)

    answer = api.post(f"{ADMIN_PATH}/{invoice_id}/capture", {}, token=admin)
    again = api.post(f"{ADMIN_PATH}/{invoice_id}/capture", {}, token=admin)

    assert (answer.status, answer.json) == (200, {"invoice_id": invoice_id, "status": "PAID"})
    assert (again.status, again.json) == (400, {"error": "Invoice status is PAID, expected AUTHORIZED"})
    sub = api.get(f"/api/v1/user/subscriptions/{bought['subscription']['id']}", token=buyer.token).json
    assert sub["subscription"]["status"] == "ACTIVE"
    assert api.get("/api/v1/user/tokens/balance", token=buyer.token).json == {"balance": 150}


def test_release_of_an_authorization_cancels_the_invoice(api: Api, manual_clock: ManualClock) -> None:
    buyer, bought = authorized(api, "release")
    invoice_id = bought["invoice"]["id"]
    admin = api.token(*ADMIN)

    answer = api.post(f"{ADMIN_PATH}/{invoice_id}/release", {}, token=admin)

    assert (answer.status, answer.json) == (200, {"invoice_id": invoice_id, "status": "CANCELLED"})
    sub = api.get(f"/api/v1/user/subscriptions/{bought['subscription']['id']}", token=buyer.token).json
    assert sub["subscription"]["status"] == "CANCELLED"
    from tests.integration.buyers import events_about

    assert len(events_about("invoice.released", "invoice_id", invoice_id)) == 1
    pending = pending_basket(api, "release-pending")[1]["invoice"]["id"]
    refused = api.post(f"{ADMIN_PATH}/{pending}/release", {}, token=admin)
    assert (refused.status, refused.json) == (400, {"error": "Invoice status is PENDING, expected AUTHORIZED"})


@pytest.mark.parametrize("action", ["capture", "release"])
def test_capture_and_release_of_unknown_invoices(api: Api, action: str) -> None:
    answer = api.post(f"{ADMIN_PATH}/{uuid.uuid4()}/{action}", {}, token=api.token(*ADMIN))
    assert (answer.status, answer.json) == (404, {"error": "Invoice not found"})


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"payment_intent_id": None}, "No payment_intent_id on invoice"),
        ({"payment_method": "invoice"}, "Provider capture failed: Bank transfers are never authorized"),
    ],
)
def test_capture_refusals(api: Api, manual_clock: ManualClock, values: dict[str, Any], error: str) -> None:
    from chalicelib.invoices.models import InvoiceItem
    from tests.integration.buyers import change

    _, bought = authorized(api, f"capture-refused-{uuid.uuid4().hex[:6]}")
    invoice_id = bought["invoice"]["id"]
    change(InvoiceItem, *InvoiceItem.key(invoice_id), **values)

    answer = api.post(f"{ADMIN_PATH}/{invoice_id}/capture", {}, token=api.token(*ADMIN))

    assert (answer.status, answer.json) == (400, {"error": error})


def test_void_of_an_authorization_releases_it_first(
    api: Api, manual_clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.payments.providers.sandbox import SandboxProvider
    from tests.integration.buyers import events_about

    buyer, bought = authorized(api, "void-authorized")
    invoice_id = bought["invoice"]["id"]
    released: list[tuple[str, str]] = []

    def release(self: SandboxProvider, invoice: Any) -> None:
        released.append((invoice.id, invoice.status))

    monkeypatch.setattr(SandboxProvider, "release", release)

    answer = api.post(f"{ADMIN_PATH}/{invoice_id}/void", {}, token=api.token(*ADMIN))

    assert answer.status == 200, answer.json
    assert (answer.json["message"], answer.json["invoice"]["status"]) == ("Invoice voided", "CANCELLED")
    assert released == [(invoice_id, "AUTHORIZED")]
    sub = api.get(f"/api/v1/user/subscriptions/{bought['subscription']['id']}", token=buyer.token).json
    assert sub["subscription"]["status"] == "CANCELLED"
    assert len(events_about("invoice.voided", "invoice_id", invoice_id)) == 1
