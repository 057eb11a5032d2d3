"""The lifecycle's definition of done over HTTP on the running `make run` stack (issue 7).

A person buys `basic` with the sandbox, moves the whole system's clock with the local dev route, runs the
`subscription-lifecycle` job and sees a PAID renewal, the period extended by one calendar month and the plan tokens
credited again; with the sandbox outcome set to fail they see PAST_DUE, the retries, and EXPIRED after the last one.
The file runs late in the tier (the clock only moves forward) and puts the clock back at the end.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from dateutil.relativedelta import relativedelta

from chalicelib.core.ids import seed_id
from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e
PASSWORD = "E2e-Passw0rd!"
RETRY_DAYS = [1, 3, 5, 7]  # subscriptions.md §13 default


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Person:
    """A user of the stack who logs in again whenever the clock has moved past their token."""

    def __init__(self, stack: LocalStack, email: str, password: str) -> None:
        self.stack, self.email, self.password = stack, email, password

    def headers(self) -> dict[str, str]:
        answer = requests.post(
            self.stack.url("/api/v1/auth/login"), json={"email": self.email, "password": self.password}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, self.stack.url(path), headers=self.headers(), timeout=30, **kwargs)

    def get(self, path: str) -> Any:
        answer = self.call("GET", path)
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture(scope="module")
def admin(local_stack: LocalStack) -> Iterator[Person]:
    operator = Person(local_stack, "admin@example.com", "AdminPass123@")
    yield operator
    back = operator.call("POST", "/api/v1/admin/dev/clock", json={"reset": True})
    assert back.status_code == 200, back.text
    assert back.json()["offset_seconds"] == 0


def customer(stack: LocalStack) -> Person:
    email = f"e2e.renewal.{uuid.uuid4().hex[:8]}@example.com"
    registered = requests.post(
        stack.url("/api/v1/auth/register"), json={"email": email, "password": PASSWORD}, timeout=10
    )
    assert registered.status_code == 200, registered.text
    person = Person(stack, email, PASSWORD)
    assert person.call("PUT", "/api/v1/user/details", json={"country": "DE"}).status_code == 200
    return person


def buy_basic(person: Person) -> dict[str, Any]:
    bought = person.call(
        "POST",
        "/api/v1/user/checkout",
        json={"plan_id": seed_id("plan", "basic"), "payment_method_code": "sandbox"},
    )
    assert bought.status_code == 201, bought.text
    invoice = bought.json()["invoice"]
    paid = person.call("POST", f"/api/v1/user/invoices/{invoice['id']}/pay", json={})
    assert paid.status_code == 200, paid.text
    subscription = person.get("/api/v1/user/subscriptions/active")["subscription"]
    assert subscription["status"] == "ACTIVE"
    return subscription


def move_clock_to(admin: Person, moment: datetime) -> datetime:
    now = when(admin.get("/api/v1/admin/dev/clock")["now"])
    seconds = int((moment - now).total_seconds())
    assert seconds > 0, "the tier's clock only moves forward"
    moved = admin.call("POST", "/api/v1/admin/dev/clock", json={"advance_seconds": seconds})
    assert moved.status_code == 200, moved.text
    return when(moved.json()["now"])


def run_lifecycle(admin: Person) -> dict[str, Any]:
    ran = admin.call("POST", "/api/v1/admin/dev/jobs/subscription-lifecycle/run")
    assert ran.status_code == 200, ran.text
    assert ran.json()["job"] == "subscription-lifecycle"
    return ran.json()["result"]  # type: ignore[no-any-return]


def invoices_of(person: Person) -> list[dict[str, Any]]:
    return person.get("/api/v1/user/invoices?limit=100")["invoices"]  # type: ignore[no-any-return]


def test_a_month_later_basic_renews_paid_with_its_tokens(local_stack: LocalStack, admin: Person) -> None:
    person = customer(local_stack)
    bought = buy_basic(person)
    expires = when(bought["expires_at"])
    assert person.get("/api/v1/user/tokens/balance") == {"balance": 50}

    move_clock_to(admin, expires - timedelta(hours=1))  # inside the 24 h lead time
    run_lifecycle(admin)

    renewed = person.get("/api/v1/user/subscriptions/active")["subscription"]
    assert (renewed["id"], renewed["status"]) == (bought["id"], "ACTIVE")
    assert when(renewed["expires_at"]) == expires + relativedelta(months=1)  # one calendar month more
    invoices = invoices_of(person)
    [renewal] = [i for i in invoices if i["billing_reason"] == "RENEWAL"]
    assert renewal["status"] == "PAID"
    assert len(invoices) == 2
    [line] = renewal["line_items"]
    period = (when(line["metadata"]["period_start"]), when(line["metadata"]["period_end"]))
    assert period == (expires, expires + relativedelta(months=1))
    assert (renewal["subtotal"], renewal["tax_amount"], renewal["total_amount"]) == ("9.99", "1.90", "11.89")
    assert person.get("/api/v1/user/tokens/balance") == {"balance": 100}
    ledger = person.get("/api/v1/user/tokens/transactions")
    assert sorted((t["transaction_type"], t["amount"]) for t in ledger["transactions"]) == [
        ("SUBSCRIPTION", 50),
        ("SUBSCRIPTION", 50),
    ]

    run_lifecycle(admin)  # a second run changes nothing
    assert len(invoices_of(person)) == 2
    assert person.get("/api/v1/user/tokens/balance") == {"balance": 100}


def test_a_failing_card_goes_past_due_retries_and_expires(local_stack: LocalStack, admin: Person) -> None:
    person = customer(local_stack)
    bought = buy_basic(person)
    expires = when(bought["expires_at"])
    failing = person.call("PUT", "/api/v1/plugins/sandbox/outcome", json={"outcome": "fail"})
    assert failing.status_code == 200 and failing.json() == {"outcome": "fail"}, failing.text
    assert person.get("/api/v1/plugins/sandbox/outcome") == {"outcome": "fail"}

    first_failure = move_clock_to(admin, expires - timedelta(hours=1))
    run_lifecycle(admin)
    past_due = person.get(f"/api/v1/user/subscriptions/{bought['id']}")["subscription"]
    assert past_due["status"] == "PAST_DUE"
    assert past_due["is_valid"] is True  # access continues while dunning runs
    assert past_due["dunning_attempts"] == 1

    for attempt, day in enumerate(RETRY_DAYS[:-1], start=2):
        move_clock_to(admin, first_failure + timedelta(days=day, minutes=1))
        run_lifecycle(admin)
        retried = person.get(f"/api/v1/user/subscriptions/{bought['id']}")["subscription"]
        assert (retried["status"], retried["dunning_attempts"]) == ("PAST_DUE", attempt)

    move_clock_to(admin, first_failure + timedelta(days=RETRY_DAYS[-1], minutes=1))
    run_lifecycle(admin)
    expired = person.get(f"/api/v1/user/subscriptions/{bought['id']}")["subscription"]
    assert expired["status"] == "EXPIRED"
    assert expired["is_valid"] is False
    reasons = sorted((i["billing_reason"], i["status"]) for i in invoices_of(person))
    assert reasons == [("RENEWAL", "FAILED"), ("SUBSCRIPTION_CREATE", "PAID")]
    assert person.get("/api/v1/user/tokens/balance") == {"balance": 50}  # no tokens for an unpaid period
