"""The Stripe provider with the real `stripe` SDK against the local emulator (checkout-and-payments.md §10.4).

Hosted page paid and declined, every session state, off-session charges (declined, idempotent), partial and full
refunds in minor units (JPY too), authorize → capture and → release, webhook verification (forged, stale,
tampered, wrong secret, rotation), every event row of §10.4 translated, and outages answered without a secret.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from chalicelib.core.config import reload_settings
from chalicelib.invoices.models import InvoiceItem, LineItem
from chalicelib.payments.hosted import (
    Buyer,
    EventKind,
    InvalidWebhook,
    ProviderError,
    ProviderEvent,
    ProviderNotConfigured,
    ReturnUrls,
)
from chalicelib.payments.outcomes import ProviderCaptureFailed, ProviderRefundFailed, RefundKeyInUse
from chalicelib.payments.stripe import client as stripe_client_module
from chalicelib.payments.stripe.provider import StripeProvider
from infra.emulators.base import Delivery
from infra.emulators.stripe import StripeEmulator, signature_header

SECRET = "sk_test_51EmulatorSecretKeyForTests"
WEBHOOK_SECRET = "whsec_emulator_tests_1"
URLS = ReturnUrls(
    "http://127.0.0.1:9/pay/stripe/success?session_id={SESSION_ID}", "http://127.0.0.1:9/pay/stripe/cancel"
)
ENV = (
    "STRIPE_SECRET_KEY",
    "STRIPE_TEST_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_TEST_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
)


@pytest.fixture(scope="module")
def emulator() -> Iterator[StripeEmulator]:
    with StripeEmulator(secret_key=SECRET, webhook_secret=WEBHOOK_SECRET) as running:
        assert isinstance(running, StripeEmulator)
        yield running


@pytest.fixture
def configure(stack: dict[str, object], emulator: StripeEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Point the provider's keys (through the environment) at the emulator; `configure(**overrides)` changes them."""

    def apply(**values: str | None) -> None:
        settings = {"STRIPE_SECRET_KEY": SECRET, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}
        settings["STRIPE_API_BASE"] = emulator.base_url
        settings.update({k: v for k, v in values.items() if v is not None})
        for name in ENV:
            monkeypatch.delenv(name, raising=False)
        for name, value in settings.items():
            if values.get(name, "set") is not None:
                monkeypatch.setenv(name, value)
        reload_settings()

    apply()
    emulator.decline_off_session(None, on=False)
    emulator.set_webhook_secrets([WEBHOOK_SECRET])
    with emulator.lock:
        emulator._failures.clear()
        emulator._outbox.clear()
    yield apply
    monkeypatch.undo()
    reload_settings()


@pytest.fixture
def provider(configure: Any) -> StripeProvider:
    return StripeProvider()


def invoice(
    total: str = "12.50",
    currency: str = "EUR",
    *,
    recurring: bool = False,
    lines: list[tuple[str, str]] | None = None,
    number: str = "INV-2026-000042",
) -> InvoiceItem:
    now = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    items = []
    for n, (description, gross) in enumerate(lines or [("Basic plan", total)]):
        metadata = {"billing_period": "MONTHLY"} if recurring and n == 0 else {}
        items.append(
            LineItem(
                id=f"line-{n}",
                item_type="SUBSCRIPTION" if recurring and n == 0 else "TOKEN_BUNDLE",
                description=description,
                unit_price=Decimal(gross),
                total_price=Decimal(gross),
                net_amount=Decimal(gross),
                tax_amount=Decimal(0),
                gross_amount=Decimal(gross),
                metadata=metadata,
            )
        )
    stamp = time.time_ns()
    return InvoiceItem(
        id=f"00000000-0000-4000-8000-{stamp % 10**12:012d}",
        user_id="11111111-1111-4111-8111-111111111111",
        invoice_number=number,
        billing_reason="PURCHASE",
        status="PENDING",
        currency=currency,
        subtotal=Decimal(total),
        tax_amount=Decimal(0),
        total_amount=Decimal(total),
        amount_refunded=Decimal(0),
        invoiced_at=now,
        created_at=now,
        updated_at=now,
        line_items=items,
    )


