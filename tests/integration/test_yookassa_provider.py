"""The YooKassa provider through the official SDK against the local emulator (checkout-and-payments.md §10.6).

Hosted page paid and declined, session states, autopayments of the saved card (declined, idempotent), partial and
full refunds in exact amounts (JPY too), authorization → capture / release, the trusted-source check of unsigned
notifications, every notification row decided by the re-fetched object, outages without secrets.
"""

from __future__ import annotations

import json
import re
import socket
import uuid
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
    ProviderNotConfigured,
    ReturnUrls,
)
from chalicelib.payments.outcomes import ProviderCaptureFailed, ProviderRefundFailed, RefundKeyInUse
from chalicelib.payments.yookassa.provider import YookassaProvider
from infra.emulators.yookassa import YookassaEmulator

SHOP_ID = "665544"
SECRET = "test_Yk-very-secret-key-0042"
URLS = ReturnUrls("http://localhost:5173/pay/yookassa/success?session_id={SESSION_ID}", "http://localhost:5173/pay/c")
LOCAL = "127.0.0.1"


@pytest.fixture(scope="module")
def emulator(stack: dict[str, object]) -> Iterator[YookassaEmulator]:
    emu = YookassaEmulator(SHOP_ID, SECRET)
    emu.start()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("YOOKASSA_SHOP_ID", SHOP_ID)
        patch.setenv("YOOKASSA_SECRET_KEY", SECRET)
        patch.setenv("YOOKASSA_API_BASE", emu.api_url)
        patch.setenv("YOOKASSA_ALLOWED_IPS", "127.0.0.1,::1,185.71.76.0/27")
        reload_settings()
        yield emu
    reload_settings()
    emu.stop()


class Inbox:
    """Where the emulator's notifications go in these tests: collected, then read by `notifications()`."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def take(self, headers: dict[str, str], body: bytes) -> int:
        assert headers["Content-Type"] == "application/json"  # unsigned: YooKassa sends no signature header
        self.bodies.append(json.loads(body))
        return 200


inbox = Inbox()


@pytest.fixture
def emu(emulator: YookassaEmulator) -> Iterator[YookassaEmulator]:
    """The module's emulator with an empty inbox and its decline knobs reset."""
    emulator.accept_off_session()
    emulator.deliver = inbox.take
    emulator.flush()
    inbox.bodies.clear()
    yield emulator
    emulator.accept_off_session()


def notifications(emu: YookassaEmulator) -> list[dict[str, Any]]:
    emu.flush()
    sent = list(inbox.bodies)
    inbox.bodies.clear()
    return sent


provider = YookassaProvider()


def invoice(total: str = "10.50", currency: str = "RUB", *, recurring: bool = True) -> InvoiceItem:
    now = datetime.now(UTC)
    amount = Decimal(total)
    line = LineItem(  # type: ignore[no-untyped-call]
        id=str(uuid.uuid4()),
        item_type="SUBSCRIPTION" if recurring else "TOKEN_BUNDLE",
        description="Pro plan",
        unit_price=amount,
        total_price=amount,
        net_amount=amount,
        tax_amount=Decimal("0"),
        gross_amount=amount,
        metadata={"billing_period": "MONTHLY"} if recurring else {},
    )
    return InvoiceItem(
        id=str(uuid.uuid4()),
        user_id=str(uuid.uuid4()),
        invoice_number=f"INV-2026-{uuid.uuid4().int % 1000000:06d}",
        billing_reason="SUBSCRIPTION_CREATE",
        status="PENDING",
        currency=currency,
        subtotal=amount,
        tax_amount=Decimal("0"),
        total_amount=amount,
        amount_refunded=Decimal("0"),
        line_items=[line],
        invoiced_at=now,
        created_at=now,
        updated_at=now,
    )


def open_session(item: InvoiceItem, *, manual: bool = False) -> str:
    session = provider.create_session(
        item, Buyer(item.user_id, "buyer@example.com"), URLS, f"{item.id}:1", manual_capture=manual
    )
    assert session.customer_id is None
    return session.session_id


