"""The `subscription-lifecycle` job through the API (subscriptions.md §7, checkout-and-payments.md §10.2, §10.7):
renewal at the lead time, the off-session charge of the saved sandbox method, PAST_DUE and dunning, expiry, and
exactly-once effects under repeated and overlapping runs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.core.clock import ManualClock
from chalicelib.invoices.models import InvoiceItem
from chalicelib.jobs import run
from chalicelib.subscriptions.models import BilledPeriodItem
from tests.integration.buyers import Buyer, buy, german_buyer, paid, read, relogin
from tests.integration.conftest import Api, at_once, drain_events, outbox_events

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
END = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def lifecycle() -> None:
    """One run of the job and of the worker that drains its tasks."""
    run("subscription-lifecycle")
    drain_events()
    drain_events()  # the events the steps wrote reach their consumers (mail)


def subscribed(api: Api, clock: ManualClock, tag: str, plan: str = "basic") -> tuple[Buyer, dict[str, Any]]:
    """A German buyer with a paid monthly plan from T0 (sandbox: a saved method)."""
    clock.set(T0)
    buyer = german_buyer(api, tag)
    bought = buy(api, buyer, plan)
    paid(api, buyer.token, bought["invoice"]["id"])
    return buyer, bought["subscription"]


def subscription(api: Api, clock: ManualClock, buyer: Buyer, sub_id: str) -> dict[str, Any]:
    return read(api, f"/api/v1/user/subscriptions/{sub_id}", relogin(api, buyer).token)["subscription"]  # type: ignore[no-any-return]


def invoices_of(user_id: str) -> list[InvoiceItem]:
    found = [i for i in InvoiceItem.scan() if isinstance(i, InvoiceItem) and i.user_id == user_id]
    return sorted(found, key=lambda i: i.invoice_number)


def about(event_type: str, sub_id: str) -> list[dict[str, Any]]:
    return [e["data"] for e in outbox_events(event_type) if e["data"].get("subscription_id") == sub_id]


def test_nothing_happens_before_the_lead_time(api: Api, manual_clock: ManualClock) -> None:
    buyer, sub = subscribed(api, manual_clock, "early")
    manual_clock.set(END - timedelta(hours=24, seconds=1))
    lifecycle()
    assert len(invoices_of(buyer.user_id)) == 1
    assert about("subscription.renewal_upcoming", sub["id"]) == []


def test_the_renewal_is_invoiced_at_the_lead_time_and_charged_to_the_saved_method(
    api: Api, manual_clock: ManualClock
) -> None:
    buyer, sub = subscribed(api, manual_clock, "renewed")
    manual_clock.set(END - timedelta(hours=24))
    lifecycle()

    first, renewal = invoices_of(buyer.user_id)
    assert (renewal.billing_reason, renewal.status, renewal.payment_method) == ("RENEWAL", "PAID", "sandbox")
    assert renewal.due_date == END and int(renewal.payment_attempts) == 1 and int(renewal.capture_count) == 1
    (line,) = renewal.lines
    assert (line.item_type, line.item_id, str(line.unit_price), str(line.net_amount), str(line.tax_amount)) == (
        "SUBSCRIPTION",
        sub["id"],
        "9.99",
        "9.99",
        "1.90",
    )
    assert (line.metadata["period_start"], line.metadata["period_end"]) == (
        "2026-06-01T09:00:00Z",
        "2026-07-01T09:00:00Z",
    )
    after = subscription(api, manual_clock, buyer, sub["id"])
    assert (after["status"], after["expires_at"]) == ("ACTIVE", "2026-07-01T09:00:00Z")
    assert after["has_saved_payment_method"] is True
    upcoming = about("subscription.renewal_upcoming", sub["id"])
    assert [(u["invoice_id"], u["amount"], u["currency"], u["period_start"], u["period_end"]) for u in upcoming] == [
        (renewal.id, "11.89", "EUR", "2026-06-01T09:00:00Z", "2026-07-01T09:00:00Z")
    ]
    renewed = about("subscription.renewed", sub["id"])
    assert [(r["invoice_id"], r["previous_expires_at"], r["expires_at"]) for r in renewed] == [
        (renewal.id, "2026-06-01T09:00:00Z", "2026-07-01T09:00:00Z")
    ]
    assert first.status == "PAID"
    guards = [g for g in BilledPeriodItem.scan() if isinstance(g, BilledPeriodItem) and g.holder_id == sub["id"]]
    assert [(g.invoice_id, g.period_start) for g in guards] == [(renewal.id, END)]


def test_repeated_runs_bill_and_charge_once(api: Api, manual_clock: ManualClock) -> None:
    buyer, sub = subscribed(api, manual_clock, "repeated")
    manual_clock.set(END - timedelta(hours=23))
    for _ in range(3):
        lifecycle()
    manual_clock.set(END - timedelta(hours=22))
    lifecycle()
    assert [i.billing_reason for i in invoices_of(buyer.user_id)] == ["SUBSCRIPTION_CREATE", "RENEWAL"]
    assert len(about("subscription.renewed", sub["id"])) == 1
    assert len(about("subscription.renewal_upcoming", sub["id"])) == 1


def test_overlapping_runs_bill_and_charge_once(api: Api, manual_clock: ManualClock, atomic_dynamodb: None) -> None:
    """Four consumers told about the same item at once: one issues, one charges; a run that finds the invoice's pay
    lock held fails its task (`StillDue`), and its redelivery finds nothing left to do."""
    from chalicelib.lifecycle.steps import StillDue, advance

    buyer, sub = subscribed(api, manual_clock, "overlap")
    manual_clock.set(END - timedelta(hours=23))

    def consumer(_: int) -> str:
        try:
            return ",".join(advance("subscription", buyer.user_id, sub["id"]))
        except StillDue:
            return "redeliver"

    outcomes = at_once(4, consumer)
    assert "renewal" in ",".join(outcomes)
    assert advance("subscription", buyer.user_id, sub["id"]) == []  # the redelivery
    renewals = [i for i in invoices_of(buyer.user_id) if i.billing_reason == "RENEWAL"]
    assert [(i.status, int(i.capture_count), int(i.payment_attempts)) for i in renewals] == [("PAID", 1, 1)]
    assert len(about("subscription.renewed", sub["id"])) == 1
    assert subscription(api, manual_clock, buyer, sub["id"])["expires_at"] == "2026-07-01T09:00:00Z"


def test_a_declined_renewal_falls_past_due_keeps_access_and_recovers_on_a_retry(
    api: Api, manual_clock: ManualClock
) -> None:
    buyer, sub = subscribed(api, manual_clock, "dunned")
    assert api.put("/api/v1/plugins/sandbox/outcome", {"outcome": "fail"}, token=buyer.token).status == 200
    failed_at = END - timedelta(hours=24)
    manual_clock.set(failed_at)
    lifecycle()

    after = subscription(api, manual_clock, buyer, sub["id"])
    assert (after["status"], after["is_valid"], after["expires_at"]) == ("PAST_DUE", True, "2026-06-01T09:00:00Z")
    renewal = invoices_of(buyer.user_id)[-1]
    assert (renewal.status, int(renewal.payment_attempts), renewal.last_payment_error) == (
        "PENDING",
        1,
        "card_declined",
    )
    failures = about("subscription.payment_failed", sub["id"])
    assert [(f["attempt"], f["next_retry_at"]) for f in failures] == [(1, "2026-06-01T09:00:00Z")]
    assert [p["past_due_since"] for p in about("subscription.past_due", sub["id"])] == ["2026-05-31T09:00:00Z"]

    manual_clock.set(failed_at + timedelta(days=1))  # retry 1 fails too
    lifecycle()
    failures = about("subscription.payment_failed", sub["id"])
    assert [(f["attempt"], f["next_retry_at"]) for f in failures][-1] == (2, "2026-06-03T09:00:00Z")

    token = relogin(api, buyer).token
    assert api.put("/api/v1/plugins/sandbox/outcome", {"outcome": "succeed"}, token=token).status == 200
    manual_clock.set(failed_at + timedelta(days=3))
    lifecycle()
    after = subscription(api, manual_clock, buyer, sub["id"])
    assert (after["status"], after["expires_at"]) == ("ACTIVE", "2026-07-01T09:00:00Z")
    renewal = invoices_of(buyer.user_id)[-1]
    assert (renewal.status, int(renewal.payment_attempts)) == ("PAID", 3)


def test_dunning_exhausted_expires_the_subscription_and_fails_the_invoice(api: Api, manual_clock: ManualClock) -> None:
    buyer, sub = subscribed(api, manual_clock, "exhausted")
    assert api.put("/api/v1/plugins/sandbox/outcome", {"outcome": "fail"}, token=buyer.token).status == 200
    failed_at = END - timedelta(hours=24)
    for days in (0, 1, 3, 5, 7):
        manual_clock.set(failed_at + timedelta(days=days))
        lifecycle()
    after = subscription(api, manual_clock, buyer, sub["id"])
    assert after["status"] == "EXPIRED"
    renewal = invoices_of(buyer.user_id)[-1]
    assert (renewal.status, int(renewal.payment_attempts)) == ("FAILED", 5)
    attempts = [(f["attempt"], f["next_retry_at"]) for f in about("subscription.payment_failed", sub["id"])]
    assert attempts == [
        (1, "2026-06-01T09:00:00Z"),
        (2, "2026-06-03T09:00:00Z"),
        (3, "2026-06-05T09:00:00Z"),
        (4, "2026-06-07T09:00:00Z"),
        (5, None),
    ]
    assert [e["reason"] for e in about("subscription.expired", sub["id"])] == ["dunning_exhausted"]


def test_the_sandbox_outcome_is_the_callers_and_refuses_anything_else(api: Api) -> None:
    buyer = german_buyer(api, "outcome")
    assert api.get("/api/v1/plugins/sandbox/outcome", token=buyer.token).json == {"outcome": "succeed"}
    answer = api.put("/api/v1/plugins/sandbox/outcome", {"outcome": "fail"}, token=buyer.token)
    assert (answer.status, answer.json) == (200, {"outcome": "fail"})
    assert api.get("/api/v1/plugins/sandbox/outcome", token=buyer.token).json == {"outcome": "fail"}
    other = german_buyer(api, "outcome-other")
    assert api.get("/api/v1/plugins/sandbox/outcome", token=other.token).json == {"outcome": "succeed"}
    for wrong in ("maybe", "FAIL", 1, 1.5, None, ["fail"], {"x": 1}, "x" * 10000):
        answer = api.put("/api/v1/plugins/sandbox/outcome", {"outcome": wrong}, token=buyer.token)
        assert answer.status == 400, answer.json
        assert answer.json["error"].startswith("Invalid outcome: ")
    surrogate = api.put(
        "/api/v1/plugins/sandbox/outcome",
        body='{"outcome": "\\ud800"}',
        token=buyer.token,
        headers={"Content-Type": "application/json"},
    )
    assert surrogate.status == 400 and "error" in surrogate.json
    assert api.get("/api/v1/plugins/sandbox/outcome").status == 401
