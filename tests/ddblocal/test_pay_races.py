"""Pays racing on DynamoDB's real transaction engine (DynamoDB Local): pays of one invoice switching it to different
methods, and cancelling an add-on while its invoice is being paid. Every answer is a result or a domain error
(what the edge turns into 4xx) — never anything that would be a 500 — and what is stored is consistent."""

from __future__ import annotations

import functools
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from chalicelib.core.errors import BadRequest, Conflict, DomainError
from chalicelib.invoices.repository import counts_of, invoice_records
from chalicelib.payments.outcomes import PaymentKind, PaymentOutcome
from chalicelib.payments.schemas import PayBody
from chalicelib.payments.service import pay
from chalicelib.subscriptions.repository import holdings_of
from chalicelib.subscriptions.service import cancel_addon
from tests.contract import BASIC, ONBOARDING, TOKENS_100
from tests.ddblocal.test_money_races import buy, ledger_of, new_customer

pytestmark = pytest.mark.usefixtures("ddb_stack")


def racing(calls: list[Any]) -> list[Any]:
    """Run the calls at once; each gives its result, its domain error, or the traceback of anything else."""

    def run(call: Any) -> Any:
        try:
            return call()
        except DomainError as exc:
            return exc
        except Exception:
            return traceback.format_exc()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_pays_switching_one_invoice_to_different_methods() -> None:
    buyer = new_customer()
    invoice_id = buy(buyer, plan_id=BASIC, token_bundle_ids=[TOKENS_100], payment_method_code="invoice")["invoice"][
        "id"
    ]
    methods = ["sandbox", "invoice"] * 8

    results = racing([lambda m=m: pay(buyer, invoice_id, PayBody(payment_method_code=m)) for m in methods])

    crashes = [r for r in results if isinstance(r, str)]
    assert not crashes, crashes[0]
    outcomes = Counter(r.kind if isinstance(r, PaymentOutcome) else type(r).__name__ for r in results)
    assert outcomes[PaymentKind.CAPTURED] <= 1, outcomes
    assert set(outcomes) <= {PaymentKind.CAPTURED, PaymentKind.INSTRUCTIONS, "BadRequest", "Conflict"}, outcomes
    for result in results:
        if isinstance(result, BadRequest):
            assert result.message == "Invoice already paid"
        elif isinstance(result, Conflict):
            assert result.message in (
                "Payment already in progress for this invoice",
                "Concurrent modification, please retry",
            )
    records = invoice_records(invoice_id)
    assert records is not None
    if outcomes[PaymentKind.CAPTURED]:
        assert records.invoice.status == "PAID"
        assert ledger_of(buyer.user_id)[0] == 150
    counts = counts_of(buyer.user_id)
    assert counts is not None and counts.total == 1
    assert counts.count_of(records.invoice.status) == 1


ROUNDS = 5


def test_cancelling_an_add_on_while_its_invoice_is_paid() -> None:
    rounds = ROUNDS
    buyer = new_customer()
    for _ in range(rounds):
        bought = buy(buyer, add_on_ids=[ONBOARDING], payment_method_code="sandbox")
        invoice_id, addon_id = bought["invoice"]["id"], bought["add_ons"][0]["id"]

        paid, cancelled = racing(
            [functools.partial(pay, buyer, invoice_id, PayBody()), functools.partial(cancel_addon, buyer, addon_id)]
        )

        for result in (paid, cancelled):
            assert not isinstance(result, str), result
        records = invoice_records(invoice_id)
        assert records is not None
        [addon] = [a for a in holdings_of(buyer.user_id)[1] if a.id == addon_id]
        if isinstance(paid, PaymentOutcome):
            assert paid.kind is PaymentKind.CAPTURED and records.invoice.status == "PAID"
        else:
            assert isinstance(paid, (BadRequest, Conflict)), paid
            assert records.invoice.status in ("PENDING", "CANCELLED")
            if records.invoice.status == "CANCELLED":
                assert addon.status == "CANCELLED"
    counts = counts_of(buyer.user_id)
    assert counts is not None and counts.total == rounds
    assert sum(counts.count_of(s) for s in ("PENDING", "PAID", "CANCELLED")) == rounds