def page_submit(emu: YookassaEmulator, session_id: str, button: str) -> str:
    """Open the hosted page, POST its form `button` ('pay' or 'decline'); the Location of the 303 answer."""
    url = emu.payments[session_id]["confirmation"]["confirmation_url"]
    page = requests.get(url, timeout=5)
    assert page.status_code == 200 and emu.payments[session_id]["amount"]["value"] in page.text
    action = re.search(rf"action='([^']+/{button})'", page.text)
    assert action is not None
    answer = requests.post(
        emu.base_url + action.group(1), data={"orderId": session_id}, allow_redirects=False, timeout=5
    )
    assert answer.status_code == 303
    return str(answer.headers["Location"])


def paid(item: InvoiceItem, emu: YookassaEmulator, *, manual: bool = False) -> str:
    session_id = open_session(item, manual=manual)
    emu.pay(session_id)
    return session_id


def paid_invoice(item: InvoiceItem, emu: YookassaEmulator) -> InvoiceItem:
    session_id = paid(item, emu)
    item.payment_ref = item.payment_intent_id = session_id
    item.status = "PAID"
    return item


# --- hosted page and session status -------------------------------------------------------------------------------


def test_hosted_page_pay_captures_and_saves_the_card(emu: YookassaEmulator) -> None:
    item = invoice()
    session = provider.create_session(
        item, Buyer(item.user_id, "b@example.com"), URLS, f"{item.id}:1", manual_capture=False
    )
    assert session.session_url and session.session_url.startswith(emu.base_url)
    sent = emu.payments[session.session_id]
    assert sent["amount"] == {"value": "10.50", "currency": "RUB"} and sent["capture"] is True
    assert sent["save_payment_method"] is True and sent["metadata"]["invoice_id"] == item.id

    assert provider.session_state(session.session_id).status == "unpaid"
    location = page_submit(emu, session.session_id, "pay")
    assert location == f"http://localhost:5173/pay/yookassa/success?session_id={session.session_id}"

    state = provider.session_state(session.session_id)
    assert (state.status, state.amount_minor, state.currency, state.invoice_id) == ("paid", 1050, "RUB", item.id)
    assert state.payment is not None and state.payment.reference == session.session_id
    assert state.payment.saved_method == {
        "provider": "yookassa",
        "reference": session.session_id,
        "customer": None,
        "label": "MasterCard •••• 4444",
    }
    [note] = notifications(emu)
    assert note["event"] == "payment.succeeded" and note["object"]["id"] == session.session_id
    again = requests.post(
        f"{emu.base_url}/checkout/payments/v2/contract/pay", data={"orderId": session.session_id}, timeout=5
    )
    assert again.status_code == 400 and notifications(emu) == []  # a second press pays nothing


def test_hosted_page_decline_cancels_and_returns_the_buyer(emu: YookassaEmulator) -> None:
    item = invoice(recurring=False)
    session_id = open_session(item)
    assert emu.payments[session_id]["save_payment_method"] is False
    location = page_submit(emu, session_id, "decline")
    assert session_id in location  # YooKassa has one return URL: the session status tells the outcome
    state = provider.session_state(session_id)
    assert state.status == "expired" and state.payment is None
    [note] = notifications(emu)
    event = provider.translate(provider.verify_webhook({}, json.dumps(note).encode(), LOCAL))
    assert event.kind is EventKind.PAYMENT_FAILED and event.error_code == "insufficient_funds"
    assert event.invoice_id == item.id and not event.off_session


def test_session_states_of_every_status(emu: YookassaEmulator) -> None:
    held = invoice("1000", "JPY")
    session_id = paid(held, emu, manual=True)
    state = provider.session_state(session_id)
    assert (state.status, state.amount_minor, state.currency) == ("pending", 1000, "JPY")
    assert state.authorized_intent == session_id and state.payment is None
    emu.expire(session_id)
    assert provider.session_state(session_id).status == "expired"
    assert provider.session_state(open_session(invoice("0.01"))).amount_minor == 1


