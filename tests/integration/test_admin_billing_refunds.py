"""Refunds by the admin (admin.md §8.8, §9.6) through the refund pipeline (checkout-and-payments.md §7.2): partial
and full, every message, the credit notes, the reversal of every line and the events."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from chalicelib.core.clock import ManualClock
from tests.contract import EXTRA_STORAGE, INVALID_ID, NO_CREDENTIAL
from tests.integration.buyers import (
    Buyer,
    balance_of,
    buy,
    buy_basic_and_tokens,
    events_about,
    german_buyer,
    invoice_of,
    ledger_of,
    paid,
    register_buyer,
)
from tests.integration.conftest import ADMIN, Api

OBSERVER = ("observer@example.com", "ObserverPass123@")
CN_NUMBER = re.compile(r"^CN-2026-\d{6}$")


def refund(api: Api, token: str | None, invoice_id: str, body: dict[str, Any] | None = None, **kw: Any) -> Any:
    return api.post(f"/api/v1/admin/invoices/{invoice_id}/refund", body or {}, token=token, **kw)


def refund_subscription(api: Api, token: str | None, sub_id: str, body: dict[str, Any] | None = None) -> Any:
    return api.post(f"/api/v1/admin/subscriptions/{sub_id}/refund", body or {}, token=token)


def subscription_of(api: Api, buyer: Buyer, sub_id: str) -> dict[str, Any]:
    return api.get(f"/api/v1/user/subscriptions/{sub_id}", token=buyer.token).json["subscription"]  # type: ignore[no-any-return]


def purchase_status(invoice_id: str, purchase_id: str) -> str:
    from chalicelib.invoices.models import TokenBundlePurchaseItem

    return str(TokenBundlePurchaseItem.get(*TokenBundlePurchaseItem.key(invoice_id, purchase_id)).status)


def paid_basket(api: Api, tag: str) -> tuple[Buyer, dict[str, Any]]:
    """A German buyer who bought and paid the Basic plan (50 plan tokens) and 100 tokens: 15.46 EUR."""
    buyer = german_buyer(api, tag)
    bought = buy_basic_and_tokens(api, buyer.token, payment_method_code="sandbox")
    paid(api, buyer.token, bought["invoice"]["id"])
    return buyer, bought


def test_a_partial_refund_issues_a_credit_note_and_leaves_everything_else(api: Api, manual_clock: ManualClock) -> None:
    buyer, bought = paid_basket(api, "partial-refund")
    invoice_id = bought["invoice"]["id"]

    answer = refund(api, api.token(*ADMIN), invoice_id, {"amount": "5.00", "reason": "Goodwill"})

    assert answer.status == 200, answer.json
    assert answer.json["message"] == "Invoice partially refunded"
    invoice, note = answer.json["invoice"], answer.json["credit_note"]
    assert (invoice["status"], invoice["amount_refunded"], invoice["user_email"]) == ("PAID", "5.00", buyer.email)
    assert CN_NUMBER.match(note["credit_note_number"])
    assert (note["amount"], note["net_amount"], note["tax_amount"]) == ("5.00", "4.20", "0.80")
    assert (note["full_refund"], note["reason"], note["provider"]) == (False, "Goodwill", "sandbox")
    assert note["refund_reference"].startswith("sandbox_refund_")
    assert invoice["credit_notes"] == [note]
    assert subscription_of(api, buyer, bought["subscription"]["id"])["status"] == "ACTIVE"
    assert balance_of(api, buyer.token) == 150
    assert [e["data"]["full"] for e in events_about("invoice.refunded", "invoice_id", invoice_id)] == [False]
    assert len(events_about("payment.refunded", "invoice_id", invoice_id)) == 1
    assert [e["data"]["credit_note_id"] for e in events_about("credit_note.created", "invoice_id", invoice_id)] == [
        note["id"]
    ]


def test_refunding_the_rest_reverses_every_line(api: Api, manual_clock: ManualClock) -> None:
    buyer, bought = paid_basket(api, "full-refund")
    invoice_id, sub_id = bought["invoice"]["id"], bought["subscription"]["id"]
    admin = api.token(*ADMIN)
    first = refund(api, admin, invoice_id, {"amount": "5.00"}).json["credit_note"]

    answer = refund(api, admin, invoice_id)

    assert answer.status == 200, answer.json
    assert answer.json["message"] == "Invoice refunded"
    invoice, note = answer.json["invoice"], answer.json["credit_note"]
    assert (invoice["status"], invoice["amount_refunded"]) == ("REFUNDED", "15.46")
    assert (note["amount"], note["full_refund"], note["reason"]) == ("10.46", True, "Admin refund")
    numbers = [int(n["credit_note_number"][-6:]) for n in (first, note)]
    assert numbers[1] == numbers[0] + 1  # one series, no gap
    assert [n["id"] for n in invoice["credit_notes"]] == [first["id"], note["id"]]
    sub = subscription_of(api, buyer, sub_id)
    assert (sub["status"], sub["cancel_reason"], sub["cancelled_at"]) == ("CANCELLED", "refund", "2026-05-01T09:00:00Z")
    assert balance_of(api, buyer.token) == 0
    refunds = [e for e in ledger_of(api, buyer.token) if e["transaction_type"] == "REFUND"]
    assert sorted((e["amount"], e["description"]) for e in refunds) == [
        (-100, "Refund: 100 tokens"),
        (-50, "Refund: 50 tokens"),
    ]
    [purchase] = bought["token_bundles"]
    assert purchase_status(invoice_id, purchase["id"]) == "REFUNDED"
    assert sorted(e["data"]["full"] for e in events_about("invoice.refunded", "invoice_id", invoice_id)) == [
        False,
        True,
    ]
    assert [e["data"]["reason"] for e in events_about("subscription.cancelled", "subscription_id", sub_id)] == [
        "refund"
    ]
    debited = events_about("tokens.debited", "user_id", buyer.user_id)
    assert sorted(e["data"]["amount"] for e in debited) == [-100, -50]


def test_tokens_already_spent_are_clamped_with_the_shortfall_noted(api: Api, manual_clock: ManualClock) -> None:
    buyer, bought = paid_basket(api, "spent-refund")
    spent = api.post("/api/v1/user/tokens/consume", {"amount": 120}, token=buyer.token)
    assert spent.status == 200, spent.json

    assert refund(api, api.token(*ADMIN), bought["invoice"]["id"]).status == 200

    assert balance_of(api, buyer.token) == 0
    refunds = [e for e in ledger_of(api, buyer.token) if e["transaction_type"] == "REFUND"]
    assert sorted((e["amount"], e["description"]) for e in refunds) == [
        (-30, "Refund: 30 tokens (shortfall 20 not recovered)"),  # the plan's 50 first, as the lines are ordered
        (0, "Refund: 0 tokens (shortfall 100 not recovered)"),
    ]


def test_a_full_refund_cancels_the_add_ons_of_the_invoice(api: Api, manual_clock: ManualClock) -> None:
    buyer = register_buyer(api, "addon-refund")
    bought = buy(api, buyer, "basic", addons=("extra-storage-50gb",))
    paid(api, buyer.token, bought["invoice"]["id"])
    [addon] = bought["add_ons"]
    assert addon["addon_id"] == EXTRA_STORAGE

    assert refund(api, api.token(*ADMIN), bought["invoice"]["id"]).status == 200

    state = api.get(f"/api/v1/user/addons/{addon['id']}", token=buyer.token).json["addon_subscription"]
    assert state["status"] == "CANCELLED"
    assert [e["data"]["reason"] for e in events_about("addon.cancelled", "addon_subscription_id", addon["id"])] == [
        "refund"
    ]


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("abc", "Invalid amount"),
        ("1.234", "Invalid amount"),
        (True, "Invalid amount"),
        ("0", "Refund amount must be positive"),
        ("-1.00", "Refund amount must be positive"),
        ("15.47", "Refund amount exceeds refundable amount (15.46)"),
    ],
)
def test_amounts_the_pipeline_refuses(api: Api, manual_clock: ManualClock, amount: Any, error: str) -> None:
    _, bought = paid_basket(api, f"bad-amount-{uuid.uuid4().hex[:6]}")

    answer = refund(api, api.token(*ADMIN), bought["invoice"]["id"], {"amount": amount})

    assert (answer.status, answer.json) == (400, {"error": error})


def test_the_remainder_shrinks_with_each_refund(api: Api, manual_clock: ManualClock) -> None:
    _, bought = paid_basket(api, "remainder")
    admin = api.token(*ADMIN)
    assert refund(api, admin, bought["invoice"]["id"], {"amount": 10}).status == 200

    answer = refund(api, admin, bought["invoice"]["id"], {"amount": "5.47"})

    assert (answer.status, answer.json) == (400, {"error": "Refund amount exceeds refundable amount (5.46)"})


def test_only_paid_invoices_are_refunded(api: Api, manual_clock: ManualClock) -> None:
    buyer = german_buyer(api, "unpaid-refund")
    pending = buy_basic_and_tokens(api, buyer.token)["invoice"]["id"]
    admin = api.token(*ADMIN)

    assert refund(api, admin, pending).json == {"error": "Cannot refund: invoice status is PENDING"}
    _, bought = paid_basket(api, "refunded-refund")
    assert refund(api, admin, bought["invoice"]["id"]).status == 200
    answer = refund(api, admin, bought["invoice"]["id"])
    assert (answer.status, answer.json) == (400, {"error": "Cannot refund: invoice status is REFUNDED"})


def test_a_bank_transfer_refund_is_recorded_with_the_admins_reference(api: Api, manual_clock: ManualClock) -> None:
    buyer = german_buyer(api, "bank-refund")
    invoice_id = buy_basic_and_tokens(api, buyer.token, payment_method_code="invoice")["invoice"]["id"]
    admin = api.token(*ADMIN)
    assert api.post(f"/api/v1/admin/invoices/{invoice_id}/mark-paid", {}, token=admin).status == 200

    answer = refund(api, admin, invoice_id, {"amount": "1.00", "refund_reference": "BANK-42"})

    assert answer.status == 200, answer.json
    note = answer.json["credit_note"]
    assert (note["refund_reference"], note["provider"]) == ("BANK-42", "manual")


def test_a_provider_refusal_changes_nothing(api: Api, manual_clock: ManualClock) -> None:
    """The sandbox keeps what it gave back: a refund made at the provider beyond what is recorded makes it refuse."""
    from chalicelib.invoices.repository import load_invoice
    from chalicelib.payments.providers import provider

    buyer, bought = paid_basket(api, "provider-refusal")
    invoice_id = bought["invoice"]["id"]
    loaded = load_invoice(invoice_id)
    assert loaded is not None
    provider("sandbox").refund(loaded[0], loaded[0].total_amount, f"{invoice_id}:refund:dashboard")

    answer = refund(api, api.token(*ADMIN), invoice_id, {"amount": "1.00"})

    assert (answer.status, answer.json) == (
        400,
        {"error": "Provider refund failed: Refund exceeds the captured amount"},
    )
    assert invoice_of(api, buyer.token, invoice_id)["amount_refunded"] == "0.00"


def test_a_replayed_idempotency_key_refunds_once(api: Api, manual_clock: ManualClock) -> None:
    _, bought = paid_basket(api, "refund-replay")
    admin = api.token(*ADMIN)
    key = {"Idempotency-Key": str(uuid.uuid4())}

    first = refund(api, admin, bought["invoice"]["id"], {"amount": "2.00"}, headers=key)
    again = refund(api, admin, bought["invoice"]["id"], {"amount": "2.00"}, headers=key)

    assert first.status == again.status == 200
    assert again.json == first.json
    assert len(events_about("credit_note.created", "invoice_id", bought["invoice"]["id"])) == 1


def test_the_refund_of_a_subscription_takes_its_latest_paid_invoice(api: Api, manual_clock: ManualClock) -> None:
    buyer, bought = paid_basket(api, "sub-refund")
    sub_id = bought["subscription"]["id"]
    admin = api.token(*ADMIN)

    partial = refund_subscription(api, admin, sub_id, {"amount": "3.00", "reason": "Outage"})
    assert partial.status == 200, partial.json
    assert partial.json["message"] == "Refund processed: Outage"
    assert partial.json["invoice"]["id"] == bought["invoice"]["id"]
    assert partial.json["subscription"]["status"] == "ACTIVE"
    assert partial.json["credit_note"]["amount"] == "3.00"

    full = refund_subscription(api, admin, sub_id)
    assert full.status == 200, full.json
    assert full.json["message"] == "Refund processed: Admin refund"
    subscription = full.json["subscription"]
    assert (subscription["status"], subscription["canceled_at"], subscription["user_email"]) == (
        "CANCELLED",
        "2026-05-01T09:00:00Z",
        buyer.email,
    )
    assert refund_subscription(api, admin, sub_id).json == {"error": "No paid invoice to refund"}


def test_a_subscription_refund_needs_a_paid_invoice_and_a_subscription(api: Api) -> None:
    buyer = german_buyer(api, "sub-unpaid")
    bought = buy_basic_and_tokens(api, buyer.token)
    admin = api.token(*ADMIN)

    assert refund_subscription(api, admin, bought["subscription"]["id"]).json == {"error": "No paid invoice to refund"}
    missing = refund_subscription(api, admin, str(uuid.uuid4()))
    assert (missing.status, missing.json) == (404, {"error": "Subscription not found"})


@pytest.mark.parametrize(
    ("path", "permission"), [("invoices", "invoices.manage"), ("subscriptions", "subscription.subscriptions.manage")]
)
def test_refunds_are_refused_to_observers_and_strangers(api: Api, path: str, permission: str) -> None:
    target = f"/api/v1/admin/{path}/{uuid.uuid4()}/refund"
    observer = api.post(target, {}, token=api.token(*OBSERVER))
    assert (observer.status, observer.json) == (403, {"error": "Permission denied", "required": permission})
    assert api.post(target, {}).json == NO_CREDENTIAL
    assert api.post(f"/api/v1/admin/{path}/not-an-id/refund", {}, token=api.token(*ADMIN)).json == INVALID_ID
    missing = api.post(target, {}, token=api.token(*ADMIN))
    assert missing.status == 404


def test_a_full_refund_takes_back_the_plan_tokens_this_invoice_gave_not_what_the_plan_says_now(
    fresh_api: Api, manual_clock: ManualClock
) -> None:
    """§7.2: "the plan tokens this invoice credited are debited" — the capture keeps the number on the line, so an
    admin raising the plan's tokens afterwards (admin.md §4.4) does not make the refund take more."""
    from tests.contract import BASIC

    api = fresh_api
    buyer = german_buyer(api, "refund-plan-tokens")
    bought = buy(api, buyer, plan="basic")
    paid(api, buyer.token, bought["invoice"]["id"])
    admin = api.token(*ADMIN)
    raised = api.put(f"/api/v1/admin/tarif-plans/{BASIC}", {"features": {"default_tokens": 500}}, token=admin)
    assert raised.status == 200, raised.json
    api.post("/api/v1/user/tokens/consume", {"amount": 10, "reference": "used-some"}, token=buyer.token)

    answer = refund(api, admin, bought["invoice"]["id"])

    assert answer.status == 200, answer.json
    [taken, *_] = ledger_of(api, buyer.token)
    assert (taken["amount"], taken["transaction_type"], taken["description"]) == (
        -40,
        "REFUND",
        "Refund: 40 tokens (shortfall 10 not recovered)",
    )
    assert balance_of(api, buyer.token) == 0