BUYER = Buyer("11111111-1111-4111-8111-111111111111", "buyer@example.test")


def webhooks(emulator: StripeEmulator) -> list[Delivery]:
    with emulator.lock:
        queued, emulator._outbox = emulator._outbox, []
    return queued


def received(provider: StripeProvider, delivery: Delivery) -> ProviderEvent:
    """A queued webhook as the webhook route sees it: header names lower-cased, raw body verified, translated."""
    headers = {name.lower(): value for name, value in delivery.headers.items()}
    return provider.translate(provider.verify_webhook(headers, delivery.body, "127.0.0.1"))


def only_event(provider: StripeProvider, emulator: StripeEmulator, event_type: str) -> ProviderEvent:
    found = [d for d in webhooks(emulator) if json.loads(d.body)["type"] == event_type]
    assert len(found) == 1, [json.loads(d.body)["type"] for d in found]
    return received(provider, found[0])


def paid_invoice(
    provider: StripeProvider, emulator: StripeEmulator, item: InvoiceItem, buyer: Buyer = BUYER
) -> tuple[str, str]:
    """`item` paid on the hosted page: (session id, customer id); the invoice records the capture's reference."""
    session = provider.create_session(item, buyer, URLS, f"{item.id}:session:1", manual_capture=False)
    answer = requests.post(f"{session.session_url}/pay", allow_redirects=False, timeout=5)
    assert answer.status_code == 303
    item.payment_ref, item.payment_method, item.status = session.session_id, "stripe", "PAID"
    webhooks(emulator)
    return session.session_id, session.customer_id or str(buyer.customer_id)


# --- hosted sessions ---------------------------------------------------------------------------------------------


def test_a_session_paid_on_the_hosted_page_is_captured_with_the_saved_card(
    provider: StripeProvider, emulator: StripeEmulator
) -> None:
    item = invoice("12.50", recurring=True, lines=[("Basic plan", "10.00"), ("Tokens", "2.50")])
    session = provider.create_session(item, BUYER, URLS, f"{item.id}:session:1", manual_capture=False)

    assert session.session_id.startswith("cs_") and session.payment_intent_id is None
    assert session.customer_id is not None and session.customer_id.startswith("cus_")
    assert session.session_url == f"{emulator.base_url}/pay/{session.session_id}"
    page = requests.get(session.session_url, timeout=5)
    assert page.status_code == 200 and "€12.50" in page.text and ">Pay<" in page.text and ">Decline<" in page.text
    assert "Basic plan: €10.00" in page.text

    answer = requests.post(f"{session.session_url}/pay", allow_redirects=False, timeout=5)

    assert answer.status_code == 303
    assert answer.headers["Location"] == f"http://127.0.0.1:9/pay/stripe/success?session_id={session.session_id}"
    state = provider.session_state(session.session_id)
    assert (state.status, state.amount_minor, state.currency, state.invoice_id) == ("paid", 1250, "EUR", item.id)
    assert state.payment is not None
    assert state.payment.reference == session.session_id and str(state.payment.transaction_id).startswith("pi_")
    saved = state.payment.saved_method
    assert saved is not None and saved["provider"] == "stripe" and saved["reference"].startswith("pm_")
    assert saved["customer"] == session.customer_id and saved["label"] == "Visa •••• 4242"
    stored = emulator.objects[session.session_id]
    assert stored["metadata"] == {
        "invoice_id": item.id,
        "user_id": item.user_id,
        "invoice_number": item.invoice_number,
        "flow": "checkout",
    }
    assert stored["client_reference_id"] == item.id and stored["customer"] == session.customer_id

    event = only_event(provider, emulator, "checkout.session.completed")
    assert event.kind is EventKind.CAPTURED and event.event_id.startswith("evt_")
    assert (event.invoice_id, event.amount, event.currency, event.session_id) == (
        item.id,
        Decimal("12.50"),
        "EUR",
        session.session_id,
    )
    assert event.payment == state.payment