def test_manual_capture_session_and_expire_session(emu: YookassaEmulator) -> None:
    item = invoice()
    session = provider.create_session(
        item, Buyer(item.user_id, "b@example.com"), URLS, f"{item.id}:1", manual_capture=True
    )
    assert session.capture_method == "manual" and session.payment_intent_id == session.session_id
    provider.expire_session(session.session_id)  # still waiting for the payer: YooKassa lets it lapse by itself
    assert emu.payments[session.session_id]["status"] == "pending"
    emu.pay(session.session_id)
    provider.expire_session(session.session_id)
    assert emu.payments[session.session_id]["cancellation_details"]["reason"] == "canceled_by_merchant"


def test_create_session_idempotence_key_answers_the_same_payment(emu: YookassaEmulator) -> None:
    item = invoice()
    first, again = open_session(item), open_session(item)
    assert first == again
    item.total_amount = Decimal("11.00")
    with pytest.raises(ProviderError, match="Idempotence key duplicated"):
        open_session(item)


# --- off-session charges ------------------------------------------------------------------------------------------


def saved_card(emu: YookassaEmulator) -> dict[str, Any]:
    state = provider.session_state(paid(invoice(), emu))
    assert state.payment is not None and state.payment.saved_method is not None
    return state.payment.saved_method


def test_charge_saved_succeeds_once_per_key(emu: YookassaEmulator) -> None:
    card = saved_card(emu)
    renewal = invoice("10.50")
    count = len(emu.payments)
    charge = provider.charge_saved(renewal, card, f"{renewal.id}:1")
    assert charge.succeeded and charge.payment is not None and charge.payment.saved_method == card
    again = provider.charge_saved(renewal, card, f"{renewal.id}:1")
    assert again.payment == charge.payment and len(emu.payments) == count + 1
    sent = emu.payments[charge.payment.reference]
    assert sent["payment_method"]["id"] == card["reference"] and sent["metadata"]["off_session"] == "true"
    events = [
        provider.translate(provider.verify_webhook({}, json.dumps(n).encode(), LOCAL)) for n in notifications(emu)
    ]
    assert events[-1].kind is EventKind.CAPTURED and events[-1].off_session and events[-1].invoice_id == renewal.id


def test_charge_saved_declined_per_method_and_globally(emu: YookassaEmulator) -> None:
    card = saved_card(emu)
    emu.decline_off_session(card["reference"], "card_expired")
    renewal = invoice()
    charge = provider.charge_saved(renewal, card, f"{renewal.id}:1")
    assert not charge.succeeded and charge.error_code == "card_expired"
    assert "card_expired" in str(charge.error_message)
    other = saved_card(emu)
    assert provider.charge_saved(invoice(), other, f"{uuid.uuid4()}:1").succeeded
    emu.decline_off_session()
    assert provider.charge_saved(invoice(), other, f"{uuid.uuid4()}:1").error_code == "insufficient_funds"
    notes = notifications(emu)
    failed = provider.translate(provider.verify_webhook({}, json.dumps(notes[-1]).encode(), LOCAL))
    assert failed.kind is EventKind.PAYMENT_FAILED and failed.off_session and failed.error_code == "insufficient_funds"


# --- refunds ------------------------------------------------------------------------------------------------------


def test_partial_then_full_refund(emu: YookassaEmulator) -> None:
    item = paid_invoice(invoice("10.50"), emu)
    first = provider.refund(item, Decimal("3.25"), f"{item.id}:refund:1")
    assert emu.refunds[str(first)]["amount"] == {"value": "3.25", "currency": "RUB"}
    assert provider.refund(item, Decimal("3.25"), f"{item.id}:refund:1") == first  # a repeat: no second refund
    with pytest.raises(RefundKeyInUse):
        provider.refund(item, Decimal("1.00"), f"{item.id}:refund:1")
    with pytest.raises(ProviderRefundFailed, match="exceeds the amount available"):
        provider.refund(item, Decimal("7.26"), f"{item.id}:refund:2")
    provider.refund(item, Decimal("7.25"), f"{item.id}:refund:2")
    assert emu.payments[str(item.payment_ref)]["refunded_amount"] == {"value": "10.50", "currency": "RUB"}


