"""The pure parts of the Stripe provider: amounts in Stripe's units, the form encoding the emulator reads, and
every row of the event table of checkout-and-payments.md §10.4 (with a stub standing in for Stripe's reads)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from chalicelib.payments.hosted import EventKind, ProviderError
from chalicelib.payments.outcomes import Payment
from chalicelib.payments.stripe import events
from chalicelib.payments.stripe.amounts import to_major, to_minor
from chalicelib.payments.stripe.client import scrub
from infra.emulators.stripe import format_minor, parse_form, signature_header

INVOICE = "00000000-0000-4000-8000-000000000001"
CARD = {"id": "pm_1", "object": "payment_method", "card": {"brand": "visa", "last4": "4242"}}


class Stub:
    """Stripe's objects by id, as the SDK would read them."""

    def __init__(self) -> None:
        self.intents = {
            "pi_checkout": {
                "id": "pi_checkout",
                "customer": "cus_1",
                "payment_method": "pm_1",
                "setup_future_usage": "off_session",
                "metadata": {"invoice_id": INVOICE, "flow": "checkout"},
            },
            "pi_dashboard": {"id": "pi_dashboard", "metadata": {}},
        }

    def intent(self, intent_id: str) -> dict[str, Any]:
        return self.intents[intent_id]

    def method(self, method_id: str) -> dict[str, Any]:
        assert method_id == "pm_1"
        return CARD

    def latest_refund(self, charge_id: str) -> dict[str, Any] | None:
        return {"id": f"re_latest_of_{charge_id}", "object": "refund"}


def event(event_type: str, obj: dict[str, Any]) -> Any:
    return events.translate({"id": "evt_1", "object": "event", "type": event_type, "data": {"object": obj}}, Stub())


SESSION = {
    "id": "cs_1",
    "object": "checkout.session",
    "amount_total": 1250,
    "currency": "eur",
    "client_reference_id": INVOICE,
    "metadata": {"invoice_id": INVOICE},
    "payment_intent": "pi_checkout",
    "payment_status": "paid",
}
SAVED = {"provider": "stripe", "reference": "pm_1", "customer": "cus_1", "label": "Visa •••• 4242"}


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("12.50", "EUR", 1250), ("500", "JPY", 500), ("0.01", "usd", 1), ("1.234", "KWD", 1234), ("7", "KRW", 7)],
)
def test_amounts_are_exact_minor_units_and_back(amount: str, currency: str, minor: int) -> None:
    assert to_minor(Decimal(amount), currency) == minor
    assert to_major(minor, currency) == Decimal(amount)


@pytest.mark.parametrize(("amount", "currency"), [("10.5", "JPY"), ("0.001", "EUR")])
def test_an_amount_finer_than_the_currency_unit_is_refused(amount: str, currency: str) -> None:
    with pytest.raises(ProviderError, match="more decimal places"):
        to_minor(Decimal(amount), currency)


def test_majors_keep_the_currency_places() -> None:
    assert str(to_major(1200, "EUR")) == "12.00" and str(to_major(500, "JPY")) == "500"
    assert (format_minor(30100, "JPY"), format_minor(1205, "eur"), format_minor(-5, "CHF")) == (
        "¥30100",
        "€12.05",
        "-0.05 CHF",
    )


def test_the_sdk_form_encoding_is_read_into_nested_objects() -> None:
    pairs = [
        ("mode", "payment"),
        ("line_items[0][price_data][unit_amount]", "1000"),
        ("line_items[0][quantity]", "1"),
        ("line_items[1][price_data][unit_amount]", "250"),
        ("metadata[invoice_id]", "abc"),
        ("expand[0]", "payment_intent"),
        ("expand[]", "customer"),
    ]
    assert parse_form(pairs) == {
        "mode": "payment",
        "line_items": [
            {"price_data": {"unit_amount": "1000"}, "quantity": "1"},
            {"price_data": {"unit_amount": "250"}},
        ],
        "metadata": {"invoice_id": "abc"},
        "expand": ["payment_intent", "customer"],
    }


def test_the_signature_header_carries_one_v1_per_secret() -> None:
    header = signature_header(b"{}", ["whsec_a", "whsec_b"], 1700000000)
    assert header.startswith("t=1700000000,v1=") and header.count(",v1=") == 2