def test_a_declined_card_leaves_the_session_open_and_queues_nothing(
    provider: StripeProvider, emulator: StripeEmulator
) -> None:
    item = invoice("9.99")
    session = provider.create_session(item, BUYER, URLS, f"{item.id}:session:1", manual_capture=False)

    answer = requests.post(f"{session.session_url}/decline", allow_redirects=False, timeout=5)

    assert answer.status_code == 303 and answer.headers["Location"] == URLS.cancel
    state = provider.session_state(session.session_id)
    assert (state.status, state.amount_minor, state.payment) == ("unpaid", 999, None)
    assert webhooks(emulator) == []
    assert emulator.objects[session.session_id]["status"] == "open"


def test_an_existing_customer_is_used_and_not_created_again(provider: StripeProvider, emulator: StripeEmulator) -> None:
    first = provider.create_session(invoice(), BUYER, URLS, "k-customer-1", manual_capture=False)
    customers = len(emulator.of_kind("customer"))
    known = Buyer(BUYER.user_id, BUYER.email, first.customer_id)

    second = provider.create_session(invoice(), known, URLS, "k-customer-2", manual_capture=False)

    assert second.customer_id is None
    assert emulator.objects[second.session_id]["customer"] == first.customer_id
    assert len(emulator.of_kind("customer")) == customers


def test_the_same_idempotency_key_opens_one_session(provider: StripeProvider, emulator: StripeEmulator) -> None:
    item = invoice()
    known = Buyer(BUYER.user_id, BUYER.email, "cus_unknown")
    with pytest.raises(ProviderError, match="No such customer"):
        provider.create_session(item, known, URLS, f"{item.id}:bad", manual_capture=False)
    first = provider.create_session(item, BUYER, URLS, f"{item.id}:s", manual_capture=False)
    again = provider.create_session(item, BUYER, URLS, f"{item.id}:s", manual_capture=False)
    assert again.session_id == first.session_id and again.customer_id == first.customer_id


def test_lines_summing_to_the_total_are_sent_else_one_line_of_the_total(
    provider: StripeProvider, emulator: StripeEmulator
) -> None:
    credited = invoice("5.00", lines=[("Pro plan", "15.00"), ("Proration credit", "-10.00")], number="INV-7")
    session = provider.create_session(credited, BUYER, URLS, f"{credited.id}:s", manual_capture=False)
    page = requests.get(str(session.session_url), timeout=5).text
    assert "Invoice INV-7: €5.00" in page and "Proration" not in page
    assert emulator.objects[session.session_id]["amount_total"] == 500


def test_a_session_can_expire_with_a_booking_hold(provider: StripeProvider, emulator: StripeEmulator) -> None:
    item = invoice()
    hold_ends = int(time.time()) + 40 * 60
    session = provider.create_session(item, BUYER, URLS, f"{item.id}:s", manual_capture=False, expires_at=hold_ends)
    assert emulator.objects[session.session_id]["expires_at"] == hold_ends
    with pytest.raises(ProviderError, match="30 minutes"):
        provider.create_session(item, BUYER, URLS, f"{item.id}:t", manual_capture=False, expires_at=hold_ends - 900)


def test_a_jpy_invoice_is_sent_in_whole_yen(provider: StripeProvider, emulator: StripeEmulator) -> None:
    item = invoice("500", "JPY")
    session = provider.create_session(item, BUYER, URLS, f"{item.id}:s", manual_capture=False)
    assert emulator.objects[session.session_id]["amount_total"] == 500
    assert emulator.objects[session.session_id]["currency"] == "jpy"
    state = provider.session_state(session.session_id)
    assert (state.amount_minor, state.currency) == (500, "JPY")


