"""Paying by bank transfer (`invoice`, checkout-and-payments.md §5.4, §10.3): instructions, the invoice stays PENDING.

`invoice` is the seeded default payment method (seed-data.md §9), so a checkout that names no method records it.
"""

from __future__ import annotations

from tests.integration.buyers import buy_basic_and_tokens, german_buyer
from tests.integration.conftest import Api, drain_events, outbox_events, sent_mail

INSTRUCTIONS = "Please transfer the amount within 30 days quoting the invoice number."


def test_a_checkout_without_a_method_records_the_bank_transfer_default(api: Api) -> None:
    token = german_buyer(api, "default-method").token
    bought = buy_basic_and_tokens(api, token)
    assert bought["invoice"]["payment_method"] == "invoice"
    assert bought["invoice"]["status"] == "PENDING"


def test_paying_by_bank_transfer_answers_202_with_the_transfer_instructions(api: Api) -> None:
    token = german_buyer(api, "transfer").token
    invoice = buy_basic_and_tokens(api, token)["invoice"]

    answer = api.post(f"/api/v1/user/invoices/{invoice['id']}/pay", {}, token=token)

    assert answer.status == 202, answer.json
    assert set(answer.json) == {"invoice", "message", "payment"}
    assert answer.json["message"] == "Payment instructions issued"
    assert answer.json["payment"] == {
        "provider": "invoice",
        "status": "pending",
        "instructions": {
            "text": INSTRUCTIONS,
            "account_holder": "VBWD Demo GmbH",
            "bank_name": "Demo Bank",
            "iban": "DE89370400440532013000",
            "bic": "COBADEFFXXX",
            "reference": invoice["invoice_number"],
            "amount": "15.46",
            "currency": "EUR",
            "due_date": invoice["due_date"],
        },
    }
    pending = answer.json["invoice"]
    assert pending["id"] == invoice["id"]
    assert pending["status"] == "PENDING" and pending["paid_at"] is None and pending["payment_ref"] is None
    assert pending["payment_method"] == "invoice" and pending["is_payable"] is True


def test_bank_transfer_instructions_activate_nothing_and_can_be_asked_for_again(api: Api) -> None:
    token = german_buyer(api, "again").token
    bought = buy_basic_and_tokens(api, token)
    invoice_id = bought["invoice"]["id"]

    first = api.post(f"/api/v1/user/invoices/{invoice_id}/pay", {}, token=token)
    second = api.post(f"/api/v1/user/invoices/{invoice_id}/pay", {}, token=token)

    assert first.status == second.status == 202
    assert first.json["payment"] == second.json["payment"]
    sub = api.get(f"/api/v1/user/subscriptions/{bought['subscription']['id']}", token=token).json["subscription"]
    assert sub["status"] == "PENDING" and sub["has_saved_payment_method"] is False
    assert api.get("/api/v1/user/tokens/balance", token=token).json == {"balance": 0}
    assert [e for e in outbox_events("invoice.paid") if e["data"]["invoice_id"] == invoice_id] == []
    assert [e for e in outbox_events("payment.captured") if e["data"]["invoice_id"] == invoice_id] == []


def test_the_invoice_mail_with_its_pdf_is_sent_at_checkout_for_bank_transfer_invoices(api: Api) -> None:
    shopper = german_buyer(api, "mailed")
    email, token = shopper.email, shopper.token
    invoice = buy_basic_and_tokens(api, token)["invoice"]
    number = invoice["invoice_number"]

    drain_events()

    mails = [m for m in sent_mail() if m["subject"] == f"Invoice {number}"]
    assert len(mails) == 1
    [mail] = mails
    assert set(mail["to"]) == {email}
    assert "15.46 EUR" in mail["body"] and invoice["due_date"][:10] in mail["body"]
    assert list(mail["attachments"]) == [f"invoice-{number}.pdf"]
    assert mail["attachments"][f"invoice-{number}.pdf"].startswith(b"%PDF")
    assert [m for m in sent_mail() if m["subject"] == f"Receipt for invoice {number}"] == []


def test_a_sandbox_invoice_can_be_switched_to_bank_transfer_when_paying(api: Api) -> None:
    token = german_buyer(api, "to-transfer").token
    invoice = buy_basic_and_tokens(api, token, payment_method_code="sandbox")["invoice"]
    assert invoice["payment_method"] == "sandbox"

    answer = api.post(f"/api/v1/user/invoices/{invoice['id']}/pay", {"payment_method_code": "invoice"}, token=token)

    assert answer.status == 202, answer.json
    assert answer.json["payment"]["provider"] == "invoice"
    assert answer.json["invoice"]["payment_method"] == "invoice"
    stored = api.get(f"/api/v1/user/invoices/{invoice['id']}", token=token).json["invoice"]
    assert stored["payment_method"] == "invoice" and stored["status"] == "PENDING"


def test_a_bank_transfer_invoice_can_be_switched_to_the_sandbox_and_captured(api: Api) -> None:
    token = german_buyer(api, "to-sandbox").token
    invoice = buy_basic_and_tokens(api, token)["invoice"]

    answer = api.post(f"/api/v1/user/invoices/{invoice['id']}/pay", {"payment_method_code": "sandbox"}, token=token)

    assert answer.status == 200, answer.json
    assert answer.json["invoice"]["status"] == "PAID"
    assert answer.json["invoice"]["payment_method"] == "sandbox"
    assert api.get("/api/v1/user/tokens/balance", token=token).json == {"balance": 150}