def test_jpy_refund_in_whole_yen(emu: YookassaEmulator) -> None:
    item = paid_invoice(invoice("1000", "JPY"), emu)
    provider.refund(item, Decimal("300"), f"{item.id}:refund:1")
    notes = [n for n in notifications(emu) if n["event"] == "refund.succeeded"]
    event = provider.translate(provider.verify_webhook({}, json.dumps(notes[-1]).encode(), LOCAL))
    assert event.kind is EventKind.REFUNDED and event.refunded_total == Decimal("300") and event.currency == "JPY"
    assert event.amount == Decimal("300") and event.invoice_id == item.id


def test_refund_of_an_unpaid_payment_is_refused(emu: YookassaEmulator) -> None:
    item = invoice()
    item.payment_ref = open_session(item)
    with pytest.raises(ProviderRefundFailed, match="Incorrect payment status: pending"):
        provider.refund(item, Decimal("1.00"), f"{item.id}:refund:1")


# --- authorization, capture, release ------------------------------------------------------------------------------


def test_authorize_then_capture(emu: YookassaEmulator) -> None:
    item = invoice()
    item.payment_intent_id = paid(item, emu, manual=True)
    assert emu.payments[item.payment_intent_id]["status"] == "waiting_for_capture"
    payment = provider.capture_authorized(item)
    assert payment.reference == item.payment_intent_id and payment.saved_method is not None
    assert provider.capture_authorized(item) == payment  # the same key: a repeat, not a second capture
    with pytest.raises(ProviderCaptureFailed, match="Incorrect payment status: succeeded"):
        provider.release(item)


def test_authorize_then_release(emu: YookassaEmulator) -> None:
    item = invoice()
    held = item.payment_intent_id = paid(item, emu, manual=True)
    provider.release(item)
    assert emu.payments[held]["status"] == "canceled"
    with pytest.raises(ProviderCaptureFailed, match="Incorrect payment status: canceled"):
        provider.capture_authorized(item)


# --- notifications ------------------------------------------------------------------------------------------------


def test_notification_source_must_be_trusted(emu: YookassaEmulator) -> None:
    body = emu.notification("payment.succeeded", paid(invoice(), emu))
    for source in ("127.0.0.1", "::1", "::ffff:127.0.0.1", "185.71.76.31"):
        assert provider.verify_webhook({}, body, source)["event"] == "payment.succeeded"
    for untrusted in ("8.8.8.8", "185.71.76.32", "::ffff:8.8.8.8", "2a02:5180::1", None, "", "not-an-ip"):
        with pytest.raises(InvalidWebhook) as refused:
            provider.verify_webhook({}, body, untrusted)
        assert refused.value.message == "Untrusted notification source"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"type": "notification", "event": "payment.succeeded"}',
        b'{"type": "notification", "event": "payment.succeeded", "object": {"id": ""}}',
        b'{"type": "other", "event": "payment.succeeded", "object": {"id": "x"}}',
        b'{"type": "notification", "event": 5, "object": {"id": "x"}}',
    ],
)
def test_a_body_that_is_not_a_notification_is_refused(emulator: YookassaEmulator, body: bytes) -> None:
    with pytest.raises(InvalidWebhook) as refused:
        provider.verify_webhook({}, body, LOCAL)
    assert refused.value.message == "Invalid notification"


def test_a_notification_that_lies_is_decided_by_the_refetched_payment(emu: YookassaEmulator) -> None:
    item = invoice()
    session_id = open_session(item)  # pending: nobody paid
    lie = emu.notification("payment.succeeded", session_id, status="succeeded", paid=True)
    event = provider.translate(provider.verify_webhook({}, lie, LOCAL))
    assert event.kind is EventKind.IGNORED and event.payment is None
    assert event.event_id == f"payment.succeeded:{session_id}"

    emu.pay(session_id)
    tampered = emu.notification("payment.succeeded", session_id, metadata={"invoice_id": "someone-else"})
    tampered = tampered.replace(b'"10.50"', b'"0.01"')
    event = provider.translate(provider.verify_webhook({}, tampered, LOCAL))
    assert event.kind is EventKind.CAPTURED and event.invoice_id == item.id and event.amount == Decimal("10.50")

    unknown = emu.notification("payment.succeeded", "2f000000-000f-5000-8000-000000000000", status="succeeded")
    assert provider.translate(provider.verify_webhook({}, unknown, LOCAL)).kind is EventKind.IGNORED