def test_an_expired_session_reads_expired_and_its_event_is_translated(
    provider: StripeProvider, emulator: StripeEmulator
) -> None:
    item = invoice()
    session = provider.create_session(item, BUYER, URLS, f"{item.id}:s", manual_capture=False)

    provider.expire_session(session.session_id)
    provider.expire_session(session.session_id)  # no longer open: nothing to do

    assert provider.session_state(session.session_id).status == "expired"
    event = only_event(provider, emulator, "checkout.session.expired")
    assert (event.kind, event.invoice_id, event.session_id) == (
        EventKind.SESSION_EXPIRED,
        item.id,
        session.session_id,
    )
    assert requests.post(f"{session.session_url}/pay", allow_redirects=False, timeout=5).status_code == 410


def test_the_emulator_expires_a_session_from_its_control_api(
    provider: StripeProvider, emulator: StripeEmulator
) -> None:
    item = invoice()
    session = provider.create_session(item, BUYER, URLS, f"{item.id}:s", manual_capture=False)
    answer = requests.post(f"{emulator.base_url}/_emulator/checkout/sessions/{session.session_id}/expire", timeout=5)
    assert answer.status_code == 200 and answer.json()["status"] == "expired"
    assert provider.session_state(session.session_id).status == "expired"


# --- off-session charges -----------------------------------------------------------------------------------------


def saved_card(provider: StripeProvider, emulator: StripeEmulator) -> dict[str, Any]:
    item = invoice("12.50", recurring=True)
    session_id, _ = paid_invoice(provider, emulator, item)
    state = provider.session_state(session_id)
    assert state.payment is not None and state.payment.saved_method is not None
    return state.payment.saved_method


def test_an_off_session_charge_of_the_saved_card_is_captured(
    provider: StripeProvider, emulator: StripeEmulator
) -> None:
    method = saved_card(provider, emulator)
    renewal = invoice("12.50", recurring=True, number="INV-2026-000043")

    charge = provider.charge_saved(renewal, method, f"{renewal.id}:1")

    assert charge.succeeded and charge.payment is not None
    assert charge.payment.reference.startswith("pi_") and charge.payment.saved_method == method
    intent = emulator.objects[charge.payment.reference]
    assert (intent["amount"], intent["currency"], intent["status"]) == (1250, "eur", "succeeded")
    assert intent["metadata"]["invoice_id"] == renewal.id and intent["metadata"]["flow"] == "off_session"
    event = only_event(provider, emulator, "payment_intent.succeeded")
    assert event.kind is EventKind.CAPTURED and event.off_session
    assert (event.invoice_id, event.amount, event.payment) == (renewal.id, Decimal("12.50"), charge.payment)


def test_a_declined_off_session_charge_is_a_decline_and_queues_payment_failed(
    provider: StripeProvider, emulator: StripeEmulator
) -> None:
    method = saved_card(provider, emulator)
    renewal = invoice("12.50", recurring=True)
    answer = requests.post(
        f"{emulator.base_url}/_emulator/decline", json={"customer": method["customer"], "on": True}, timeout=5
    )
    assert answer.status_code == 200

    charge = provider.charge_saved(renewal, method, f"{renewal.id}:1")

    assert not charge.succeeded
    assert (charge.error_code, charge.error_message) == ("generic_decline", "Your card was declined.")
    event = only_event(provider, emulator, "payment_intent.payment_failed")
    assert (event.kind, event.invoice_id, event.off_session) == (EventKind.PAYMENT_FAILED, renewal.id, True)
    assert (event.error_code, event.error_message) == ("generic_decline", "Your card was declined.")
    # Declining everyone, then no one.
    emulator.decline_off_session(method["customer"], on=False)
    emulator.decline_off_session(None, on=True)
    assert not provider.charge_saved(renewal, method, f"{renewal.id}:2").succeeded
    emulator.decline_off_session(None, on=False)
    assert provider.charge_saved(renewal, method, f"{renewal.id}:3").succeeded


