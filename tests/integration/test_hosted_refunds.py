"""Money given back and held through the hosted providers (checkout-and-payments.md §6.3, §7, §10.4–§10.6): an
admin's refund goes through the provider and its notification changes nothing more; a refund made at the provider
is recorded once as the delta; Stripe's cancelled refund is reversed; a dispute is reported; a manual-capture
session authorizes the invoice, which the admin then captures or releases.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from chalicelib.invoices.models import CreditNoteItem, InvoiceItem
from chalicelib.store.transactions import Transaction
from infra.emulators.providers import Emulated
from tests.integration.buyers import Buyer, basket, checkout, pay, register_buyer
from tests.integration.conftest import ADMIN, Api, drain_events, outbox_events, sent_mail
from tests.integration.hosted import HOSTED, deliver_webhooks, press

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def stored(invoice_id: str) -> InvoiceItem:
    return InvoiceItem.get(*InvoiceItem.key(invoice_id), consistent_read=True)


def credit_notes(invoice_id: str) -> list[CreditNoteItem]:
    found = CreditNoteItem.query(f"INVOICE#{invoice_id}", consistent_read=True)
    return [n for n in found if isinstance(n, CreditNoteItem)]


def paid_through(api: Api, providers: dict[str, Emulated], code: str, tag: str) -> tuple[Buyer, InvoiceItem]:
    buyer = register_buyer(api, f"{code}-{tag}", country="DE")
    order = checkout(api, buyer.token, basket("basic", method=code))
    invoice_id = order["invoice"]["id"]
    press(pay(api, buyer.token, invoice_id, {"payment_method_code": code}).json["payment"]["session_url"], "pay")
    deliver_webhooks(providers)
    invoice = stored(invoice_id)
    assert invoice.status == "PAID" and invoice.payment_intent_id
    return buyer, invoice


def dashboard_refund(emulated: Emulated, invoice: InvoiceItem, amount: str) -> None:
    emulator: Any = emulated.emulator
    if emulated.code == "stripe":
        emulator.refund_from_dashboard(invoice.payment_intent_id, int(Decimal(amount) * 100))
    else:
        emulator.dashboard_refund(invoice.payment_intent_id, Decimal(amount))


@pytest.mark.parametrize("code", HOSTED)
def test_an_admin_refund_goes_through_the_provider_and_its_notification_changes_nothing(
    api: Api, providers: dict[str, Emulated], code: str
) -> None:
    _, invoice = paid_through(api, providers, code, "admin-refund")
    answer = api.post(f"/api/v1/admin/invoices/{invoice.id}/refund", {"amount": "5.00"}, token=api.token(*ADMIN))
    assert answer.status == 200, answer.json
    (note,) = credit_notes(invoice.id)
    assert note.amount == Decimal("5.00") and note.refund_reference
    deliver_webhooks(providers)  # the provider tells of the refund we made
    after = stored(invoice.id)
    assert (after.status, after.amount_refunded) == ("PAID", Decimal("5.00"))
    assert len(credit_notes(invoice.id)) == 1


@pytest.mark.parametrize("code", HOSTED)
def test_a_refund_made_at_the_provider_is_recorded_once_as_the_delta(
    api: Api, providers: dict[str, Emulated], code: str
) -> None:
    _, invoice = paid_through(api, providers, code, "dashboard")
    dashboard_refund(providers[code], invoice, "3.00")
    deliver_webhooks(providers)
    after = stored(invoice.id)
    assert (after.status, after.amount_refunded) == ("PAID", Decimal("3.00"))
    (note,) = credit_notes(invoice.id)
    assert note.amount == Decimal("3.00")
    for delivery in providers[code].emulator.delivered[-1:]:  # the same notification again
        providers[code].emulator.enqueue(delivery.headers, delivery.body)
    deliver_webhooks(providers)
    assert stored(invoice.id).amount_refunded == Decimal("3.00") and len(credit_notes(invoice.id)) == 1
    refunded = [e for e in outbox_events("payment.refunded") if e["data"]["invoice_id"] == invoice.id]
    assert len(refunded) == 1


def test_a_stripe_refund_cancelled_at_stripe_is_reversed(api: Api, providers: dict[str, Emulated]) -> None:
    stripe: Any = providers["stripe"].emulator
    buyer, invoice = paid_through(api, providers, "stripe", "reversal")
    refund = stripe.refund_from_dashboard(invoice.payment_intent_id)  # all of it
    deliver_webhooks(providers)
    assert stored(invoice.id).status == "REFUNDED"
    stripe.cancel_refund(refund["id"])
    deliver_webhooks(providers)
    after = stored(invoice.id)
    assert (after.status, after.amount_refunded) == ("PAID", Decimal("0.00"))
    (note,) = credit_notes(invoice.id)
    assert note.reversed_at is not None
    drain_events()
    assert [m["to"] for m in sent_mail() if m["subject"] == "A refund of your invoice was cancelled"][-1] == [
        buyer.email
    ]
    assert [
        e["data"]["credit_note_id"] for e in outbox_events("refund.reversed") if e["data"]["invoice_id"] == invoice.id
    ] == [note.id]


def test_a_stripe_dispute_is_reported_once_and_changes_nothing(api: Api, providers: dict[str, Emulated]) -> None:
    stripe: Any = providers["stripe"].emulator
    _, invoice = paid_through(api, providers, "stripe", "dispute")
    stripe.open_dispute(invoice.payment_intent_id, reason="fraudulent")
    deliver_webhooks(providers)
    disputes = [e["data"] for e in outbox_events("payment.disputed") if e["data"]["invoice_id"] == invoice.id]
    assert len(disputes) == 1
    assert (disputes[0]["provider"], disputes[0]["reason"], disputes[0]["currency"]) == ("stripe", "fraudulent", "EUR")
    assert disputes[0]["amount"] == "11.89" and disputes[0]["dispute_id"]
    assert stored(invoice.id).status == "PAID"
    drain_events()
    told = [m for m in sent_mail() if m["subject"] == "Payment disputed: 11.89 EUR" and invoice.id in m["body"]]
    assert [m["to"] for m in told] == [["billing@vbwd.local"]]  # the seed's contact_email


def manual_session(api: Api, code: str, tag: str) -> tuple[Buyer, str, dict[str, Any]]:
    """An invoice whose line asks for a manual capture (as a booking line does), and its session."""
    buyer = register_buyer(api, f"{code}-{tag}", country="DE")
    order = checkout(api, buyer.token, basket("basic", method=code))
    invoice = stored(order["invoice"]["id"])
    invoice.line_items[0].metadata = {**(invoice.line_items[0].metadata or {}), "capture_mode": "manual"}
    Transaction().put(invoice).commit()
    opened = api.post(f"/api/v1/plugins/{code}/create-session", {"invoice_id": invoice.id}, token=buyer.token)
    assert opened.status == 200, opened.json
    return buyer, invoice.id, opened.json


@pytest.mark.parametrize("then", ["capture", "release"])
def test_a_manual_stripe_authorization_is_captured_or_released_by_the_admin(
    api: Api, providers: dict[str, Emulated], then: str
) -> None:
    stripe: Any = providers["stripe"].emulator
    _, invoice_id, session = manual_session(api, "stripe", f"manual-{then}")
    assert session["capture_method"] == "manual" and session["client_secret"].startswith(session["session_id"])
    stripe.confirm_intent(session["payment_intent_id"])  # the buyer's card, confirmed by Stripe.js
    deliver_webhooks(providers)
    held = stored(invoice_id)
    assert (held.status, held.payment_intent_id) == ("AUTHORIZED", session["payment_intent_id"])
    answer = api.post(f"/api/v1/admin/invoices/{invoice_id}/{then}", {}, token=api.token(*ADMIN))
    assert answer.status == 200, answer.json
    deliver_webhooks(providers)  # Stripe's own word on it (succeeded / canceled) changes nothing more
    after = stored(invoice_id)
    if then == "capture":
        assert (after.status, int(after.capture_count)) == ("PAID", 1)
    else:
        assert after.status == "CANCELLED"
        assert [e for e in outbox_events("invoice.released") if e["data"]["invoice_id"] == invoice_id]


def test_an_authorization_cancelled_at_stripe_releases_the_invoice(api: Api, providers: dict[str, Emulated]) -> None:
    stripe: Any = providers["stripe"].emulator
    _, invoice_id, session = manual_session(api, "stripe", "manual-expired")
    stripe.confirm_intent(session["payment_intent_id"])
    deliver_webhooks(providers)
    assert stored(invoice_id).status == "AUTHORIZED"
    from chalicelib.payments.stripe.provider import StripeProvider

    StripeProvider().release(stored(invoice_id))  # cancelled at Stripe (its dashboard, an expiry)
    deliver_webhooks(providers)
    assert stored(invoice_id).status == "CANCELLED"


@pytest.mark.parametrize("code", HOSTED)
def test_money_for_an_invoice_paid_otherwise_meanwhile_is_given_back(
    api: Api, providers: dict[str, Emulated], code: str
) -> None:
    buyer = register_buyer(api, f"{code}-orphan", country="DE")
    order = checkout(api, buyer.token, basket("basic", method=code))
    invoice_id = order["invoice"]["id"]
    press(pay(api, buyer.token, invoice_id, {"payment_method_code": code}).json["payment"]["session_url"], "pay")
    marked = api.post(
        f"/api/v1/admin/invoices/{invoice_id}/mark-paid", {"payment_reference": "BANK-7"}, token=api.token(*ADMIN)
    )
    assert marked.status == 200, marked.json
    deliver_webhooks(providers)  # the provider's word on the hosted payment arrives after the bank's
    after = stored(invoice_id)
    assert (after.status, after.payment_ref, int(after.capture_count)) == ("PAID", "BANK-7", 1)
    (orphan,) = [e["data"] for e in outbox_events("payment.orphaned") if e["data"]["invoice_id"] == invoice_id]
    assert (orphan["provider"], orphan["amount"], orphan["currency"], orphan["refunded"]) == (
        code,
        "11.89",
        "EUR",
        True,
    )
    drain_events()
    assert [m["to"] for m in sent_mail() if invoice_id in m["body"] and "closed invoice" in m["subject"]] == [
        ["billing@vbwd.local"]
    ]


@pytest.mark.parametrize("code", ["paypal", "yookassa"])
@pytest.mark.parametrize("then", ["capture", "release"])
def test_a_manual_authorization_on_the_hosted_page_is_captured_or_released_by_the_admin(
    api: Api, providers: dict[str, Emulated], code: str, then: str
) -> None:
    _, invoice_id, session = manual_session(api, code, f"manual-{then}")
    press(session["session_url"], "pay")  # the buyer approves; the provider holds the money
    deliver_webhooks(providers)
    held = stored(invoice_id)
    assert held.status == "AUTHORIZED" and held.payment_intent_id
    answer = api.post(f"/api/v1/admin/invoices/{invoice_id}/{then}", {}, token=api.token(*ADMIN))
    assert answer.status == 200, answer.json
    deliver_webhooks(providers)
    after = stored(invoice_id)
    assert after.status == ("PAID" if then == "capture" else "CANCELLED")
    if then == "capture":
        assert int(after.capture_count) == 1