def translated(emu: YookassaEmulator) -> list[Any]:
    return [provider.translate(provider.verify_webhook({}, json.dumps(n).encode(), LOCAL)) for n in notifications(emu)]


def test_translate_every_event_row(emu: YookassaEmulator) -> None:
    captured = invoice()
    captured_id = paid(captured, emu)
    [event] = translated(emu)
    assert (event.kind, event.event_id, event.event_type) == (
        EventKind.CAPTURED,
        f"payment.succeeded:{captured_id}",
        "payment.succeeded",
    )
    assert event.payment is not None and event.payment.transaction_id == captured_id
    assert (event.amount, event.currency, event.invoice_id, event.session_id) == (
        Decimal("10.50"),
        "RUB",
        captured.id,
        captured_id,
    )

    held = invoice("1000", "JPY")
    held_id = paid(held, emu, manual=True)
    [event] = translated(emu)
    assert (event.kind, event.intent_id, event.amount, event.invoice_id) == (
        EventKind.AUTHORIZED,
        held_id,
        Decimal("1000"),
        held.id,
    )
    held.payment_intent_id = held_id
    provider.release(held)
    [event] = translated(emu)
    assert (event.kind, event.intent_id, event.error_code) == (EventKind.RELEASED, held_id, "canceled_by_merchant")

    lapsed = paid(invoice(), emu, manual=True)
    emu.expire(lapsed)
    # Both notifications are decided by the payment as it is now: the hold already lapsed.
    assert [(e.event_type, e.kind) for e in translated(emu)] == [
        ("payment.waiting_for_capture", EventKind.RELEASED),
        ("payment.canceled", EventKind.RELEASED),
    ]

    emu.decline(open_session(invoice()), "fraud_suspected")
    [event] = translated(emu)
    assert (event.kind, event.error_code, event.off_session) == (EventKind.PAYMENT_FAILED, "fraud_suspected", False)

    emu.dashboard_refund(captured_id, "4.50")
    [event] = translated(emu)
    assert (event.kind, event.refunded_total, event.amount, event.invoice_id) == (
        EventKind.REFUNDED,
        Decimal("4.50"),
        Decimal("4.50"),
        captured.id,
    )
    refund_id = event.refund_id
    assert event.event_id == f"refund.succeeded:{refund_id}"
    emu.dashboard_refund(captured_id)
    [event] = translated(emu)
    assert event.refunded_total == Decimal("10.50") and event.amount == Decimal("6.00")

    for other in ("payment_method.active", "payout.succeeded", "deal.closed", "refund.canceled"):
        body = json.dumps({"type": "notification", "event": other, "object": {"id": captured_id}}).encode()
        assert provider.translate(provider.verify_webhook({}, body, LOCAL)).kind is EventKind.IGNORED


# --- outages and configuration ------------------------------------------------------------------------------------