def test_the_same_idempotency_key_charges_once(provider: StripeProvider, emulator: StripeEmulator) -> None:
    method = saved_card(provider, emulator)
    renewal = invoice("12.50", recurring=True)
    intents = len(emulator.of_kind("payment_intent"))

    first = provider.charge_saved(renewal, method, f"{renewal.id}:1")
    again = provider.charge_saved(renewal, method, f"{renewal.id}:1")

    assert first == again and first.succeeded
    assert len(emulator.of_kind("payment_intent")) == intents + 1
    assert len([d for d in webhooks(emulator) if json.loads(d.body)["type"] == "payment_intent.succeeded"]) == 1
    # A decline is replayed as well, under its key: no second attempt at the card.
    emulator.decline_off_session(None, on=True)
    declined = provider.charge_saved(renewal, method, f"{renewal.id}:2")
    emulator.decline_off_session(None, on=False)
    assert provider.charge_saved(renewal, method, f"{renewal.id}:2") == declined


# --- refunds -----------------------------------------------------------------------------------------------------


def test_partial_then_full_refunds_in_minor_units(provider: StripeProvider, emulator: StripeEmulator) -> None:
    item = invoice("12.50")
    session_id, _ = paid_invoice(provider, emulator, item)

    first = provider.refund(item, Decimal("2.25"), f"{item.id}:refund:1")
    replay = provider.refund(item, Decimal("2.25"), f"{item.id}:refund:1")
    rest = provider.refund(item, Decimal("10.25"), f"{item.id}:refund:2")

    assert first is not None and first.startswith("re_") and replay == first
    assert [emulator.objects[r]["amount"] for r in (first, str(rest))] == [225, 1025]
    intent = emulator.objects[session_id]["payment_intent"]
    charge = emulator.objects[emulator.objects[intent]["latest_charge"]]
    assert (charge["amount_refunded"], charge["refunded"]) == (1250, True)
    refunded = [received(provider, d) for d in webhooks(emulator)]
    assert [(e.kind, e.refunded_total, e.invoice_id) for e in refunded] == [
        (EventKind.REFUNDED, Decimal("2.25"), item.id),
        (EventKind.REFUNDED, Decimal("12.50"), item.id),
    ]
    with pytest.raises(RefundKeyInUse):
        provider.refund(item, Decimal("1.00"), f"{item.id}:refund:1")
    with pytest.raises(ProviderRefundFailed, match="has already been refunded"):
        provider.refund(item, Decimal("1.00"), f"{item.id}:refund:3")


def test_a_refund_over_the_remainder_is_refused_with_stripes_message(
    provider: StripeProvider, emulator: StripeEmulator
) -> None:
    item = invoice("500", "JPY")
    paid_invoice(provider, emulator, item)
    assert provider.refund(item, Decimal("200"), f"{item.id}:refund:1") is not None
    with pytest.raises(ProviderRefundFailed) as refused:
        provider.refund(item, Decimal("301"), f"{item.id}:refund:2")
    assert str(refused.value) == "Refund amount (¥301) is greater than unrefunded amount on charge (¥300)"
    with pytest.raises(ProviderError, match="more decimal places"):
        provider.refund(item, Decimal("0.5"), f"{item.id}:refund:3")


def test_an_off_session_payment_is_refunded_through_its_intent(
    provider: StripeProvider, emulator: StripeEmulator
) -> None:
    method = saved_card(provider, emulator)
    renewal = invoice("12.50", recurring=True)
    charge = provider.charge_saved(renewal, method, f"{renewal.id}:1")
    assert charge.payment is not None
    renewal.payment_ref = charge.payment.reference
    assert provider.refund(renewal, Decimal("12.50"), f"{renewal.id}:refund:1") is not None
    with pytest.raises(ProviderRefundFailed, match="No Stripe payment"):
        provider.refund(invoice(), Decimal("1.00"), "x:refund:1")


# --- authorization ---------------------------------------------------------------------------------------------