def test_secrets_are_scrubbed_from_messages() -> None:
    text = scrub("Invalid API Key provided: sk_test_********1234 and whsec_abc and rk_live_x", "mine")
    assert text == "Invalid API Key provided: [redacted] and [redacted] and [redacted]"
    assert scrub("the key mine leaked", "mine") == "the key [redacted] leaked"


# --- the event table, row by row -----------------------------------------------------------------------------------


def test_checkout_session_completed_paid_captures_with_the_session_and_the_saved_card() -> None:
    found = event("checkout.session.completed", SESSION)
    assert found.kind is EventKind.CAPTURED and (found.provider, found.event_id) == ("stripe", "evt_1")
    assert (found.invoice_id, found.amount, found.currency, found.session_id) == (
        INVOICE,
        Decimal("12.50"),
        "EUR",
        "cs_1",
    )
    assert found.payment == Payment("stripe", "cs_1", "pi_checkout", SAVED, intent_id="pi_checkout")


def test_checkout_session_completed_unpaid_changes_nothing() -> None:
    assert event("checkout.session.completed", {**SESSION, "payment_status": "unpaid"}).kind is EventKind.IGNORED


def test_checkout_session_async_payment_succeeded_captures() -> None:
    found = event("checkout.session.async_payment_succeeded", {**SESSION, "payment_status": "paid"})
    assert found.kind is EventKind.CAPTURED and found.payment is not None and found.payment.reference == "cs_1"


def test_checkout_session_async_payment_failed_is_a_failed_payment_on_session() -> None:
    found = event("checkout.session.async_payment_failed", {**SESSION, "payment_status": "unpaid"})
    assert (found.kind, found.invoice_id, found.off_session) == (EventKind.PAYMENT_FAILED, INVOICE, False)


def test_checkout_session_expired() -> None:
    found = event("checkout.session.expired", {**SESSION, "metadata": {}, "payment_intent": None})
    assert (found.kind, found.invoice_id, found.session_id) == (EventKind.SESSION_EXPIRED, INVOICE, "cs_1")


INTENT = {
    "id": "pi_9",
    "object": "payment_intent",
    "amount": 4000,
    "amount_received": 4000,
    "currency": "jpy",
    "customer": "cus_1",
    "payment_method": "pm_1",
    "latest_charge": "ch_9",
    "metadata": {"invoice_id": INVOICE, "flow": "off_session"},
    "status": "succeeded",
}


def test_payment_intent_amount_capturable_updated_authorizes() -> None:
    held = {**INTENT, "status": "requires_capture", "metadata": {"invoice_id": INVOICE, "flow": "authorization"}}
    found = event("payment_intent.amount_capturable_updated", held)
    assert (found.kind, found.invoice_id, found.intent_id, found.amount) == (
        EventKind.AUTHORIZED,
        INVOICE,
        "pi_9",
        Decimal("4000"),
    )


def test_payment_intent_succeeded_captures_an_off_session_charge_and_a_manual_authorization() -> None:
    found = event("payment_intent.succeeded", INTENT)
    assert (found.kind, found.off_session, found.amount, found.currency) == (
        EventKind.CAPTURED,
        True,
        Decimal("4000"),
        "JPY",
    )
    assert found.payment == Payment("stripe", "pi_9", "ch_9", SAVED, intent_id="pi_9")
    manual = event("payment_intent.succeeded", {**INTENT, "metadata": {"invoice_id": INVOICE, "flow": "authorization"}})
    assert (manual.kind, manual.off_session) == (EventKind.CAPTURED, False)
    assert manual.payment == Payment("stripe", "pi_9", "ch_9", None, intent_id="pi_9")


def test_payment_intent_events_of_a_checkout_session_or_of_no_invoice_are_ignored() -> None:
    checkout = {**INTENT, "metadata": {"invoice_id": INVOICE, "flow": "checkout"}}
    for event_type in ("payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled"):
        assert event(event_type, checkout).kind is EventKind.IGNORED
        assert event(event_type, {**INTENT, "metadata": {}}).kind is EventKind.IGNORED


def test_payment_intent_payment_failed_off_session_and_not() -> None:
    error = {
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "message": "Your card has insufficient funds.",
    }
    failed = {**INTENT, "status": "requires_payment_method", "last_payment_error": error}
    found = event("payment_intent.payment_failed", failed)
    assert (found.kind, found.off_session, found.error_code, found.error_message) == (
        EventKind.PAYMENT_FAILED,
        True,
        "insufficient_funds",
        "Your card has insufficient funds.",
    )
    on_session = {**failed, "metadata": {"invoice_id": INVOICE, "flow": "authorization"}}
    assert event("payment_intent.payment_failed", on_session).off_session is False


