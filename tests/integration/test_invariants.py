"""The invariant checker finds each kind of broken money it is there for (and none in a healthy account)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from chalicelib.audit.invariants import check_all
from chalicelib.core import clock
from chalicelib.invoices.models import InvoiceItem
from chalicelib.store.numbering import NumberGuardItem
from chalicelib.subscriptions.models import SubscriptionItem
from chalicelib.tokens.models import TokenBalanceItem, TokenEntryItem
from tests.integration.buyers import buy_tokens, register_buyer


def rules(now=None) -> set[str]:
    return {v.rule for v in check_all(now or clock.now())}


@pytest.fixture
def customer(fresh_api):
    buyer = register_buyer(fresh_api, "audit")
    buy_tokens(fresh_api, buyer.token)  # a paid invoice, a ledger entry
    return buyer


def first(model, **match):
    return next(i for i in model.scan() if isinstance(i, model) and all(getattr(i, k) == v for k, v in match.items()))


def test_a_healthy_account_holds_every_invariant(customer):
    assert check_all(clock.now()) == []


def test_a_balance_that_is_not_the_sum_of_its_ledger(customer):
    balance = first(TokenBalanceItem, user_id=customer.user_id)
    balance.balance = int(balance.balance) + 1
    balance.save()
    assert rules() == {"ledger"}


def test_an_entry_that_breaks_the_running_balance(customer):
    entry = first(TokenEntryItem, user_id=customer.user_id)
    entry.balance_after = int(entry.balance_after) - 1
    entry.save()
    assert rules() == {"ledger"}


def test_an_invoice_whose_total_is_not_the_sum_of_its_lines(customer):
    invoice = first(InvoiceItem, user_id=customer.user_id)
    invoice.total_amount = invoice.total_amount + Decimal("0.01")
    invoice.save()
    assert rules() == {"invoice"}


def test_a_number_nobody_holds_is_a_gap(customer):
    invoice = first(InvoiceItem, user_id=customer.user_id)
    NumberGuardItem.get(*NumberGuardItem.key(invoice.invoice_number)).delete()
    assert rules() == {"numbering"}


def test_a_number_taken_and_left_unvoided(customer):
    number = first(InvoiceItem, user_id=customer.user_id).invoice_number
    prefix, year, value = number.rsplit("-", 2)
    orphan = f"{prefix}-{year}-{int(value) + 1:06d}"
    NumberGuardItem(*NumberGuardItem.key(orphan), owner_id="a-document-that-never-was").save()
    assert rules() == {"numbering"}
    NumberGuardItem(*NumberGuardItem.key(orphan), owner_id="VOID").save()
    assert rules() == set()


def test_a_period_paid_twice(customer):
    invoice = first(InvoiceItem, user_id=customer.user_id)
    twin = InvoiceItem.from_raw_data(invoice.serialize())
    line = invoice.lines[0]
    line.item_type, line.item_id = "SUBSCRIPTION", "sub-1"
    line.metadata = {"billing_reason": "RENEWAL", "period_start": "2026-06-01T00:00:00Z"}
    invoice.save()
    twin.pk, twin.id = "INVOICE#twin", "twin"
    twin.line_items = invoice.line_items
    twin.save(add_version_condition=False)
    assert "periods" in rules()


def test_an_active_subscription_past_its_paid_period(fresh_api):
    sub = next(s for s in SubscriptionItem.scan() if isinstance(s, SubscriptionItem) and s.status == "ACTIVE")
    assert "coverage" in rules(sub.expires_at + timedelta(seconds=1))


def test_an_invoice_captured_twice(customer):
    invoice = first(InvoiceItem, user_id=customer.user_id)
    invoice.capture_count = 2
    invoice.save()
    assert rules() == {"captures"}
