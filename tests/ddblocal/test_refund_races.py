"""Refunds of one invoice racing on DynamoDB's real transaction engine (checkout-and-payments.md §7.2): however many
admins refund at once, the invoice is never refunded beyond its total, the provider never gave back more than the
credit notes record, the credit-note numbers stay gapless and the ledger never goes negative."""

from __future__ import annotations

import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.audit.invariants import check_invoices, check_ledgers, check_refunds
from chalicelib.auth.principal import Principal
from chalicelib.core.errors import DomainError
from chalicelib.events.envelope import Actor
from chalicelib.invoices.repository import invoice_records
from chalicelib.payments.models import SandboxRefundedItem
from chalicelib.payments.schemas import PayBody
from chalicelib.payments.service import pay
from chalicelib.refunds.service import refund_invoice
from tests.contract import BASIC, TOKENS_100
from tests.ddblocal.invariants_here import numbered_by_the_product
from tests.ddblocal.test_money_races import buy, ledger_of, new_customer

pytestmark = pytest.mark.usefixtures("ddb_stack")
ADMIN = Actor("admin", "race-admin")
ALLOWED_REFUSALS = ("Refund amount exceeds refundable amount", "Cannot refund: invoice status is REFUNDED")


def paid_invoice() -> tuple[Principal, str]:
    """A buyer who paid with the sandbox for the Basic plan (50 tokens) and 100 tokens (12.99 EUR, no tax)."""
    buyer = new_customer()
    bought = buy(buyer, plan_id=BASIC, token_bundle_ids=[TOKENS_100], payment_method_code="sandbox")
    invoice_id = bought["invoice"]["id"]
    pay(buyer, invoice_id, PayBody(payment_method_code="sandbox"))
    return buyer, invoice_id


def racing(amounts: list[Decimal | None], invoice_id: str) -> list[Any]:
    def run(amount: Decimal | None) -> Any:
        try:
            return refund_invoice(invoice_id, amount, reason="race", refund_reference=None, actor=ADMIN)
        except DomainError as exc:
            return exc
        except Exception:
            return traceback.format_exc()

    with ThreadPoolExecutor(max_workers=len(amounts)) as pool:
        return list(pool.map(run, amounts))


def assert_consistent(buyer: Principal, invoice_id: str, results: list[Any]) -> Decimal:
    """Nothing crashed, every refusal is one the contract names, and what is stored adds up; the refunded total."""
    crashes = [r for r in results if isinstance(r, str)]
    assert not crashes, crashes[0]
    refusals = Counter(r.message.split(" (")[0] for r in results if isinstance(r, DomainError))
    assert set(refusals) <= {*ALLOWED_REFUSALS, "Concurrent modification, please retry"}, refusals
    records = invoice_records(invoice_id)
    assert records is not None
    invoice, notes = records.invoice, records.credit_notes
    succeeded = [r for r in results if not isinstance(r, DomainError)]
    assert len(notes) == len(succeeded)
    assert invoice.amount_refunded == sum((n.amount for n in notes), Decimal(0)) <= invoice.total_amount
    assert sum(1 for n in notes if n.full_refund) == (1 if invoice.status == "REFUNDED" else 0)
    provider = SandboxRefundedItem.get(*SandboxRefundedItem.key(invoice_id), consistent_read=True)
    assert provider.refunded == invoice.amount_refunded  # the provider gave back exactly what the notes record
    balance, entries = ledger_of(buyer.user_id)
    assert balance >= 0 and all(int(e.balance_after) >= 0 for e in entries)
    assert numbered_by_the_product(check_invoices()) == []
    assert [v for v in check_refunds() if v.subject == invoice.invoice_number] == []
    assert [v for v in check_ledgers() if v.subject == buyer.user_id] == []
    return Decimal(invoice.amount_refunded)


@pytest.mark.parametrize("threads", [8, 16])
def test_partial_refunds_at_once_never_pass_the_total(threads: int) -> None:
    buyer, invoice_id = paid_invoice()

    results = racing([Decimal("2.00")] * threads, invoice_id)

    refunded = assert_consistent(buyer, invoice_id, results)
    assert refunded == Decimal("2.00") * sum(1 for r in results if not isinstance(r, DomainError))
    assert refunded == Decimal("12.00")  # six refunds of 2.00 fit in 12.99, a seventh never


def test_full_refunds_at_once_refund_once() -> None:
    buyer, invoice_id = paid_invoice()

    results = racing([None] * 8, invoice_id)

    assert assert_consistent(buyer, invoice_id, results) == Decimal("12.99")
    assert sum(1 for r in results if not isinstance(r, DomainError)) == 1
    balance, entries = ledger_of(buyer.user_id)
    assert balance == 0
    assert sorted(int(e.amount) for e in entries if e.transaction_type == "REFUND") == [-100, -50]


def test_partial_and_full_refunds_mixed() -> None:
    buyer, invoice_id = paid_invoice()
    amounts: list[Decimal | None] = [Decimal("3.00"), Decimal("5.50"), None, Decimal("7.25"), None, Decimal("1.00")]

    results = racing(amounts * 2, invoice_id)

    refunded = assert_consistent(buyer, invoice_id, results)
    records = invoice_records(invoice_id)
    assert records is not None
    if records.invoice.status == "REFUNDED":
        assert refunded == Decimal("12.99")
        assert ledger_of(buyer.user_id)[0] == 0
    else:
        assert refunded < Decimal("12.99") and ledger_of(buyer.user_id)[0] == 150
