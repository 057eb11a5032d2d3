"""Admin invoice resend (admin.md §9.11): the invoice mail with its PDF, at most ten per invoice and hour."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.core.clock import ManualClock
from tests.integration.buyers import Buyer, buy_basic_and_tokens, events_about, german_buyer, paid
from tests.integration.conftest import ADMIN, Api, sent_mail

OBSERVER = ("observer@example.com", "ObserverPass123@")
ADMIN_PATH = "/api/v1/admin/invoices"


def open_invoice(api: Api, tag: str) -> tuple[Buyer, dict[str, Any]]:
    buyer = german_buyer(api, tag)
    return buyer, buy_basic_and_tokens(api, buyer.token, payment_method_code="sandbox")["invoice"]


def mails_to(email: str) -> list[dict[str, Any]]:
    return [m for m in sent_mail() if m["to"] == [email]]


def resend(api: Api, invoice_id: str, body: dict[str, Any] | None = None, token: str | None = None) -> Any:
    return api.post(f"{ADMIN_PATH}/{invoice_id}/resend", body or {}, token=token or api.token(*ADMIN))


def test_an_open_invoice_goes_to_its_owner_with_the_pdf(api: Api, manual_clock: ManualClock) -> None:
    buyer, invoice = open_invoice(api, "resend-open")

    answer = resend(api, invoice["id"])

    assert (answer.status, answer.json) == (200, {"message": "Invoice sent", "sent_to": buyer.email})
    [mail] = mails_to(buyer.email)
    assert mail["subject"] == f"Invoice {invoice['invoice_number']}"
    assert invoice["invoice_number"] in mail["body"]
    pdf = mail["attachments"][f"invoice-{invoice['invoice_number']}.pdf"]
    assert pdf.startswith(b"%PDF")
    resent = events_about("invoice.resent", "invoice_id", invoice["id"])
    assert [event["data"] for event in resent] == [{"invoice_id": invoice["id"], "sent_to": buyer.email}]


def test_a_paid_invoice_is_resent_as_its_receipt_to_the_address_given(api: Api, manual_clock: ManualClock) -> None:
    buyer, invoice = open_invoice(api, "resend-paid")
    paid(api, buyer.token, invoice["id"])
    address = f"accounts-{uuid.uuid4().hex[:8]}@example.com"

    answer = resend(api, invoice["id"], {"email": f"  {address.upper()} "})

    assert (answer.status, answer.json) == (200, {"message": "Invoice sent", "sent_to": address})
    [mail] = mails_to(address)
    assert mail["subject"] == f"Receipt for invoice {invoice['invoice_number']}"
    assert list(mail["attachments"]) == [f"invoice-{invoice['invoice_number']}.pdf"]
    assert events_about("invoice.resent", "invoice_id", invoice["id"])[-1]["data"]["sent_to"] == address


def test_the_eleventh_send_of_an_invoice_in_an_hour_is_refused(api: Api, manual_clock: ManualClock) -> None:
    buyer, invoice = open_invoice(api, "resend-limit")
    other = open_invoice(api, "resend-other")[1]

    statuses = [resend(api, invoice["id"]).status for _ in range(11)]

    assert statuses == [200] * 10 + [429]
    refused = resend(api, invoice["id"])
    assert refused.status == 429 and "error" in refused.json, refused.json
    assert len(mails_to(buyer.email)) == 10
    assert len(events_about("invoice.resent", "invoice_id", invoice["id"])) == 10
    assert resend(api, other["id"]).status == 200  # counted per invoice
    manual_clock.advance(timedelta(hours=1))
    assert resend(api, invoice["id"]).status == 200  # a new hour


@pytest.mark.parametrize("email", ["not-an-address", "a@b", 5, "x" * 250 + "@example.com"])
def test_a_bad_address_is_refused(api: Api, email: Any) -> None:
    answer = resend(api, str(uuid.uuid4()), {"email": email})
    assert (answer.status, answer.json) == (400, {"error": "Invalid email format"})


def test_an_unknown_invoice_is_not_found(api: Api) -> None:
    answer = resend(api, str(uuid.uuid4()))
    assert (answer.status, answer.json) == (404, {"error": "Invoice not found"})


def test_observers_and_users_may_not_resend(api: Api, manual_clock: ManualClock) -> None:
    buyer, invoice = open_invoice(api, "resend-refused")
    for token, error in ((api.token(*OBSERVER), "Permission denied"), (buyer.token, "Admin access required")):
        answer = resend(api, invoice["id"], token=token)
        assert (answer.status, answer.json["error"]) == (403, error), answer.json
    assert mails_to(buyer.email) == []
