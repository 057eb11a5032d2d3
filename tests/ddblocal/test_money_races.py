"""Money paths raced against DynamoDB's real transaction engine (DynamoDB Local).

Each test runs the services from many threads at once against one item (an invoice, a balance, a number
sequence) and checks the invariants the contract promises: one capture per invoice, no double credit, no
negative balance, no lost update, gapless distinct invoice numbers, nothing left behind by a refused checkout.
"""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from chalicelib.auth.principal import Principal, authenticate
from chalicelib.auth.schemas import RegisterBody
from chalicelib.auth.service import register
from chalicelib.checkout.schemas import CheckoutBody
from chalicelib.checkout.service import checkout
from chalicelib.core.errors import BadRequest, Conflict, DomainError, PaymentRequired
from chalicelib.core.ids import new_id
from chalicelib.events.envelope import Actor
from chalicelib.invoices.repository import invoices_of
from chalicelib.payments.capture import NotCapturable, capture
from chalicelib.payments.outcomes import Payment
from chalicelib.subscriptions.repository import holdings_of
from chalicelib.tokens.models import TokenBalanceItem, TokenEntryItem
from chalicelib.tokens.schemas import ConsumeBody
from chalicelib.tokens.service import consume
from tests.contract import BASIC, PASSWORD, PRIORITY_SUPPORT, TOKENS_100

pytestmark = pytest.mark.usefixtures("ddb_stack")


def new_customer() -> Principal:
    answer = register(RegisterBody(email=f"race-{new_id()[:8]}@example.com", password=PASSWORD))
    return authenticate(f"Bearer {answer['token']}")


def buy(principal: Principal, **basket: Any) -> dict[str, Any]:
    """Check out as the route does: the body validated into its model, then the service."""
    return checkout(principal, CheckoutBody.model_validate(basket).basket())


def spend(principal: Principal, **body: Any) -> dict[str, Any]:
    return consume(principal, ConsumeBody.model_validate(body))


def all_at_once(count: int, call: Any) -> list[Any]:
    def attempt(index: int) -> Any:
        try:
            return call(index)
        except (DomainError, NotCapturable) as exc:
            return exc

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(attempt, range(count)))


def ledger_of(user_id: str) -> tuple[int, list[TokenEntryItem]]:
    pk, sk = TokenBalanceItem.key(user_id)
    balance = TokenBalanceItem.get(pk, sk, consistent_read=True)
    entries = list(TokenEntryItem.query(pk, TokenEntryItem.sk.startswith("ENTRY#"), consistent_read=True))
    return int(balance.balance), entries


def test_concurrent_checkouts_take_distinct_gapless_numbers() -> None:
    buyers = [new_customer() for _ in range(12)]
    answers = all_at_once(12, lambda i: buy(buyers[i], plan_id=BASIC))
    numbers = sorted(a["invoice"]["invoice_number"] for a in answers if not isinstance(a, Exception))
    failures = [a for a in answers if isinstance(a, Exception)]
    assert all(isinstance(f, Conflict) for f in failures)  # only ever "retry", never a half-done checkout
    assert len(numbers) + len(failures) == 12 and len(numbers) >= 1
    sequence = [int(re.match(r"^INV-\d{4}-(\d{6})$", n).group(1)) for n in numbers]
    assert sequence == list(range(sequence[0], sequence[0] + len(sequence)))  # distinct and without gaps


def test_twenty_simultaneous_captures_of_one_invoice_activate_once() -> None:
    buyer = new_customer()
    invoice_id = buy(buyer, plan_id=BASIC, token_bundle_ids=[TOKENS_100])["invoice"]["id"]
    actor = Actor("provider", "sandbox")
    results = all_at_once(20, lambda i: capture(invoice_id, Payment("sandbox", f"sandbox_race_{i}"), actor))
    captured = [r for r in results if not isinstance(r, Exception)]
    assert len(captured) == 1
    assert all(isinstance(r, (NotCapturable, Conflict)) for r in results if isinstance(r, Exception))
    balance, entries = ledger_of(buyer.user_id)
    assert balance == 150 and sorted(e.amount for e in entries) == [50, 100]
    [subscription], _ = holdings_of(buyer.user_id)
    assert subscription.status == "ACTIVE"
    [invoice] = invoices_of(buyer.user_id)
    assert invoice.status == "PAID" and invoice.payment_ref == captured[0].invoice.payment_ref


def test_fifty_parallel_debits_never_overdraw_and_lose_no_update() -> None:
    buyer = new_customer()
    invoice_id = buy(buyer, token_bundle_ids=[TOKENS_100])["invoice"]["id"]
    capture(invoice_id, Payment("sandbox", "sandbox_fund"), Actor("provider", "sandbox"))
    results = all_at_once(50, lambda i: spend(buyer, amount=3))
    debited = [r for r in results if isinstance(r, dict)]
    outcome = Counter(type(r).__name__ for r in results)
    assert set(outcome) <= {"dict", "PaymentRequired", "Conflict"}
    assert len(debited) <= 33
    balance, entries = ledger_of(buyer.user_id)
    assert balance == 100 - 3 * len(debited) >= 0
    assert balance == sum(e.amount for e in entries)
    usage = sorted((e for e in entries if e.transaction_type == "USAGE"), key=lambda e: e.sequence)
    assert len(usage) == len(debited)
    assert [e.sequence for e in sorted(entries, key=lambda e: e.sequence)] == list(range(1, len(entries) + 1))
    running = 0
    for entry in sorted(entries, key=lambda e: e.sequence):
        running += entry.amount
        assert entry.balance_after == running >= 0
    if outcome["PaymentRequired"]:
        assert balance < 3 or outcome["Conflict"]  # refused only when the balance could not cover it


def test_one_reference_consumes_once_under_a_race() -> None:
    buyer = new_customer()
    invoice_id = buy(buyer, token_bundle_ids=[TOKENS_100])["invoice"]["id"]
    capture(invoice_id, Payment("sandbox", "sandbox_fund"), Actor("provider", "sandbox"))
    results = all_at_once(20, lambda i: spend(buyer, amount=7, reference="job-42"))
    answered = [r for r in results if isinstance(r, dict)]
    assert answered and all(r["transaction"]["id"] == answered[0]["transaction"]["id"] for r in answered)
    balance, entries = ledger_of(buyer.user_id)
    assert balance == 93 and [e.amount for e in entries if e.transaction_type == "USAGE"] == [-7]


def test_bad_requests_never_write(ddb_stack: dict[str, object]) -> None:
    buyer = new_customer()
    with pytest.raises(BadRequest):
        buy(buyer, plan_id=BASIC, add_on_ids=[PRIORITY_SUPPORT])
    with pytest.raises(PaymentRequired):
        spend(buyer, amount=1)
    assert invoices_of(buyer.user_id) == []
