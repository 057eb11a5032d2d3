"""The PayPal provider against the local PayPal emulator, through the real `paypal-server-sdk` (§10.5, §6.3, §7,
§10.7): hosted checkout paid and declined on the emulator's page, session states, vaulted off-session charges,
partial and full refunds (JPY too), authorize → capture / release, webhook verification with `webhook_id`, the
translation of every event, and outages that never leak a secret."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests

from chalicelib.core.config import reload_settings
from chalicelib.invoices.models import InvoiceItem, LineItem
from chalicelib.payments.hosted import (
    Buyer,
    EventKind,
    InvalidWebhook,
    ProviderError,
    ProviderNotConfigured,
    ReturnUrls,
)
from chalicelib.payments.outcomes import ProviderCaptureFailed, ProviderRefundFailed, RefundKeyInUse
from chalicelib.payments.paypal.provider import PayPalProvider
from chalicelib.plugins.registry import forget_cached_states
from infra.emulators.base import Delivery
from infra.emulators.paypal import PayPalEmulator

CLIENT_ID = "test-paypal-client"
SECRET = "test-paypal-secret-Zq81x"
WEBHOOK_ID = "WH-TEST-7GH15"
BUYER = Buyer(user_id="user-1", email="buyer@example.com")
URLS = ReturnUrls(
    success="http://localhost:5173/pay/paypal/success?session_id={SESSION_ID}",
    cancel="http://localhost:5173/pay/paypal/cancel",
)
ENV = ("PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET", "PAYPAL_WEBHOOK_ID", "PAYPAL_API_BASE")


def _configure(monkeypatch: pytest.MonkeyPatch, base_url: str, **overrides: str | None) -> None:
    values = {
        "PAYPAL_CLIENT_ID": CLIENT_ID,
        "PAYPAL_CLIENT_SECRET": SECRET,
        "PAYPAL_WEBHOOK_ID": WEBHOOK_ID,
        "PAYPAL_API_BASE": base_url,
    }
    values.update(overrides)
    for name, value in values.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    reload_settings()
    forget_cached_states()


@pytest.fixture(scope="module")
def emulator(stack: dict[str, object]) -> Iterator[PayPalEmulator]:
    emu = PayPalEmulator(CLIENT_ID, SECRET, WEBHOOK_ID, deliver=lambda headers, body: 200)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def paypal(emulator: PayPalEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[PayPalProvider]:
    _configure(monkeypatch, emulator.base_url)
    emulator.flush()  # start each test with an empty outbox
    emulator.decline_off_session(None, False)
    yield PayPalProvider()
    monkeypatch.undo()
    reload_settings()
    forget_cached_states()


def make_invoice(total: str = "19.99", currency: str = "EUR", *, recurring: bool = False) -> InvoiceItem:
    amount = Decimal(total)
    now = datetime.now(UTC)
    line = LineItem(  # type: ignore[no-untyped-call]
        id=str(uuid.uuid4()),
        item_type="SUBSCRIPTION" if recurring else "TOKEN_BUNDLE",
        description="Pro plan" if recurring else "100 tokens",
        quantity=1,
        unit_price=amount,
        total_price=amount,
        net_amount=amount,
        tax_amount=Decimal(0),
        gross_amount=amount,
        metadata={"billing_period": "MONTHLY"} if recurring else {},
    )
    invoice_id = str(uuid.uuid4())
    return InvoiceItem(
        id=invoice_id,
        user_id=BUYER.user_id,
        invoice_number=f"INV-2026-{invoice_id[:6]}",
        billing_reason="SUBSCRIPTION_CREATE",
        status="PENDING",
        currency=currency,
        subtotal=amount,
        tax_amount=Decimal(0),
        total_amount=amount,
        amount_refunded=Decimal(0),
        invoiced_at=now,
        created_at=now,
        updated_at=now,
        line_items=[line],
    )


def events(emulator: PayPalEmulator) -> list[Delivery]:
    """The webhooks the emulator delivered since the last call, with PayPal's header names lower-cased as the
    webhook route hands them to the provider."""
    return [Delivery({k.lower(): v for k, v in d.headers.items()}, d.body, d.status) for d in emulator.flush()]


def of_type(deliveries: list[Delivery], event_type: str) -> Delivery:
    found = [d for d in deliveries if json.loads(d.body)["event_type"] == event_type]
    assert found, [json.loads(d.body)["event_type"] for d in deliveries]
    return found[-1]


def open_session(paypal: PayPalProvider, invoice: InvoiceItem, *, manual: bool = False) -> str:
    session = paypal.create_session(invoice, BUYER, URLS, f"{invoice.id}:1", manual_capture=manual)
    assert session.session_url is not None
    return session.session_id


def approve(emulator: PayPalEmulator, order_id: str, email: str = "buyer@example.com") -> requests.Response:
    return requests.post(
        f"{emulator.base_url}/checkoutnow/{order_id}/approve", data={"email": email}, allow_redirects=False, timeout=5
    )


def paid_order(paypal: PayPalProvider, emulator: PayPalEmulator, invoice: InvoiceItem) -> tuple[str, str]:
    """A hosted checkout paid through the page and captured: (order id, capture id)."""
    order_id = open_session(paypal, invoice)
    assert approve(emulator, order_id).status_code == 303
    state = paypal.session_state(order_id)
    assert state.status == "paid" and state.payment is not None
    return order_id, state.payment.reference


# --- configuration --------------------------------------------------------------------------------------------------


def test_the_sdk_is_pointed_at_the_emulator_by_configuration(paypal: PayPalProvider, emulator: PayPalEmulator) -> None:
    from paypalserversdk.configuration import Configuration, Environment, Server

    from chalicelib.payments.hosted import provider_keys
    from chalicelib.payments.paypal.client import sdk_client

    client = sdk_client(provider_keys("paypal"))
    assert client.config.get_base_uri() == emulator.base_url
    assert client.config.environment is Environment.SANDBOX
    assert client.config.clone_with(timeout=5).get_base_uri() == emulator.base_url  # a clone keeps the base URL
    # The SDK's own mapping is untouched: only this configuration instance points elsewhere.
    assert Configuration.environments[Environment.SANDBOX][Server.DEFAULT] == "https://api-m.sandbox.paypal.com"
    assert Configuration.environments[Environment.PRODUCTION][Server.DEFAULT] == "https://api-m.paypal.com"


def test_missing_keys_are_not_configured(emulator: PayPalEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    _configure(monkeypatch, emulator.base_url, PAYPAL_CLIENT_SECRET=None)
    try:
        with pytest.raises(ProviderNotConfigured):
            PayPalProvider().create_session(make_invoice(), BUYER, URLS, "k:1", manual_capture=False)
    finally:
        monkeypatch.undo()
        reload_settings()
        forget_cached_states()


# --- hosted checkout --------------------------------------------------------------------------------------------


def test_a_session_paid_through_the_hosted_page(paypal: PayPalProvider, emulator: PayPalEmulator) -> None:
    invoice = make_invoice("19.99")
    session = paypal.create_session(invoice, BUYER, URLS, f"{invoice.id}:1", manual_capture=False)
    assert session.session_url == f"{emulator.base_url}/checkoutnow?token={session.session_id}"
    page = requests.get(session.session_url, timeout=5)
    assert page.status_code == 200 and "19.99 EUR" in page.text
    assert 'id="pay"' in page.text and 'id="decline"' in page.text
    assert paypal.session_state(session.session_id).status == "unpaid"  # PAYER_ACTION_REQUIRED

    answer = approve(emulator, session.session_id)
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith("http://localhost:5173/pay/paypal/success?")
    assert f"token={session.session_id}" in location and "PayerID=" in location

    state = paypal.session_state(session.session_id)  # APPROVED: captured here
    assert state.status == "paid"
    assert (state.amount_minor, state.currency, state.invoice_id) == (1999, "EUR", invoice.id)
    assert state.payment is not None and state.payment.provider == "paypal"
    assert state.payment.transaction_id == session.session_id
    assert state.payment.saved_method is None  # a one-time purchase vaults nothing
    capture = emulator.captures[state.payment.reference]
    assert capture["custom_id"] == invoice.id and capture["amount"] == {"currency_code": "EUR", "value": "19.99"}
    again = paypal.session_state(session.session_id)  # COMPLETED → paid, the same capture
    assert again.payment == state.payment
    sent = events(emulator)
    assert [json.loads(d.body)["event_type"] for d in sent] == ["CHECKOUT.ORDER.APPROVED", "PAYMENT.CAPTURE.COMPLETED"]


def test_a_declined_session_goes_to_the_cancel_url(paypal: PayPalProvider, emulator: PayPalEmulator) -> None:
    invoice = make_invoice()
    order_id = open_session(paypal, invoice)
    answer = requests.post(f"{emulator.base_url}/checkoutnow/{order_id}/cancel", allow_redirects=False, timeout=5)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"http://localhost:5173/pay/paypal/cancel?token={order_id}"
    assert paypal.session_state(order_id).status == "unpaid"
    assert events(emulator) == []


def test_the_same_idempotency_key_opens_one_order(paypal: PayPalProvider) -> None:
    invoice = make_invoice()
    first = paypal.create_session(invoice, BUYER, URLS, f"{invoice.id}:1", manual_capture=False)
    second = paypal.create_session(invoice, BUYER, URLS, f"{invoice.id}:1", manual_capture=False)
    third = paypal.create_session(invoice, BUYER, URLS, f"{invoice.id}:2", manual_capture=False)
    assert first.session_id == second.session_id != third.session_id


def test_a_poll_and_a_webhook_racing_capture_the_order_once(paypal: PayPalProvider, emulator: PayPalEmulator) -> None:
    from concurrent.futures import ThreadPoolExecutor

    invoice = make_invoice("11.00")
    order_id = open_session(paypal, invoice)
    approve(emulator, order_id)
    approved = json.loads(of_type(events(emulator), "CHECKOUT.ORDER.APPROVED").body)
    with ThreadPoolExecutor(4) as pool:
        polls = [pool.submit(paypal.session_state, order_id) for _ in range(2)]
        hooks = [pool.submit(paypal.translate, approved) for _ in range(2)]
        payments = {f.result().payment for f in polls} | {f.result().payment for f in hooks}
    assert len(payments) == 1 and len(emulator.orders[order_id].captures) == 1


def test_session_states(paypal: PayPalProvider, emulator: PayPalEmulator) -> None:
    expired = open_session(paypal, make_invoice())
    emulator.expire_order(expired)
    assert paypal.session_state(expired).status == "expired"  # VOIDED

    held = open_session(paypal, make_invoice("50.00"), manual=True)
    assert emulator.orders[held].intent == "AUTHORIZE"
    approve(emulator, held)
    state = paypal.session_state(held)  # APPROVED with intent AUTHORIZE: authorized here
    assert state.status == "pending" and state.authorized_intent in emulator.authorizations
    assert state.payment is None and state.amount_minor == 5000
    emulator.dashboard_void(str(state.authorized_intent))
    assert paypal.session_state(held).status == "expired"

    with pytest.raises(ProviderError, match="does not exist"):
        paypal.session_state("NOSUCHORDER000000")


def test_a_jpy_session_has_no_minor_places(paypal: PayPalProvider, emulator: PayPalEmulator) -> None:
    invoice = make_invoice("1200", "JPY")
    order_id = open_session(paypal, invoice)
    assert emulator.orders[order_id].amount == Decimal("1200")
    approve(emulator, order_id)
    state = paypal.session_state(order_id)
    assert (state.status, state.amount_minor, state.currency) == ("paid", 1200, "JPY")


# --- saved methods, off-session -------------------------------------------------------------------------------


def test_a_recurring_checkout_vaults_the_payer_and_renewals_charge_it(
    paypal: PayPalProvider, emulator: PayPalEmulator
) -> None:
    invoice = make_invoice("9.90", recurring=True)
    order_id, _ = paid_order(paypal, emulator, invoice)
    state = paypal.session_state(order_id)
    saved = state.payment.saved_method if state.payment else None
    assert saved is not None
    vault = emulator.vaults[saved["reference"]]
    assert saved == {
        "provider": "paypal",
        "reference": vault.id,
        "customer": vault.customer_id,
        "label": "PayPal buyer@example.com",
    }
    events(emulator)

    renewal = make_invoice("9.90", recurring=True)
    charged = paypal.charge_saved(renewal, saved, f"{renewal.id}:1")
    assert charged.succeeded and charged.payment is not None
    assert charged.payment.reference in emulator.captures and charged.payment.saved_method == saved
    replay = paypal.charge_saved(renewal, saved, f"{renewal.id}:1")
    assert replay.payment == charged.payment
    taken = [c for c in emulator.captures.values() if c.get("custom_id") == renewal.id]
    assert len(taken) == 1  # the same key twice: one charge
    completed = of_type(events(emulator), "PAYMENT.CAPTURE.COMPLETED")
    event = paypal.translate(paypal.verify_webhook(completed.headers, completed.body, "127.0.0.1"))
    assert event.kind is EventKind.CAPTURED and event.off_session
    assert event.invoice_id == renewal.id and event.payment is not None
    assert event.payment.reference == charged.payment.reference and event.payment.saved_method == saved


def test_declined_off_session_charges(paypal: PayPalProvider, emulator: PayPalEmulator) -> None:
    invoice = make_invoice("9.90", recurring=True)
    order_id, _ = paid_order(paypal, emulator, invoice)
    saved = paypal.session_state(order_id).payment.saved_method  # type: ignore[union-attr]
    assert saved is not None
    events(emulator)

    emulator.decline_off_session(saved["customer"])
    retry = make_invoice("9.90", recurring=True)
    declined = paypal.charge_saved(retry, saved, f"{retry.id}:1")
    assert not declined.succeeded and declined.error_code == "INSTRUMENT_DECLINED"
    assert "declined by the processor or bank" in str(declined.error_message)
    failed = of_type(events(emulator), "PAYMENT.CAPTURE.DECLINED")
    event = paypal.translate(paypal.verify_webhook(failed.headers, failed.body, None))
    assert event.kind is EventKind.PAYMENT_FAILED and event.off_session and event.invoice_id == retry.id

    emulator.decline_off_session(saved["customer"], False)
    assert paypal.charge_saved(retry, saved, f"{retry.id}:1").error_code == "INSTRUMENT_DECLINED"  # replayed
    assert paypal.charge_saved(retry, saved, f"{retry.id}:2").succeeded

    emulator.decline_off_session()  # everyone
    other = make_invoice("9.90", recurring=True)
    assert not paypal.charge_saved(other, saved, f"{other.id}:1").succeeded
    emulator.decline_off_session(None, False)
    unknown = paypal.charge_saved(other, {"provider": "paypal", "reference": "nosuchvault"}, f"{other.id}:2")
    assert unknown.error_code == "INVALID_VAULT_ID"


# --- refunds ------------------------------------------------------------------------------------------------


def test_partial_and_full_refunds_in_minor_units(paypal: PayPalProvider, emulator: PayPalEmulator) -> None:
    invoice = make_invoice("30.00")
    _, capture_id = paid_order(paypal, emulator, invoice)
    invoice.payment_ref = capture_id
    first = paypal.refund(invoice, Decimal("10.01"), f"{invoice.id}:refund:1")
    assert emulator.refunds[first]["amount"] == {"currency_code": "EUR", "value": "10.01"}
    assert emulator.captures[capture_id]["status"] == "PARTIALLY_REFUNDED"
    assert paypal.refund(invoice, Decimal("10.01"), f"{invoice.id}:refund:1") == first  # same key: no second refund
    with pytest.raises(RefundKeyInUse):
        paypal.refund(invoice, Decimal("5.00"), f"{invoice.id}:refund:1")
    with pytest.raises(ProviderRefundFailed, match="must be less than or equal to the capture amount"):
        paypal.refund(invoice, Decimal("20.00"), f"{invoice.id}:refund:2")
    rest = paypal.refund(invoice, Decimal("19.99"), f"{invoice.id}:refund:3")
    assert emulator.captures[capture_id]["status"] == "REFUNDED"
    refunded = [json.loads(d.body) for d in events(emulator) if b"PAYMENT.CAPTURE.REFUNDED" in d.body]
    assert [e["resource"]["id"] for e in refunded] == [first, rest]
    totals = [e["resource"]["seller_payable_breakdown"]["total_refunded_amount"]["value"] for e in refunded]
    assert totals == ["10.01", "30.00"]
    with pytest.raises(ProviderRefundFailed, match="already been fully refunded"):
        paypal.refund(invoice, Decimal("1.00"), f"{invoice.id}:refund:4")


def test_an_orphaned_payment_is_refunded_by_its_own_capture_id(
    paypal: PayPalProvider, emulator: PayPalEmulator
) -> None:
    from chalicelib.payments.providers import refund_orphan

    invoice = make_invoice("6.00")
    _, first = paid_order(paypal, emulator, invoice)
    second = paypal.create_session(invoice, BUYER, URLS, f"{invoice.id}:2", manual_capture=False)
    approve(emulator, second.session_id)  # the same invoice paid a second time
    orphaned = paypal.session_state(second.session_id).payment
    assert orphaned is not None
    orphan = orphaned.reference
    invoice.payment_ref, invoice.payment_method = first, "paypal"
    refund_id = refund_orphan(orphaned, invoice, Decimal("6.00"), f"{invoice.id}:1:orphaned")
    assert emulator.refunds[str(refund_id)]["links"][1]["href"].endswith(f"/captures/{orphan}")
    assert (emulator.captures[orphan]["status"], emulator.captures[first]["status"]) == ("REFUNDED", "COMPLETED")


def test_a_jpy_refund(paypal: PayPalProvider, emulator: PayPalEmulator) -> None:
    invoice = make_invoice("1500", "JPY")
    _, capture_id = paid_order(paypal, emulator, invoice)
    invoice.payment_ref = capture_id
    refund_id = paypal.refund(invoice, Decimal("500"), f"{invoice.id}:refund:1")
    assert emulator.refunds[str(refund_id)]["amount"] == {"currency_code": "JPY", "value": "500"}


# --- authorization ------------------------------------------------------------------------------------------------


def authorized(paypal: PayPalProvider, emulator: PayPalEmulator, total: str = "40.00") -> InvoiceItem:
    invoice = make_invoice(total)
    order_id = open_session(paypal, invoice, manual=True)
    approve(emulator, order_id)
    state = paypal.session_state(order_id)
    assert state.status == "pending"
    invoice.payment_intent_id = state.authorized_intent
    return invoice


def test_authorize_then_capture(paypal: PayPalProvider, emulator: PayPalEmulator) -> None:
    invoice = authorized(paypal, emulator)
    payment = paypal.capture_authorized(invoice)
    assert payment.provider == "paypal" and emulator.captures[payment.reference]["amount"]["value"] == "40.00"
    assert emulator.authorizations[str(invoice.payment_intent_id)]["status"] == "CAPTURED"
    assert paypal.capture_authorized(invoice) == payment  # a retried capture: the same capture
    with pytest.raises(ProviderCaptureFailed, match="previously captured"):
        paypal.release(invoice)


def test_authorize_then_release(paypal: PayPalProvider, emulator: PayPalEmulator) -> None:
    invoice = authorized(paypal, emulator)
    paypal.release(invoice)
    assert emulator.authorizations[str(invoice.payment_intent_id)]["status"] == "VOIDED"
    paypal.release(invoice)  # twice: nothing more to let go of
    with pytest.raises(ProviderCaptureFailed, match="voided authorization cannot be captured"):
        paypal.capture_authorized(invoice)


# --- webhooks -------------------------------------------------------------------------------------------------


@pytest.fixture
def delivery(paypal: PayPalProvider, emulator: PayPalEmulator) -> Delivery:
    """A genuine `CHECKOUT.ORDER.APPROVED` delivery of the emulator."""
    order_id = open_session(paypal, make_invoice())
    approve(emulator, order_id)
    return of_type(events(emulator), "CHECKOUT.ORDER.APPROVED")


def test_a_genuine_webhook_verifies(paypal: PayPalProvider, delivery: Delivery) -> None:
    payload = paypal.verify_webhook(delivery.headers, delivery.body, "127.0.0.1")
    assert payload == json.loads(delivery.body)
    assert delivery.headers["paypal-auth-algo"] == "SHA256withRSA"
    cert = requests.get(delivery.headers["paypal-cert-url"], timeout=5)
    assert cert.status_code == 200 and cert.text.startswith("-----BEGIN CERTIFICATE-----")


@pytest.mark.parametrize(
    "change",
    [
        "forged signature",
        "tampered body",
        "other transmission time",
        "other transmission id",
        "foreign certificate",
        "missing signature",
    ],
)
def test_a_webhook_that_does_not_verify_is_refused(paypal: PayPalProvider, delivery: Delivery, change: str) -> None:
    headers, body = dict(delivery.headers), delivery.body
    if change == "forged signature":
        headers["paypal-transmission-sig"] = headers["paypal-transmission-sig"][:-8] + "AAAAAAA="
    elif change == "tampered body":
        body = body.replace(b'"value":"19.99"', b'"value":"0.01"')
        assert body != delivery.body
    elif change == "other transmission time":
        headers["paypal-transmission-time"] = "2020-01-01T00:00:00Z"
    elif change == "other transmission id":
        headers["paypal-transmission-id"] = str(uuid.uuid4())
    elif change == "foreign certificate":
        headers["paypal-cert-url"] = "https://attacker.example/cert.pem"
    else:
        del headers["paypal-transmission-sig"]
    with pytest.raises(InvalidWebhook) as refused:
        paypal.verify_webhook(headers, body, "127.0.0.1")
    assert refused.value.message == "Invalid signature"


def test_a_webhook_checked_with_another_webhook_id_is_refused(
    delivery: Delivery, emulator: PayPalEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(monkeypatch, emulator.base_url, PAYPAL_WEBHOOK_ID="WH-SOMEONE-ELSE")
    with pytest.raises(InvalidWebhook):
        PayPalProvider().verify_webhook(delivery.headers, delivery.body, None)


def test_a_body_that_is_not_json_is_refused(paypal: PayPalProvider, delivery: Delivery) -> None:
    with pytest.raises(InvalidWebhook):
        paypal.verify_webhook(delivery.headers, b"not json", None)


# --- translate: every event of §10.5 ----------------------------------------------------------------------------


def test_translate_checkout_order_approved_captures_the_order(paypal: PayPalProvider, emulator: PayPalEmulator) -> None:
    invoice = make_invoice("12.34", recurring=True)
    order_id = open_session(paypal, invoice)
    approve(emulator, order_id)
    approved = of_type(events(emulator), "CHECKOUT.ORDER.APPROVED")
    event = paypal.translate(paypal.verify_webhook(approved.headers, approved.body, None))
    assert event.kind is EventKind.CAPTURED and event.event_type == "CHECKOUT.ORDER.APPROVED"
    assert event.event_id == json.loads(approved.body)["id"]
    assert (event.invoice_id, event.amount, event.currency, event.session_id) == (
        invoice.id,
        Decimal("12.34"),
        "EUR",
        order_id,
    )
    assert event.payment is not None and event.payment.reference in emulator.captures
    assert event.payment.saved_method is not None and event.payment.saved_method["reference"] in emulator.vaults
    assert paypal.translate(json.loads(approved.body)).payment == event.payment  # a redelivery: the same capture
    assert paypal.session_state(order_id).payment == event.payment  # and the poll agrees

    completed = of_type(events(emulator), "PAYMENT.CAPTURE.COMPLETED")
    captured = paypal.translate(paypal.verify_webhook(completed.headers, completed.body, None))
    assert captured.kind is EventKind.CAPTURED and not captured.off_session
    assert captured.payment == event.payment and captured.amount == Decimal("12.34")


def test_translate_order_approved_with_intent_authorize(paypal: PayPalProvider, emulator: PayPalEmulator) -> None:
    invoice = make_invoice("25.00")
    order_id = open_session(paypal, invoice, manual=True)
    approve(emulator, order_id)
    approved = of_type(events(emulator), "CHECKOUT.ORDER.APPROVED")
    event = paypal.translate(json.loads(approved.body))
    assert event.kind is EventKind.AUTHORIZED and event.intent_id in emulator.authorizations
    assert event.invoice_id == invoice.id and event.amount == Decimal("25.00")

    created = of_type(events(emulator), "PAYMENT.AUTHORIZATION.CREATED")
    held = paypal.translate(paypal.verify_webhook(created.headers, created.body, None))
    assert (held.kind, held.intent_id, held.invoice_id) == (EventKind.AUTHORIZED, event.intent_id, invoice.id)
    assert held.session_id == order_id

    emulator.dashboard_void(str(event.intent_id))
    voided = of_type(events(emulator), "PAYMENT.AUTHORIZATION.VOIDED")
    released = paypal.translate(paypal.verify_webhook(voided.headers, voided.body, None))
    assert (released.kind, released.intent_id, released.invoice_id) == (
        EventKind.RELEASED,
        event.intent_id,
        invoice.id,
    )


def test_translate_a_capture_denied_or_declined(paypal: PayPalProvider) -> None:
    for event_type in ("PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED"):
        payload = {
            "id": "WH-1",
            "event_type": event_type,
            "resource": {
                "id": "CAP1",
                "status": event_type.rsplit(".", 1)[-1],
                "custom_id": "inv-1",
                "invoice_id": "INV-2026-000001",
                "amount": {"currency_code": "EUR", "value": "5.00"},
                "supplementary_data": {"related_ids": {"order_id": "ORDER1"}},
            },
        }
        event = paypal.translate(payload)
        assert event.kind is EventKind.PAYMENT_FAILED and not event.off_session
        assert (event.invoice_id, event.amount, event.session_id) == ("inv-1", Decimal("5.00"), "ORDER1")
        assert event.error_code == event_type.rsplit(".", 1)[-1]


def test_translate_a_dashboard_refund(paypal: PayPalProvider, emulator: PayPalEmulator) -> None:
    invoice = make_invoice("20.00")
    _, capture_id = paid_order(paypal, emulator, invoice)
    events(emulator)
    emulator.dashboard_refund(capture_id, Decimal("7.50"))
    emulator.dashboard_refund(capture_id, Decimal("2.50"))
    refunds = [d for d in events(emulator) if b"PAYMENT.CAPTURE.REFUNDED" in d.body]
    first, second = (paypal.translate(paypal.verify_webhook(d.headers, d.body, None)) for d in refunds)
    assert first.kind is EventKind.REFUNDED and first.invoice_id == invoice.id
    assert (first.amount, first.refunded_total, second.refunded_total) == (
        Decimal("7.50"),
        Decimal("7.50"),
        Decimal("10.00"),
    )
    assert first.refund_id in emulator.refunds and first.details == {"capture_id": capture_id}
    anonymous = json.loads(refunds[0].body)
    del anonymous["resource"]["custom_id"]  # a refund that names no invoice: the capture says which
    assert paypal.translate(anonymous).invoice_id == invoice.id


def test_translate_ignores_other_events(paypal: PayPalProvider) -> None:
    for event_type in ("CHECKOUT.ORDER.COMPLETED", "PAYMENT.CAPTURE.PENDING", "VAULT.PAYMENT-TOKEN.CREATED", ""):
        event = paypal.translate({"id": "WH-2", "event_type": event_type, "resource": {"id": "X"}})
        assert event.kind is EventKind.IGNORED and event.event_id == "WH-2"


# --- outages ------------------------------------------------------------------------------------------------------


def test_an_api_outage_is_a_provider_error_without_secrets(paypal: PayPalProvider, emulator: PayPalEmulator) -> None:
    emulator.fail_next(503)
    with pytest.raises(ProviderError) as failed:
        paypal.create_session(make_invoice(), BUYER, URLS, f"{uuid.uuid4()}:1", manual_capture=False)
    assert "503" in str(failed.value) and SECRET not in str(failed.value) and CLIENT_ID not in str(failed.value)


def test_an_unreachable_paypal_is_a_provider_error_without_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    gone = PayPalEmulator(CLIENT_ID, SECRET, WEBHOOK_ID)
    base_url = gone.start()
    gone.stop()
    _configure(monkeypatch, base_url)
    try:
        with pytest.raises(ProviderError) as failed:
            PayPalProvider().session_state("ANYORDER")
        assert "unreachable" in str(failed.value) and SECRET not in str(failed.value)
    finally:
        monkeypatch.undo()
        reload_settings()
        forget_cached_states()


def test_a_wrong_client_secret_is_refused_without_showing_it(
    emulator: PayPalEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "wrong-secret-Xy77"
    _configure(monkeypatch, emulator.base_url, PAYPAL_CLIENT_SECRET=wrong)
    try:
        with pytest.raises(ProviderError) as failed:
            PayPalProvider().session_state("ANYORDER")
        assert str(failed.value) == "PayPal authentication failed: Client Authentication failed"
        assert wrong not in str(failed.value) and SECRET not in str(failed.value)
    finally:
        monkeypatch.undo()
        reload_settings()
        forget_cached_states()


def test_emulator_control_api(paypal: PayPalProvider, emulator: PayPalEmulator) -> None:
    base = emulator.base_url
    invoice = make_invoice("8.00")
    _, capture_id = paid_order(paypal, emulator, invoice)
    refund = requests.post(f"{base}/_emulator/captures/{capture_id}/refund", json={"amount": "3.00"}, timeout=5)
    assert refund.status_code == 200 and refund.json()["amount"]["value"] == "3.00"
    too_much = requests.post(f"{base}/_emulator/captures/{capture_id}/refund", json={"amount": "9.00"}, timeout=5)
    assert too_much.status_code == 422 and too_much.json()["details"][0]["issue"] == "REFUND_AMOUNT_EXCEEDED"
    pending = requests.get(f"{base}/_emulator/webhooks", timeout=5).json()["pending"]
    assert "PAYMENT.CAPTURE.REFUNDED" in [e["event_type"] for e in pending]
    assert requests.post(f"{base}/_emulator/flush", timeout=5).json()["pending"] == 0
    declined = requests.post(f"{base}/_emulator/decline", json={"customer": "cust-1"}, timeout=5).json()
    assert declined == {"decline_all": False, "declined": ["cust-1"]}
    requests.post(f"{base}/_emulator/decline", json={"customer": "cust-1", "decline": False}, timeout=5)
    order_id = open_session(paypal, make_invoice())
    assert requests.post(f"{base}/_emulator/orders/{order_id}/expire", timeout=5).json()["status"] == "VOIDED"
    requests.post(f"{base}/_emulator/fail-next", json={"status": 500}, timeout=5)
    assert requests.get(f"{base}/v2/checkout/orders/{order_id}", timeout=5).status_code == 500
    unauthorized = requests.get(f"{base}/v2/checkout/orders/{order_id}", timeout=5)
    assert unauthorized.status_code == 401 and unauthorized.json()["error"] == "invalid_token"


def test_verification_covers_the_raw_bytes_not_a_re_serialization(
    paypal: PayPalProvider, emulator: PayPalEmulator, delivery: Delivery
) -> None:
    pretty = json.dumps(json.loads(delivery.body), indent=2).encode()  # a sender's own layout, signed as sent
    headers = {k.lower(): v for k, v in emulator.sign_delivery(pretty).items()}
    assert paypal.verify_webhook(headers, pretty, None) == json.loads(delivery.body)
    compact = json.dumps(json.loads(pretty), separators=(",", ":")).encode()
    with pytest.raises(InvalidWebhook):
        paypal.verify_webhook(headers, compact, None)  # the same event, other bytes: not what was signed


def test_a_token_paypal_no_longer_honours_is_replaced(paypal: PayPalProvider, emulator: PayPalEmulator) -> None:
    order_id = open_session(paypal, make_invoice())
    emulator.tokens.clear()  # revoked, or the emulator restarted under `make run`
    assert paypal.session_state(order_id).status == "unpaid"
    assert len(emulator.tokens) == 1


def test_a_gateway_page_instead_of_json_is_still_a_provider_error(
    paypal: PayPalProvider, emulator: PayPalEmulator
) -> None:
    order_id = open_session(paypal, make_invoice())
    emulator.fail_next(502, html=True)
    with pytest.raises(ProviderError, match=r"\(502\)") as failed:
        paypal.session_state(order_id)
    assert SECRET not in str(failed.value)
