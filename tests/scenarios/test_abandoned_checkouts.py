"""Abandoned checkouts on a moving clock: a customer leaves a checkout unpaid, comes back and buys again; the
hourly `invoice-housekeeping` job expires what was left once it is due, and a writer's crash between taking an
invoice number and committing leaves a gap only until housekeeping voids it. Each scenario ends, like every
scenario, with the jobs settled and the invariant checker passing (tests/scenarios/conftest.py)."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.jobs import run
from chalicelib.store import numbering
from chalicelib.store.transactions import Transaction
from tests.contract import BASIC, EXTRA_STORAGE, PASSWORD, TOKENS_100
from tests.integration.buyers import CHECKOUT, checkout, paid, register_buyer
from tests.integration.conftest import drain_events, outbox_events


def housekeep() -> dict[str, int]:
    result = run("invoice-housekeeping")
    drain_events()
    return result


def statuses(api, token) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    invoices = api.get("/api/v1/user/invoices", token=token).json["invoices"]
    subscriptions = api.get("/api/v1/user/subscriptions", token=token).json["subscriptions"]
    addons = api.get("/api/v1/user/addons", token=token).json["addon_subscriptions"]
    return (
        sorted((i["invoice_number"], i["status"]) for i in invoices),
        sorted(s["status"] for s in subscriptions),
        sorted(a["status"] for a in addons),
    )


def test_a_checkout_left_unpaid_expires_at_its_due_date_and_the_next_one_is_paid(fresh_api, manual_clock):
    buyer = register_buyer(fresh_api, "abandoned")
    left = checkout(fresh_api, buyer.token, {"plan_id": BASIC, "add_on_ids": [EXTRA_STORAGE]})["invoice"]
    assert (left["status"], left["due_date"]) == ("PENDING", "2026-05-31T09:00:00Z")

    manual_clock.advance(timedelta(days=29, hours=23))  # an hour before the due date: nothing happens
    assert housekeep()["invoices_due"] == 0
    manual_clock.advance(timedelta(hours=1, seconds=1))
    assert housekeep()["invoices_due"] == 1
    token = fresh_api.token(buyer.email, PASSWORD)
    assert statuses(fresh_api, token) == ([(left["invoice_number"], "CANCELLED")], ["CANCELLED"], ["CANCELLED"])
    voided = [e["data"] for e in outbox_events("invoice.voided") if e["data"]["invoice_id"] == left["id"]]
    assert voided == [
        {
            "invoice_id": left["id"],
            "invoice_number": left["invoice_number"],
            "user_id": buyer.user_id,
            "reason": "expired",
        }
    ]

    again = checkout(
        fresh_api, token, {"plan_id": BASIC, "add_on_ids": [EXTRA_STORAGE], "payment_method_code": "sandbox"}
    )["invoice"]
    paid(fresh_api, token, again["id"])
    manual_clock.advance(timedelta(hours=1))
    assert housekeep()["invoices_due"] == 0  # a paid invoice is in no index the job reads
    assert statuses(fresh_api, fresh_api.token(buyer.email, PASSWORD)) == (
        sorted([(left["invoice_number"], "CANCELLED"), (again["invoice_number"], "PAID")]),
        ["ACTIVE", "CANCELLED"],
        ["ACTIVE", "CANCELLED"],
    )


def test_a_crash_after_taking_a_number_is_voided_and_the_series_stays_gapless(fresh_api, manual_clock, monkeypatch):
    buyer = register_buyer(fresh_api, "abandoned")
    first = checkout(fresh_api, buyer.token, {"token_bundle_ids": [TOKENS_100]})["invoice"]
    with monkeypatch.context() as dying:
        dying.setattr(Transaction, "commit", lambda self: (_ for _ in ()).throw(RuntimeError("process killed")))
        dying.setattr(numbering.Reservation, "void_all", lambda self, reason: None)
        assert fresh_api.post(CHECKOUT, {"token_bundle_ids": [TOKENS_100]}, token=buyer.token).status == 500
    third = checkout(fresh_api, buyer.token, {"token_bundle_ids": [TOKENS_100]})["invoice"]
    value = int(first["invoice_number"].rsplit("-", 1)[1])
    assert third["invoice_number"] == numbering.format_number("INV", manual_clock.now().year, value + 2)

    housekeep()  # notes the counter
    manual_clock.advance(numbering.GRACE + timedelta(seconds=1))
    assert housekeep()["numbers_voided"] == 1
    # the scenario's end: every job settles and the invariant checker finds every number 1 … n held once
