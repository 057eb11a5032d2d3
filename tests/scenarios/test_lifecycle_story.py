"""What the lifecycle scenarios share: a customer on a moving clock, the job run as the scheduler and the worker
would, and the story read back through the API — every invoice line, the subscription, the token ledger and the
customer's own events in the order they were written.

(A module of helpers: the scenarios are in the other `test_lifecycle_*.py` files.)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.core import clock
from chalicelib.core.ids import seed_id
from tests.contract import PASSWORD
from tests.integration.conftest import Api, drain_events

Row = tuple[str, str, str | None, str | None, str, str, str, str]


@pytest.fixture
def at() -> Iterator[Any]:
    """Set the system clock: `at("2026-01-31T10:00:00")`."""
    manual = clock.ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    previous = clock.use_clock(manual)

    def move(moment: str) -> clock.ManualClock:
        manual.set(datetime.fromisoformat(moment).replace(tzinfo=UTC))
        return manual

    yield move
    clock.use_clock(previous)


def job() -> None:
    """One run of `subscription-lifecycle`, and the worker draining its tasks and the events they wrote."""
    from chalicelib.jobs import run

    run("subscription-lifecycle")
    drain_events()
    drain_events()


class Customer:
    """A registered customer and what they see through the API."""

    def __init__(self, api: Api, email: str, country: str | None = "DE") -> None:
        self.api, self.email = api, email
        answer = api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD}).json
        self.id = answer["user_id"]
        self.seen: set[str] = set()
        if country:
            assert api.put("/api/v1/user/details", {"country": country}, token=answer["token"]).status == 200
        self.events()  # registration is not part of the story

    @property
    def token(self) -> str:
        return self.api.token(self.email, PASSWORD)

    def buy(self, plan: str | None = None, addons: tuple[str, ...] = (), **body: Any) -> dict[str, Any]:
        basket: dict[str, Any] = {"payment_method_code": "sandbox", **body}
        if plan:
            basket["plan_id"] = seed_id("plan", plan)
        if addons:
            basket["add_on_ids"] = [seed_id("addon", slug) for slug in addons]
        answer = self.api.post("/api/v1/user/checkout", basket, token=self.token)
        assert answer.status == 201, answer.json
        return answer.json  # type: ignore[no-any-return]

    def pay(self, invoice_id: str, **body: Any) -> dict[str, Any]:
        answer = self.api.post(f"/api/v1/user/invoices/{invoice_id}/pay", body, token=self.token)
        assert answer.status in (200, 202), answer.json
        return answer.json  # type: ignore[no-any-return]

    def subscribe(self, plan: str, **body: Any) -> dict[str, Any]:
        """Buy and pay a plan with the sandbox (a saved method); the subscription as read after."""
        bought = self.buy(plan, **body)
        self.pay(bought["invoice"]["id"])
        return self.subscription(bought["subscription"]["id"])

    def outcome(self, outcome: str) -> None:
        answer = self.api.put("/api/v1/plugins/sandbox/outcome", {"outcome": outcome}, token=self.token)
        assert answer.json == {"outcome": outcome}

    def subscription(self, sub_id: str) -> dict[str, Any]:
        answer = self.api.get(f"/api/v1/user/subscriptions/{sub_id}", token=self.token)
        return answer.json["subscription"]  # type: ignore[no-any-return]

    def state(self, sub_id: str) -> tuple[str, str | None, bool]:
        sub = self.subscription(sub_id)
        return sub["status"], sub["expires_at"], sub["is_valid"]

    def addon(self, addon_sub_id: str) -> dict[str, Any]:
        answer = self.api.get("/api/v1/user/addons", token=self.token).json
        return next(a for a in answer["addon_subscriptions"] if a["id"] == addon_sub_id)

    def invoices(self) -> list[dict[str, Any]]:
        """Every invoice of the customer, oldest first."""
        answer = self.api.get("/api/v1/user/invoices", token=self.token).json
        return sorted(answer["invoices"], key=lambda i: i["invoice_number"])

    def balance(self) -> int:
        return int(self.api.get("/api/v1/user/tokens/balance", token=self.token).json["balance"])

    def ledger(self) -> list[tuple[str, int, int]]:
        """Token transactions, oldest first: (type, amount, balance after)."""
        answer = self.api.get("/api/v1/user/tokens/transactions", token=self.token).json["transactions"]
        return [(t["transaction_type"], t["amount"], t["balance_after"]) for t in reversed(answer)]

    def events(self) -> list[str]:
        """The customer's events written since the last look, in the order each transaction wrote them (the
        seeded accounts' lives on the same clock are not part of this story)."""
        from chalicelib.invoices.models import InvoiceItem
        from chalicelib.store.outbox import OutboxItem

        mine = {i.id for i in InvoiceItem.scan() if isinstance(i, InvoiceItem) and i.user_id == self.id}
        batches = sorted((i for i in OutboxItem.scan() if i.batch_id not in self.seen), key=_written_order)
        self.seen.update(batch.batch_id for batch in batches)
        found: list[str] = []
        for batch in batches:
            for envelope in batch.envelopes:
                data = envelope.get("data") or {}
                if data.get("user_id") == self.id or data.get("invoice_id") in mine:
                    found.append(envelope["type"])
        return found

    def events_of(self, event_type: str) -> list[dict[str, Any]]:
        """Every event of one type about the customer, oldest first (data only)."""
        from chalicelib.store.outbox import OutboxItem

        batches = sorted((i for i in OutboxItem.scan() if isinstance(i, OutboxItem)), key=_written_order)
        return [
            e["data"]
            for batch in batches
            for e in batch.envelopes
            if e["type"] == event_type and (e.get("data") or {}).get("user_id") == self.id
        ]


# One run of the job writes several transactions at the same (manual) instant; they happen in this order: the
# invoice is issued (or the reminder sent), then the charge's outcome, then what ends the subscription.
_FIRST_IN_RUN = ("invoice.created", "subscription.trial_will_end")
_LAST_IN_RUN = ("subscription.expired", "subscription.cancelled", "addon.expired", "addon.cancelled")


def _written_order(batch: Any) -> tuple[Any, int]:
    first = batch.envelopes[0]["type"] if batch.envelopes else ""
    return batch.created_at, 0 if first in _FIRST_IN_RUN else 2 if first in _LAST_IN_RUN else 1


def rows(invoice: dict[str, Any]) -> list[Row]:
    """Each line: type, description, period start, period end, unit price, net, tax, gross."""
    return [
        (
            line["item_type"],
            line["description"],
            line["metadata"].get("period_start"),
            line["metadata"].get("period_end"),
            line["unit_price"],
            line["net_amount"],
            line["tax_amount"],
            line["gross_amount"],
        )
        for line in invoice["line_items"]
    ]


def totals(invoice: dict[str, Any]) -> tuple[str, str, str, str, str]:
    """Billing reason, status, subtotal, tax, total."""
    return (
        invoice["billing_reason"],
        invoice["status"],
        invoice["subtotal"],
        invoice["tax_amount"],
        invoice["total_amount"],
    )


RENEWED = [  # a renewal that was issued and charged in one run, in the order the transactions wrote them
    "invoice.created",
    "subscription.renewal_upcoming",
    "payment.captured",
    "invoice.paid",
    "subscription.renewed",
]
