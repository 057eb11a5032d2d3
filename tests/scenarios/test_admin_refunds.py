"""An admin gives a customer's money back in two steps (issue 8, "Done when"; checkout-and-payments.md §7.2): a user
buys the Basic plan with 100 tokens and pays 15.46 EUR with the sandbox; a week later the admin refunds half, then
the rest. The credit notes, the ledger, the subscription and the events are exact to the cent. (The analytics of
this scenario — revenue net of refunds, MRR — are added by the lead with the aggregates of §17.) The scenario ends,
like every scenario, with the jobs settled and the invariant checker passing — Σ credit notes = `amount_refunded`."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.buyers import buy_basic_and_tokens, german_buyer, paid, relogin
from tests.integration.conftest import ADMIN, drain_events, outbox_events


def seen() -> set[str]:
    return {e["id"] for e in outbox_events()}


def new_events(before: set[str]) -> list[dict]:
    """The events written since `before` was taken, in the order they were written."""
    return [e for e in outbox_events() if e["id"] not in before]


def test_the_admin_refunds_half_then_the_rest(fresh_api, manual_clock):
    api = fresh_api
    buyer = german_buyer(api, "refunded-customer")
    bought = buy_basic_and_tokens(api, buyer.token, payment_method_code="sandbox")
    invoice_id, sub_id = bought["invoice"]["id"], bought["subscription"]["id"]
    paid(api, buyer.token, invoice_id)
    drain_events()
    manual_clock.advance(timedelta(days=7))
    buyer = relogin(api, buyer)
    admin = api.token(*ADMIN)
    written = seen()

    half = api.post(f"/api/v1/admin/invoices/{invoice_id}/refund", {"amount": "7.73", "reason": "Half"}, token=admin)

    assert half.status == 200, half.json
    first = half.json["credit_note"]
    assert (half.json["message"], half.json["invoice"]["status"], half.json["invoice"]["amount_refunded"]) == (
        "Invoice partially refunded",
        "PAID",
        "7.73",
    )
    assert (first["amount"], first["net_amount"], first["tax_amount"], first["full_refund"]) == (
        "7.73",
        "6.50",
        "1.23",
        False,
    )
    assert [e["type"] for e in new_events(written)] == ["payment.refunded", "credit_note.created", "invoice.refunded"]
    assert api.get("/api/v1/user/tokens/balance", token=buyer.token).json == {"balance": 150}
    written = seen()

    rest = api.post(f"/api/v1/admin/invoices/{invoice_id}/refund", {}, token=admin)

    assert rest.status == 200, rest.json
    second = rest.json["credit_note"]
    invoice = rest.json["invoice"]
    assert (rest.json["message"], invoice["status"], invoice["amount_refunded"], invoice["total_amount"]) == (
        "Invoice refunded",
        "REFUNDED",
        "15.46",
        "15.46",
    )
    assert (second["amount"], second["net_amount"], second["tax_amount"], second["full_refund"]) == (
        "7.73",
        "6.50",
        "1.23",
        True,
    )
    assert int(second["credit_note_number"][-6:]) == int(first["credit_note_number"][-6:]) + 1
    assert second["credit_note_number"][:8] == first["credit_note_number"][:8] == "CN-2026-"
    assert [n["credit_note_number"] for n in invoice["credit_notes"]] == [
        first["credit_note_number"],
        second["credit_note_number"],
    ]
    events = new_events(written)
    assert [e["type"] for e in events] == [
        "payment.refunded",
        "credit_note.created",
        "invoice.refunded",
        "subscription.cancelled",
        "tokens.debited",
        "tokens.debited",
    ]
    assert events[0]["data"]["amount"] == events[2]["data"]["amount"] == "7.73"
    assert events[2]["data"]["full"] is True and events[3]["data"]["reason"] == "refund"
    ledger = api.get("/api/v1/user/tokens/transactions?limit=10", token=buyer.token).json["transactions"]
    assert [(e["amount"], e["transaction_type"], e["description"], e["balance_after"]) for e in ledger] == [
        (-100, "REFUND", "Refund: 100 tokens", 0),
        (-50, "REFUND", "Refund: 50 tokens", 100),
        (100, "PURCHASE", "Token bundle purchase: 100 tokens", 150),
        (50, "SUBSCRIPTION", "Plan tokens: Basic", 50),
    ]
    sub = api.get(f"/api/v1/user/subscriptions/{sub_id}", token=buyer.token).json["subscription"]
    assert (sub["status"], sub["cancel_reason"], sub["cancelled_at"], sub["is_valid"]) == (
        "CANCELLED",
        "refund",
        "2026-05-08T09:00:00Z",
        False,
    )
    pdf = api.get(f"/api/v1/user/invoices/{invoice_id}/pdf", token=buyer.token)
    assert pdf.status == 200
