"""POST /api/v1/webhooks/payment — the generic signed payment webhook (checkout-and-payments.md §8.1, §6).

Every delivery here is correctly signed (the signature itself is tested in test_webhook_signature.py); these tests
cover the capture it triggers, deduplication, and the body's validation.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.contract import EXTRA_STORAGE, TOKENS_100
from tests.integration.buyers import (
    balance_of,
    buy_basic_and_tokens,
    deliver,
    events_about,
    german_buyer,
    invoice_of,
    notification,
)
from tests.integration.conftest import Api, outbox_events


def captures_of(invoice_id: str) -> list[dict[str, Any]]:
    return events_about("payment.captured", "invoice_id", invoice_id)


# --- a payment -----------------------------------------------------------------------------------------------------


def test_a_signed_payment_captures_the_invoice(api: Api) -> None:
    token = german_buyer(api, "hook").token
    bought = buy_basic_and_tokens(api, token)
    invoice = bought["invoice"]
    [purchase] = bought["token_bundles"]
    body = notification(invoice, payment_reference="BANK-2026-0042")

    answer = deliver(api, body)

    assert answer.status == 200, answer.json
    assert answer.json == {
        "status": "paid",
        "invoice_id": invoice["id"],
        "payment_reference": "BANK-2026-0042",
        "items_activated": {
            "subscription": bought["subscription"]["id"],
            "token_bundles": [purchase["id"]],
            "add_ons": [],
            "tokens_credited": 150,
            "bookings": [],
        },
    }
    paid = invoice_of(api, token, invoice["id"])
    assert paid["status"] == "PAID"
    assert paid["payment_ref"] == "BANK-2026-0042"
    assert paid["payment_method"] == "webhook"
    assert paid["paid_at"] is not None
    assert balance_of(api, token) == 150
    sub = api.get(f"/api/v1/user/subscriptions/{bought['subscription']['id']}", token=token).json["subscription"]
    assert sub["status"] == "ACTIVE" and sub["has_saved_payment_method"] is False
    [captured] = captures_of(invoice["id"])
    assert captured["actor"] == {"type": "provider", "id": "webhook"}
    assert captured["data"] == {
        "invoice_id": invoice["id"],
        "payment_reference": "BANK-2026-0042",
        "amount": "15.46",
        "currency": "EUR",
        "provider": "webhook",
        "transaction_id": body["event_id"],
    }
    [paid_event] = [e for e in outbox_events("invoice.paid") if e["data"]["invoice_id"] == invoice["id"]]
    assert paid_event["data"]["provider"] == "webhook"
    assert paid_event["data"]["payment_reference"] == "BANK-2026-0042"


def test_the_provider_given_is_recorded_as_the_payment_method(api: Api) -> None:
    token = german_buyer(api, "hook-provider").token
    invoice = buy_basic_and_tokens(api, token)["invoice"]

    answer = deliver(api, notification(invoice, provider="bank-importer"))

    assert answer.status == 200, answer.json
    assert invoice_of(api, token, invoice["id"])["payment_method"] == "bank-importer"
    [captured] = captures_of(invoice["id"])
    assert captured["data"]["provider"] == "bank-importer"
    assert captured["actor"] == {"type": "provider", "id": "bank-importer"}


def test_an_authorized_invoice_can_be_captured_by_the_webhook(api: Api) -> None:
    token = german_buyer(api, "hook-authorized").token
    invoice = buy_basic_and_tokens(api, token, payment_method_code="sandbox")["invoice"]
    authorized = api.post(f"/api/v1/user/invoices/{invoice['id']}/pay", {"sandbox_outcome": "authorize"}, token=token)
    assert authorized.json["invoice"]["status"] == "AUTHORIZED"

    answer = deliver(api, notification(invoice))

    assert answer.status == 200, answer.json
    assert answer.json["items_activated"]["tokens_credited"] == 150
    assert invoice_of(api, token, invoice["id"])["status"] == "PAID"


def test_amounts_as_number_string_or_with_a_trailing_zero_are_accepted(api: Api) -> None:
    token = german_buyer(api, "hook-amounts").token
    for amount in ("15.46", 15.46, "15.460"):
        invoice = buy_basic_and_tokens(api, token, token_bundle_ids=[TOKENS_100])["invoice"]
        assert invoice["total_amount"] == "15.46"

        answer = deliver(api, notification(invoice, amount=amount))

        assert answer.status == 200, (amount, answer.json)
        assert invoice_of(api, token, invoice["id"])["status"] == "PAID"


def test_an_upper_case_invoice_id_is_the_same_invoice(api: Api) -> None:
    token = german_buyer(api, "hook-upper").token
    invoice = buy_basic_and_tokens(api, token)["invoice"]

    answer = deliver(api, notification(invoice, invoice_id=invoice["id"].upper()))

    assert answer.status == 200, answer.json
    assert answer.json["invoice_id"] == invoice["id"]


# --- deduplication -------------------------------------------------------------------------------------------------


def test_a_repeated_event_id_answers_the_first_body_as_a_duplicate(api: Api) -> None:
    token = german_buyer(api, "hook-dup").token
    invoice = buy_basic_and_tokens(api, token)["invoice"]
    body = notification(invoice)
    first = deliver(api, body)
    assert first.status == 200

    again = deliver(api, body)

    assert again.status == 200
    assert again.json == {**first.json, "duplicate": True}
    assert balance_of(api, token) == 150
    assert api.get("/api/v1/user/tokens/transactions", token=token).json["total"] == 2
    assert len(captures_of(invoice["id"])) == 1


def test_a_repeated_event_id_has_no_effect_even_when_it_names_another_invoice(api: Api) -> None:
    token = german_buyer(api, "hook-dup-other").token
    first_invoice = buy_basic_and_tokens(api, token)["invoice"]
    second_invoice = buy_basic_and_tokens(api, token)["invoice"]
    body = notification(first_invoice)
    first = deliver(api, body)
    assert first.status == 200

    again = deliver(api, {**body, "invoice_id": second_invoice["id"]})

    assert again.status == 200
    assert again.json == {**first.json, "duplicate": True}
    assert invoice_of(api, token, second_invoice["id"])["status"] == "PENDING"


def test_without_an_event_id_the_payment_reference_deduplicates(api: Api) -> None:
    token = german_buyer(api, "hook-ref").token
    invoice = buy_basic_and_tokens(api, token)["invoice"]
    body = notification(invoice, event_id=None)
    assert "event_id" not in body
    first = deliver(api, body)
    assert first.status == 200, first.json
    assert first.json["items_activated"]["tokens_credited"] == 150

    again = deliver(api, body)

    assert again.status == 200
    assert again.json == {**first.json, "duplicate": True}
    assert balance_of(api, token) == 150
    assert len(captures_of(invoice["id"])) == 1
    [captured] = captures_of(invoice["id"])
    assert captured["data"]["transaction_id"] is None


def test_another_event_for_the_same_payment_is_acknowledged_without_effect(api: Api) -> None:
    token = german_buyer(api, "hook-same-payment").token
    invoice = buy_basic_and_tokens(api, token)["invoice"]
    body = notification(invoice)
    assert deliver(api, body).status == 200

    answer = deliver(api, {**body, "event_id": f"evt_{uuid.uuid4().hex}"})

    assert answer.status == 200, answer.json
    assert answer.json["status"] == "paid"
    assert answer.json["invoice_id"] == invoice["id"]
    assert answer.json["payment_reference"] == body["payment_reference"]
    assert answer.json["items_activated"]["tokens_credited"] == 0
    assert balance_of(api, token) == 150
    assert len(captures_of(invoice["id"])) == 1


def test_a_payment_for_an_invoice_paid_otherwise_409(api: Api) -> None:
    token = german_buyer(api, "hook-paid").token
    invoice = buy_basic_and_tokens(api, token, payment_method_code="sandbox")["invoice"]
    assert api.post(f"/api/v1/user/invoices/{invoice['id']}/pay", {}, token=token).status == 200

    answer = deliver(api, notification(invoice))

    assert answer.status == 409
    assert answer.json == {"error": "Invoice is PAID, expected PENDING"}
    assert balance_of(api, token) == 150
    assert invoice_of(api, token, invoice["id"])["payment_method"] == "sandbox"


def test_the_same_reference_from_another_provider_is_not_a_replay(api: Api) -> None:
    """§6.2 rule 2: a replay is the same payment — same provider and reference."""
    token = german_buyer(api, "hook-other-provider").token
    invoice = buy_basic_and_tokens(api, token)["invoice"]
    body = notification(invoice, provider="bank-a")
    assert deliver(api, body).status == 200

    answer = deliver(api, {**body, "event_id": f"evt_{uuid.uuid4().hex}", "provider": "bank-b"})

    assert answer.status == 409
    assert answer.json == {"error": "Invoice is PAID, expected PENDING"}
    assert invoice_of(api, token, invoice["id"])["payment_method"] == "bank-a"


def test_a_payment_for_a_cancelled_invoice_409(api: Api) -> None:
    token = german_buyer(api, "hook-cancelled").token
    bought = buy_basic_and_tokens(api, token, plan_id=None, token_bundle_ids=None, add_on_ids=[EXTRA_STORAGE])
    [addon] = bought["add_ons"]
    assert api.post(f"/api/v1/user/addons/{addon['id']}/cancel", {}, token=token).status == 200
    invoice = invoice_of(api, token, bought["invoice"]["id"])
    assert invoice["status"] == "CANCELLED" and invoice["total_amount"] == "5.94"

    answer = deliver(api, notification(invoice))

    assert answer.status == 409
    assert answer.json == {"error": "Invoice is CANCELLED, expected PENDING"}
    assert invoice_of(api, token, invoice["id"])["status"] == "CANCELLED"
    assert captures_of(invoice["id"]) == []


# --- the body ------------------------------------------------------------------------------------------------------


def test_a_body_that_is_not_json_400_after_a_valid_signature(api: Api) -> None:
    answer = deliver(api, b"{not json")

    assert answer.status == 400
    assert answer.json == {"error": "Invalid JSON body"}


def test_a_json_body_that_is_not_an_object_400(api: Api) -> None:
    answer = deliver(api, b"[1, 2]")

    assert answer.status == 400
    assert answer.json == {"error": "Request body must be a JSON object"}


def test_each_required_field_400_when_missing(api: Api) -> None:
    token = german_buyer(api, "hook-missing").token
    invoice = buy_basic_and_tokens(api, token)["invoice"]
    for field in ("invoice_id", "payment_reference", "amount", "currency"):
        for missing in (None, ""):
            body = notification(invoice)
            if missing is None:
                del body[field]
            else:
                body[field] = missing

            answer = deliver(api, body)

            assert answer.status == 400, field
            assert answer.json == {"error": f"{field} is required"}
    assert invoice_of(api, token, invoice["id"])["status"] == "PENDING"


def test_the_first_missing_field_answers(api: Api) -> None:
    answer = deliver(api, {"amount": "1.00"})

    assert (answer.status, answer.json) == (400, {"error": "invoice_id is required"})


def test_a_malformed_invoice_id_400(api: Api) -> None:
    token = german_buyer(api, "hook-bad-id").token
    invoice = buy_basic_and_tokens(api, token)["invoice"]

    answer = deliver(api, notification(invoice, invoice_id="INV-2026-000001"))

    assert answer.status == 400
    assert answer.json == {"error": "Invalid invoice_id format"}


def test_a_malformed_amount_400(api: Api) -> None:
    token = german_buyer(api, "hook-bad-amount").token
    invoice = buy_basic_and_tokens(api, token)["invoice"]
    for amount in ("abc", "15,46", [15.46], {"value": "15.46"}):
        answer = deliver(api, notification(invoice, amount=amount))

        assert answer.status == 400, amount
        assert answer.json == {"error": "Invalid amount"}
    assert invoice_of(api, token, invoice["id"])["status"] == "PENDING"


def test_an_unknown_invoice_400_not_found(api: Api) -> None:
    missing = str(uuid.uuid4())

    answer = deliver(api, {"invoice_id": missing, "payment_reference": "BANK-1", "amount": "15.46", "currency": "EUR"})

    assert answer.status == 400
    assert answer.json == {"error": f"Invoice {missing} not found"}


def test_an_amount_that_differs_by_a_cent_400_and_nothing_changes(api: Api) -> None:
    token = german_buyer(api, "hook-cent").token
    invoice = buy_basic_and_tokens(api, token)["invoice"]
    for amount in ("15.45", 15.45, "15.47", "154.6", "0"):
        answer = deliver(api, notification(invoice, amount=amount))

        assert answer.status == 400, amount
        assert answer.json == {"error": "Amount does not match invoice"}
    assert invoice_of(api, token, invoice["id"])["status"] == "PENDING"
    assert balance_of(api, token) == 0
    assert captures_of(invoice["id"]) == []


def test_another_currency_400(api: Api) -> None:
    token = german_buyer(api, "hook-currency").token
    invoice = buy_basic_and_tokens(api, token)["invoice"]

    answer = deliver(api, notification(invoice, currency="USD"))

    assert answer.status == 400
    assert answer.json == {"error": "Currency does not match invoice"}
    assert invoice_of(api, token, invoice["id"])["status"] == "PENDING"


def test_a_refused_delivery_does_not_use_up_its_event_id(api: Api) -> None:
    token = german_buyer(api, "hook-retry").token
    invoice = buy_basic_and_tokens(api, token)["invoice"]
    body = notification(invoice)
    assert deliver(api, {**body, "amount": "1.00"}).status == 400

    answer = deliver(api, body)

    assert answer.status == 200, answer.json
    assert "duplicate" not in answer.json
    assert answer.json["items_activated"]["tokens_credited"] == 150
