"""An admin gives a customer's money back in two steps (issue 8, "Done when"; checkout-and-payments.md §7.2): a user
buys the Basic plan with 100 tokens and pays 15.46 EUR with the sandbox; a week later the admin refunds half, then
the rest. The credit notes, the ledger, the subscription and the events are exact to the cent; the second scenario
does it with a plan the admin made and follows the analytics of §17 (revenue net of refunds, MRR). Each ends,
like every scenario, with the jobs settled and the invariant checker passing — Σ credit notes = `amount_refunded`."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

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


def analytics(api, admin: str, route: str) -> dict:
    drain_events()  # the aggregates are kept by an event consumer
    answer = api.get(f"/api/v1/admin/analytics/{route}?from=2026-05-01&to=2026-05-31", token=admin)
    assert answer.status == 200, answer.json
    return answer.json


def test_a_plan_the_admin_made_is_bought_then_refunded_in_two_steps_and_analytics_follow(fresh_api, manual_clock):
    """Issue 8, "Done when": the admin creates a plan, a user buys it, the admin refunds half, then the rest; credit
    notes, ledger, subscription, events and analytics (revenue net of refunds, MRR) exact to the cent."""
    api = fresh_api
    admin = api.token(*ADMIN)
    before = analytics(api, admin, "dashboard")
    made = api.post(
        "/api/v1/admin/tarif-plans/",
        {"name": "Team", "price": "30.00", "currency": "EUR", "features": {"default_tokens": 40}},
        token=admin,
    )
    assert made.status == 201, made.json
    plan_id = made.json["plan_id"]
    buyer = german_buyer(api, "team-buyer")
    bought = api.post(
        "/api/v1/user/checkout", {"plan_id": plan_id, "payment_method_code": "sandbox"}, token=buyer.token
    )
    assert bought.status == 201, bought.json
    invoice_id, sub_id = bought.json["invoice"]["id"], bought.json["subscription"]["id"]
    assert (bought.json["invoice"]["subtotal"], bought.json["invoice"]["tax_amount"]) == ("30.00", "5.70")
    paid(api, buyer.token, invoice_id)
    after_sale = analytics(api, admin, "dashboard")
    assert Decimal(after_sale["mrr"]) - Decimal(before["mrr"]) == Decimal("30.00")  # net of tax, monthly
    assert Decimal(after_sale["revenue"]) - Decimal(before["revenue"]) == Decimal("35.70")  # what was paid
    assert after_sale["active_subscriptions"] == before["active_subscriptions"] + 1
    assert (
        api.get(f"/api/v1/admin/tarif-plans/{plan_id}/subscribers/count", token=admin).json["by_status"]["ACTIVE"] == 1
    )

    manual_clock.advance(timedelta(days=3))
    admin = api.token(*ADMIN)
    half = api.post(f"/api/v1/admin/invoices/{invoice_id}/refund", {"amount": "17.85"}, token=admin)
    assert half.status == 200, half.json
    assert (half.json["credit_note"]["net_amount"], half.json["credit_note"]["tax_amount"]) == ("15.00", "2.85")
    after_half = analytics(api, admin, "dashboard")
    assert Decimal(after_half["refunds"]) - Decimal(before["refunds"]) == Decimal("17.85")
    assert Decimal(after_half["net_revenue"]) - Decimal(before["net_revenue"]) == Decimal("17.85")
    assert after_half["mrr"] == after_sale["mrr"]  # a partial refund leaves the subscription running

    rest = api.post(f"/api/v1/admin/invoices/{invoice_id}/refund", {}, token=admin)
    assert rest.status == 200, rest.json
    assert rest.json["invoice"]["status"] == "REFUNDED" and rest.json["credit_note"]["amount"] == "17.85"
    numbers = [n["credit_note_number"] for n in rest.json["invoice"]["credit_notes"]]
    assert int(numbers[1][-6:]) == int(numbers[0][-6:]) + 1
    after_all = analytics(api, admin, "dashboard")
    assert after_all["mrr"] == before["mrr"] and after_all["active_subscriptions"] == before["active_subscriptions"]
    assert Decimal(after_all["refunds"]) - Decimal(before["refunds"]) == Decimal("35.70")
    assert after_all["net_revenue"] == before["net_revenue"]
    revenue = analytics(api, admin, "revenue")
    days = {day["date"]: day for day in revenue["by_day"]}
    assert (days["2026-05-01"]["gross"], days["2026-05-01"]["tax"]) == ("35.70", "5.70")
    assert (days["2026-05-04"]["refunds"], days["2026-05-04"]["net"]) == ("35.70", "-35.70")
    buyer = relogin(api, buyer)
    sub = api.get(f"/api/v1/user/subscriptions/{sub_id}", token=buyer.token).json["subscription"]
    assert (sub["status"], sub["cancel_reason"]) == ("CANCELLED", "refund")
    ledger = api.get("/api/v1/user/tokens/transactions", token=buyer.token).json["transactions"]
    assert [(e["amount"], e["transaction_type"], e["balance_after"]) for e in ledger] == [
        (-40, "REFUND", 0),
        (40, "SUBSCRIPTION", 40),
    ]
    assert api.get(f"/api/v1/admin/tarif-plans/{plan_id}/subscribers/count", token=admin).json["count"] == 0