def authorized(provider: StripeProvider, emulator: StripeEmulator) -> tuple[InvoiceItem, str]:
    item = invoice("40.00")
    session = provider.create_session(item, BUYER, URLS, f"{item.id}:s", manual_capture=True)
    assert session.session_id == session.payment_intent_id and session.capture_method == "manual"
    assert session.session_url is None and str(session.client_secret).startswith(f"{session.session_id}_secret_")
    assert provider.session_state(session.session_id).status == "unpaid"
    page = f"{emulator.base_url}/pay/{session.session_id}"
    assert "€40.00" in requests.get(page, timeout=5).text
    assert requests.post(f"{page}/decline", timeout=5).status_code == 402
    assert provider.session_state(session.session_id).status == "unpaid"
    assert [json.loads(d.body)["type"] for d in webhooks(emulator)] == ["payment_intent.payment_failed"]
    assert requests.post(f"{page}/pay", timeout=5).status_code == 200  # what Stripe.js does with the client secret
    event = only_event(provider, emulator, "payment_intent.amount_capturable_updated")
    assert (event.kind, event.invoice_id, event.intent_id, event.amount) == (
        EventKind.AUTHORIZED,
        item.id,
        session.session_id,
        Decimal("40.00"),
    )
    state = provider.session_state(session.session_id)
    assert (state.status, state.authorized_intent, state.invoice_id) == ("pending", session.session_id, item.id)
    item.payment_intent_id, item.status = session.session_id, "AUTHORIZED"
    return item, session.session_id


def test_an_authorization_is_captured_in_full(provider: StripeProvider, emulator: StripeEmulator) -> None:
    item, intent = authorized(provider, emulator)

    payment = provider.capture_authorized(item)

    assert (payment.provider, payment.reference) == ("stripe", intent)
    assert emulator.objects[intent]["status"] == "succeeded" and emulator.objects[intent]["amount_received"] == 4000
    event = only_event(provider, emulator, "payment_intent.succeeded")
    assert (event.kind, event.invoice_id, event.off_session, event.payment) == (
        EventKind.CAPTURED,
        item.id,
        False,
        payment,
    )
    assert provider.session_state(intent).status == "paid"
    with pytest.raises(ProviderCaptureFailed, match="status of succeeded"):
        provider.capture_authorized(item)
    with pytest.raises(ProviderCaptureFailed, match="status of succeeded"):
        provider.release(item)


def test_an_authorization_is_released(provider: StripeProvider, emulator: StripeEmulator) -> None:
    item, intent = authorized(provider, emulator)

    provider.release(item)

    assert emulator.objects[intent]["status"] == "canceled"
    event = only_event(provider, emulator, "payment_intent.canceled")
    assert (event.kind, event.invoice_id, event.intent_id) == (EventKind.RELEASED, item.id, intent)
    assert provider.session_state(intent).status == "expired"
    with pytest.raises(ProviderCaptureFailed, match="status of canceled"):
        provider.capture_authorized(item)
    with pytest.raises(ProviderCaptureFailed, match="no Stripe authorization"):
        provider.release(invoice())


# --- webhook verification --------------------------------------------------------------------------------------


def signed_event(emulator: StripeEmulator) -> Delivery:
    emulator.emit("customer.created", {"id": "cus_x", "object": "customer"})
    (delivery,) = webhooks(emulator)
    return delivery


def lowered(delivery: Delivery, **replace: str) -> dict[str, str]:
    return {**{name.lower(): value for name, value in delivery.headers.items()}, **replace}


def test_a_valid_signature_verifies_on_the_raw_body(provider: StripeProvider, emulator: StripeEmulator) -> None:
    delivery = signed_event(emulator)
    payload = provider.verify_webhook(lowered(delivery), delivery.body, None)
    assert payload["type"] == "customer.created" and payload["object"] == "event"
    assert provider.translate(payload).kind is EventKind.IGNORED


@pytest.mark.parametrize("case", ["forged", "stale", "tampered", "missing", "malformed", "future"])
def test_a_webhook_that_does_not_verify_is_refused(
    case: str, provider: StripeProvider, emulator: StripeEmulator
) -> None:
    delivery = signed_event(emulator)
    body, headers = delivery.body, lowered(delivery)
    if case == "forged":
        headers["stripe-signature"] = signature_header(body, ["whsec_forger"])
    elif case == "stale":
        headers["stripe-signature"] = signature_header(body, [WEBHOOK_SECRET], int(time.time()) - 301)
    elif case == "future":
        headers["stripe-signature"] = signature_header(
            body, [WEBHOOK_SECRET], int(time.time()) + 310
        )  # beyond the tolerance, with room for a slow machine
    elif case == "tampered":
        body = body.replace(b'"customer.created"', b'"charge.refunded"')
    elif case == "missing":
        del headers["stripe-signature"]
    else:
        headers["stripe-signature"] = "v1=abc"
    with pytest.raises(InvalidWebhook) as refused:
        provider.verify_webhook(headers, body, None)
    assert refused.value.message == "Invalid signature"