def test_payment_intent_canceled_releases() -> None:
    held = {**INTENT, "status": "canceled", "metadata": {"invoice_id": INVOICE, "flow": "authorization"}}
    found = event("payment_intent.canceled", held)
    assert (found.kind, found.invoice_id, found.intent_id) == (EventKind.RELEASED, INVOICE, "pi_9")


def test_charge_refunded_reports_the_total_refunded_and_finds_the_invoice() -> None:
    charge = {"id": "ch_1", "amount_refunded": 300, "currency": "eur", "payment_intent": "pi_checkout", "metadata": {}}
    found = event("charge.refunded", charge)
    assert (found.kind, found.invoice_id, found.refunded_total, found.currency) == (
        EventKind.REFUNDED,
        INVOICE,
        Decimal("3.00"),
        "EUR",
    )
    unknown = event("charge.refunded", {**charge, "payment_intent": "pi_dashboard"})
    assert unknown.kind is EventKind.REFUNDED and unknown.invoice_id is None


def test_refund_updated_canceled_is_a_reversal_and_other_statuses_nothing() -> None:
    refund = {"id": "re_1", "amount": 300, "currency": "eur", "payment_intent": "pi_checkout", "status": "canceled"}
    found = event("refund.updated", refund)
    assert (found.kind, found.refund_id, found.refund_amount, found.invoice_id) == (
        EventKind.REFUND_REVERSED,
        "re_1",
        Decimal("3.00"),
        INVOICE,
    )
    assert event("refund.updated", {**refund, "status": "succeeded"}).kind is EventKind.IGNORED


def test_charge_dispute_created() -> None:
    dispute = {"id": "dp_1", "amount": 1250, "currency": "eur", "payment_intent": "pi_checkout", "reason": "fraudulent"}
    found = event("charge.dispute.created", dispute)
    assert (found.kind, found.invoice_id, found.amount, found.details["dispute_id"]) == (
        EventKind.DISPUTED,
        INVOICE,
        Decimal("12.50"),
        "dp_1",
    )


LEGACY = {
    "id": "in_1",
    "object": "invoice",
    "amount_paid": 1999,
    "amount_due": 1999,
    "currency": "eur",
    "billing_reason": "subscription_cycle",
    "parent": {"type": "subscription_details", "subscription_details": {"subscription": "sub_1"}},
}


def test_legacy_invoice_paid_renews_except_the_first_invoice() -> None:
    found = event("invoice.paid", LEGACY)
    assert (found.kind, found.provider_subscription_id, found.provider_invoice_id, found.amount) == (
        EventKind.LEGACY_RENEWED,
        "sub_1",
        "in_1",
        Decimal("19.99"),
    )
    older_api = {**LEGACY, "parent": None, "subscription": "sub_2"}
    assert event("invoice.paid", older_api).provider_subscription_id == "sub_2"
    assert event("invoice.paid", {**LEGACY, "billing_reason": "subscription_create"}).kind is EventKind.IGNORED
    assert event("invoice.paid", {**LEGACY, "parent": None}).kind is EventKind.IGNORED


def test_legacy_invoice_payment_failed_and_subscription_deleted() -> None:
    failed = event("invoice.payment_failed", LEGACY)
    assert (failed.kind, failed.provider_subscription_id) == (EventKind.LEGACY_PAST_DUE, "sub_1")
    deleted = event("customer.subscription.deleted", {"id": "sub_1", "object": "subscription", "customer": "cus_1"})
    assert (deleted.kind, deleted.provider_subscription_id) == (EventKind.LEGACY_CANCELLED, "sub_1")


@pytest.mark.parametrize("event_type", ["customer.created", "charge.succeeded", "payment_intent.created", ""])
def test_anything_else_is_ignored(event_type: str) -> None:
    found = event(event_type, {"id": "x"})
    assert (found.kind, found.event_type, found.event_id) == (EventKind.IGNORED, event_type, "evt_1")


def test_every_row_of_the_table_has_a_translation() -> None:
    table = {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
        "payment_intent.amount_capturable_updated",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "charge.refunded",
        "refund.updated",
        "charge.dispute.created",
        "invoice.paid",
        "invoice.payment_failed",
        "customer.subscription.deleted",
    }
    assert set(events._HANDLERS) == table
