"""What a provider reports about refunds (checkout-and-payments.md §7.3, §7.4), through the service functions issue
9's webhooks will call: a refund made in the provider's dashboard is recorded by its delta, a cancelled refund is
reversed, and duplicates change nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from chalicelib.core.clock import ManualClock
from chalicelib.refunds.service import record_provider_refund, reverse_refund
from tests.integration.buyers import (
    Buyer,
    balance_of,
    buy_basic_and_tokens,
    events_about,
    german_buyer,
    invoice_of,
    paid,
    relogin,
)
from tests.integration.conftest import ADMIN, Api


def paid_basket(api: Api, tag: str) -> tuple[Buyer, dict[str, Any]]:
    buyer = german_buyer(api, tag)
    bought = buy_basic_and_tokens(api, buyer.token, payment_method_code="sandbox")
    paid(api, buyer.token, bought["invoice"]["id"])
    return buyer, bought


def subscription(api: Api, buyer: Buyer, sub_id: str) -> dict[str, Any]:
    return api.get(f"/api/v1/user/subscriptions/{sub_id}", token=buyer.token).json["subscription"]  # type: ignore[no-any-return]


def test_a_dashboard_refund_is_recorded_by_its_delta_once(api: Api, manual_clock: ManualClock) -> None:
    buyer, bought = paid_basket(api, "dashboard-refund")
    invoice_id = bought["invoice"]["id"]

    first = record_provider_refund(invoice_id, Decimal("4.00"), "sandbox", "re_1")
    again = record_provider_refund(invoice_id, Decimal("4.00"), "sandbox", "re_1")
    more = record_provider_refund(invoice_id, Decimal("6.50"), "sandbox", "re_2")

    assert first is not None and again is None and more is not None
    assert (first.credit_note.amount, more.credit_note.amount) == (Decimal("4.00"), Decimal("2.50"))
    assert more.credit_note.refund_reference == "re_2" and more.credit_note.provider == "sandbox"
    invoice = invoice_of(api, buyer.token, invoice_id)
    assert (invoice["status"], invoice["amount_refunded"]) == ("PAID", "6.50")
    assert len(events_about("credit_note.created", "invoice_id", invoice_id)) == 2


def test_a_dashboard_refund_of_everything_reverses_the_lines(api: Api, manual_clock: ManualClock) -> None:
    buyer, bought = paid_basket(api, "dashboard-full")
    invoice_id = bought["invoice"]["id"]

    result = record_provider_refund(invoice_id, Decimal("15.46"), "sandbox", "re_full")

    assert result is not None and result.full
    assert invoice_of(api, buyer.token, invoice_id)["status"] == "REFUNDED"
    assert subscription(api, buyer, bought["subscription"]["id"])["status"] == "CANCELLED"
    assert balance_of(api, buyer.token) == 0
    assert record_provider_refund(invoice_id, Decimal("15.46"), "sandbox", "re_full") is None


def test_a_cancelled_full_refund_restores_what_it_reversed(api: Api, manual_clock: ManualClock) -> None:
    buyer, bought = paid_basket(api, "reversal")
    invoice_id, sub_id = bought["invoice"]["id"], bought["subscription"]["id"]
    admin = api.token(*ADMIN)
    partial = api.post(f"/api/v1/admin/invoices/{invoice_id}/refund", {"amount": "5.00"}, token=admin).json
    rest = api.post(f"/api/v1/admin/invoices/{invoice_id}/refund", {}, token=admin).json
    reference = rest["credit_note"]["refund_reference"]
    manual_clock.advance(timedelta(days=3))

    note = reverse_refund(invoice_id, reference, "sandbox")
    duplicate = reverse_refund(invoice_id, reference, "sandbox")

    assert note is not None and note.reversed_at is not None and duplicate is None
    buyer = relogin(api, buyer)
    invoice = invoice_of(api, buyer.token, invoice_id)
    assert (invoice["status"], invoice["amount_refunded"]) == ("PAID", partial["credit_note"]["amount"])
    sub = subscription(api, buyer, sub_id)
    assert (sub["status"], sub["cancelled_at"], sub["cancel_reason"]) == ("ACTIVE", None, None)
    assert (sub["current_period_start"], sub["expires_at"]) == ("2026-05-04T09:00:00Z", "2026-06-04T09:00:00Z")
    assert balance_of(api, buyer.token) == 150
    assert [e["data"]["credit_note_id"] for e in events_about("refund.reversed", "invoice_id", invoice_id)] == [note.id]


def test_an_unknown_refund_reference_changes_nothing(api: Api, manual_clock: ManualClock) -> None:
    _, bought = paid_basket(api, "reversal-unknown")

    assert reverse_refund(bought["invoice"]["id"], "re_nobody", "sandbox") is None