def test_a_signature_within_the_tolerance_verifies(provider: StripeProvider, emulator: StripeEmulator) -> None:
    delivery = signed_event(emulator)
    header = signature_header(delivery.body, [WEBHOOK_SECRET], int(time.time()) - 290)
    assert provider.verify_webhook({"stripe-signature": header}, delivery.body, None)["object"] == "event"


def test_a_wrong_secret_is_refused(configure: Any, emulator: StripeEmulator) -> None:
    delivery = signed_event(emulator)
    configure(STRIPE_WEBHOOK_SECRET="whsec_someone_else")
    with pytest.raises(InvalidWebhook):
        StripeProvider().verify_webhook(lowered(delivery), delivery.body, None)


def test_during_a_rotation_both_secrets_verify_and_neither_other_does(configure: Any, emulator: StripeEmulator) -> None:
    new_secret = "whsec_emulator_tests_2"
    answer = requests.put(
        f"{emulator.base_url}/_emulator/webhook-secrets", json={"secrets": [WEBHOOK_SECRET, new_secret]}, timeout=5
    )
    assert answer.status_code == 200
    delivery = signed_event(emulator)
    assert delivery.headers["Stripe-Signature"].count("v1=") == 2

    configure(STRIPE_WEBHOOK_SECRET=new_secret)
    assert StripeProvider().verify_webhook(lowered(delivery), delivery.body, None)["type"] == "customer.created"
    configure(STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    assert StripeProvider().verify_webhook(lowered(delivery), delivery.body, None)["type"] == "customer.created"
    configure(STRIPE_WEBHOOK_SECRET="whsec_retired_long_ago")
    with pytest.raises(InvalidWebhook):
        StripeProvider().verify_webhook(lowered(delivery), delivery.body, None)


def test_a_webhook_without_a_configured_secret_is_not_configured(configure: Any, emulator: StripeEmulator) -> None:
    delivery = signed_event(emulator)
    configure(STRIPE_WEBHOOK_SECRET=None)
    with pytest.raises(ProviderNotConfigured):
        StripeProvider().verify_webhook(lowered(delivery), delivery.body, None)


# --- provider-initiated events ---------------------------------------------------------------------------------


def test_dashboard_refund_its_cancellation_and_a_dispute_are_translated(
    provider: StripeProvider, emulator: StripeEmulator
) -> None:
    item = invoice("12.50")
    session_id, _ = paid_invoice(provider, emulator, item)
    intent = emulator.objects[session_id]["payment_intent"]

    refund = requests.post(
        f"{emulator.base_url}/_emulator/refunds", json={"payment_intent": intent, "amount": 300}, timeout=5
    ).json()
    refunded = only_event(provider, emulator, "charge.refunded")
    assert (refunded.kind, refunded.invoice_id, refunded.refunded_total, refunded.currency) == (
        EventKind.REFUNDED,
        item.id,
        Decimal("3.00"),
        "EUR",
    )
    requests.post(f"{emulator.base_url}/_emulator/refunds/{refund['id']}/cancel", timeout=5)
    reversed_ = only_event(provider, emulator, "refund.updated")
    assert (reversed_.kind, reversed_.invoice_id, reversed_.refund_id, reversed_.refund_amount) == (
        EventKind.REFUND_REVERSED,
        item.id,
        refund["id"],
        Decimal("3.00"),
    )
    requests.post(f"{emulator.base_url}/_emulator/disputes", json={"payment_intent": intent}, timeout=5)
    disputed = only_event(provider, emulator, "charge.dispute.created")
    assert (disputed.kind, disputed.invoice_id, disputed.amount, disputed.details["reason"]) == (
        EventKind.DISPUTED,
        item.id,
        Decimal("12.50"),
        "fraudulent",
    )


def test_legacy_subscription_events_are_translated(provider: StripeProvider, emulator: StripeEmulator) -> None:
    customer = provider.create_session(invoice(), BUYER, URLS, "k-legacy", manual_capture=False).customer_id
    control = f"{emulator.base_url}/_emulator/subscriptions"
    sub = requests.post(control, json={"customer": customer, "amount": 1999, "currency": "eur"}, timeout=5).json()
    webhooks(emulator)

    requests.post(f"{control}/{sub['id']}/renew", timeout=5)
    renewed = only_event(provider, emulator, "invoice.paid")
    assert (renewed.kind, renewed.provider_subscription_id, renewed.amount, renewed.currency) == (
        EventKind.LEGACY_RENEWED,
        sub["id"],
        Decimal("19.99"),
        "EUR",
    )
    assert str(renewed.provider_invoice_id).startswith("in_")
    assert renewed.details["billing_reason"] == "subscription_cycle"
    requests.post(f"{control}/{sub['id']}/fail", timeout=5)
    failed = only_event(provider, emulator, "invoice.payment_failed")
    assert (failed.kind, failed.provider_subscription_id) == (EventKind.LEGACY_PAST_DUE, sub["id"])

    provider.cancel_legacy_subscription(sub["id"])
    assert emulator.objects[sub["id"]]["cancel_at_period_end"] is True and webhooks(emulator) == []
    provider.cancel_legacy_subscription(sub["id"], immediately=True)
    deleted = only_event(provider, emulator, "customer.subscription.deleted")
    assert (deleted.kind, deleted.provider_subscription_id) == (EventKind.LEGACY_CANCELLED, sub["id"])


def test_events_stored_at_stripe_can_be_read_back(provider: StripeProvider, emulator: StripeEmulator) -> None:
    delivery = signed_event(emulator)
    event_id = json.loads(delivery.body)["id"]
    fetched = provider.call(lambda c, o: c.v1.events.retrieve(event_id, options=o))
    assert fetched["id"] == event_id and fetched["type"] == "customer.created"


# --- failures ----------------------------------------------------------------------------------------------------


def test_an_outage_is_a_provider_error_without_the_secret(provider: StripeProvider, emulator: StripeEmulator) -> None:
    requests.post(f"{emulator.base_url}/_emulator/fail", json={"count": 1, "status": 500}, timeout=5)
    with pytest.raises(ProviderError) as failed:
        provider.create_session(invoice(), BUYER, URLS, "k-outage", manual_capture=False)
    assert "unknown error" in str(failed.value) and SECRET not in str(failed.value)
    assert provider.create_session(invoice(), BUYER, URLS, "k-outage", manual_capture=False).session_id


def test_an_unreachable_stripe_is_a_provider_error_without_the_secret(
    configure: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stripe_client_module, "MAX_NETWORK_RETRIES", 0)
    configure(STRIPE_API_BASE="http://127.0.0.1:9")
    with pytest.raises(ProviderError) as failed:
        StripeProvider().charge_saved(invoice(), {"customer": "cus_x", "reference": "pm_x"}, "x:1")
    assert "communicating with Stripe" in str(failed.value) and SECRET not in str(failed.value)


def test_a_wrong_key_is_refused_as_stripe_refuses_it_without_showing_it(configure: Any) -> None:
    configure(STRIPE_SECRET_KEY="sk_test_51WrongKeyWrongKeyWrongKey9876")
    with pytest.raises(ProviderError) as failed:
        StripeProvider().session_state("cs_test_x")
    assert str(failed.value) == "Invalid API Key provided: [redacted]"
    assert "9876" not in str(failed.value)


def test_missing_keys_are_not_configured(configure: Any) -> None:
    configure(STRIPE_SECRET_KEY=None)
    with pytest.raises(ProviderNotConfigured):
        StripeProvider().create_session(invoice(), BUYER, URLS, "k", manual_capture=False)