def test_an_outage_is_a_provider_error_without_the_secret(
    emu: YookassaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    session_id = open_session(invoice())
    emu.fail_next()
    with pytest.raises(ProviderError) as failed:
        provider.session_state(session_id)
    assert str(failed.value) == "Internal server error" and SECRET not in str(failed.value)
    item = paid_invoice(invoice(), emu)
    emu.fail_next(3)
    with pytest.raises(ProviderError) as refund_failed:  # an outage, not a refusal: the refund may be retried
        provider.refund(item, Decimal("1.00"), f"{item.id}:refund:1")
    assert not isinstance(refund_failed.value, ProviderRefundFailed)
    with pytest.raises(ProviderError):
        provider.capture_authorized(item)
    with pytest.raises(ProviderError):  # the re-fetch fails: the queued event is retried later
        provider.translate(json.loads(emu.notification("payment.succeeded", session_id)))

    with socket.socket() as sock:
        sock.bind((LOCAL, 0))
        closed = sock.getsockname()[1]
    monkeypatch.setenv("YOOKASSA_API_BASE", f"http://{LOCAL}:{closed}/v3")
    reload_settings()
    try:
        with pytest.raises(ProviderError) as unreachable:
            provider.session_state(session_id)
        assert "YooKassa API unreachable" in str(unreachable.value) and SECRET not in str(unreachable.value)
    finally:
        monkeypatch.setenv("YOOKASSA_API_BASE", emu.api_url)
        reload_settings()


def test_a_wrong_secret_is_refused_as_yookassa_refuses(emu: YookassaEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YOOKASSA_SECRET_KEY", "test_wrong-secret")
    reload_settings()
    try:
        with pytest.raises(ProviderError, match="Error in shopId or secret key") as refused:
            open_session(invoice())
        assert "test_wrong-secret" not in str(refused.value)
        item = invoice()
        item.payment_ref = "2f000000-000f-5000-8000-000000000000"
        with pytest.raises(ProviderError) as refund_refused:  # the keys are wrong: not the refund
            provider.refund(item, Decimal("1.00"), f"{item.id}:refund:1")
        assert not isinstance(refund_refused.value, ProviderRefundFailed)
    finally:
        monkeypatch.setenv("YOOKASSA_SECRET_KEY", SECRET)
        reload_settings()


def test_missing_keys_are_not_configured(emu: YookassaEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YOOKASSA_SHOP_ID")
    reload_settings()
    try:
        with pytest.raises(ProviderNotConfigured):
            open_session(invoice())
    finally:
        monkeypatch.setenv("YOOKASSA_SHOP_ID", SHOP_ID)
        reload_settings()


# --- the emulator's own wire rules and control API ----------------------------------------------------------------


def test_emulator_wire_rules(emu: YookassaEmulator) -> None:
    good = (SHOP_ID, SECRET)
    body = {
        "amount": {"value": "1.00", "currency": "RUB"},
        "confirmation": {"type": "redirect", "return_url": "http://x"},
    }
    answer = requests.post(
        f"{emu.api_url}/payments", json=body, auth=(SHOP_ID, "nope"), headers={"Idempotence-Key": "a"}, timeout=5
    )
    assert answer.status_code == 401
    assert answer.json()["type"] == "error" and answer.json()["code"] == "invalid_credentials" and answer.json()["id"]
    answer = requests.post(f"{emu.api_url}/payments", json=body, auth=good, timeout=5)
    assert answer.status_code == 400 and answer.json()["parameter"] == "Idempotence-Key"
    answer = requests.get(f"{emu.api_url}/payments/nope", auth=good, timeout=5)
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    bad = {**body, "amount": {"value": "1.001", "currency": "RUB"}}
    answer = requests.post(f"{emu.api_url}/payments", json=bad, auth=good, headers={"Idempotence-Key": "b"}, timeout=5)
    assert answer.status_code == 400 and answer.json()["parameter"] == "amount.value"


def test_emulator_control_api(emu: YookassaEmulator) -> None:
    session_id = open_session(invoice())
    control = f"{emu.base_url}/_emulator"
    assert requests.post(f"{control}/pay", json={"payment_id": session_id}, timeout=5).json()["status"] == "succeeded"
    refund = requests.post(f"{control}/refund", json={"payment_id": session_id, "amount": "1.50"}, timeout=5).json()
    assert refund["amount"] == {"value": "1.50", "currency": "RUB"}
    other = open_session(invoice())
    assert requests.post(f"{control}/expire", json={"payment_id": other}, timeout=5).json()["status"] == "canceled"
    declining = requests.post(f"{control}/decline-off-session", json={"reason": "card_expired"}, timeout=5).json()
    assert declining["declining"] == "card_expired"
    requests.post(f"{control}/decline-off-session", json={"enabled": False}, timeout=5)
    assert requests.post(f"{control}/fail-next", json={"count": 1}, timeout=5).json() == {"failing": 1}
    with pytest.raises(ProviderError):
        provider.session_state(session_id)
    assert requests.post(f"{control}/flush", timeout=5).json()["pending"] == 0
    assert requests.post(f"{control}/nothing", timeout=5).status_code == 404
