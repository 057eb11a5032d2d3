"""Random lives of customers, driven through the services, with the money's invariants checked after every step.

A Hypothesis state machine mixes checkouts (plans, add-ons, bundles), payments that succeed or are declined,
off-session charges that start failing or succeeding again, token spending, upgrades and downgrades, pauses and
resumes, cancellations (at period end or at once) and reactivations, add-on cancellations, and clock moves after
which the scheduled jobs run and the queues drain — for a few customers at once. After every step
`chalicelib.audit.invariants.check_all` must find nothing; Hypothesis shrinks any sequence that breaks one to the
shortest it can find. Refusals (`DomainError`) are part of a life: the invariants say whether one left anything
behind.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule
from pydantic import ValidationError

from chalicelib.audit.invariants import check_all, report
from chalicelib.auth.principal import Principal, authenticate
from chalicelib.auth.schemas import RegisterBody
from chalicelib.auth.service import register
from chalicelib.checkout.schemas import CheckoutBody
from chalicelib.checkout.service import checkout
from chalicelib.core import clock
from chalicelib.core.errors import DomainError
from chalicelib.core.ids import new_id
from chalicelib.payments.schemas import PayBody, SandboxOutcomeBody
from chalicelib.payments.service import pay, set_sandbox_outcome
from chalicelib.subscriptions import service as subscriptions
from chalicelib.subscriptions.repository import live_holdings
from chalicelib.tokens.schemas import ConsumeBody
from chalicelib.tokens.service import consume
from tests.contract import BASIC, EXTRA_STORAGE, PASSWORD, PRIORITY_SUPPORT, PRO, TOKENS_100
from tests.integration.conftest import drain_events

PLANS = [BASIC, PRO]
ADD_ONS = [EXTRA_STORAGE, PRIORITY_SUPPORT]
STEPS = 12
EXAMPLES = 8
START = datetime.now(UTC)  # the seed's subscriptions are dated from the real now


def settle() -> None:
    """What the system does on its own between two requests: its scheduled jobs, then its queues."""
    from chalicelib.jobs import JOBS, run

    for job in JOBS:
        run(job.name)
    drain_events()


def attempt(call: Callable[..., Any], *args: Any) -> None:
    with suppress(DomainError):  # refused by a rule: whether that left anything behind is for the invariants to say
        call(*args)


class CustomerLives(RuleBasedStateMachine):
    customers = Bundle("customers")
    invoices = Bundle("invoices")
    latest = START  # examples share the account, so the clock only moves forward across them

    @initialize()
    def start_the_clock(self) -> None:
        self.clock = clock.ManualClock(CustomerLives.latest + timedelta(days=1))
        self.previous = clock.use_clock(self.clock)
        settle()

    def teardown(self) -> None:
        CustomerLives.latest = self.clock.now()
        clock.use_clock(self.previous)

    @rule(target=customers)
    def register(self) -> Principal:
        answer = register(RegisterBody(email=f"life-{new_id()[:10]}@example.com", password=PASSWORD))
        return authenticate(f"Bearer {answer['token']}")

    @rule(
        target=invoices,
        customer=customers,
        plan=st.sampled_from([None, *PLANS]),
        add_ons=st.lists(st.sampled_from(ADD_ONS), max_size=2, unique=True),
        bundles=st.integers(min_value=0, max_value=2),
    )
    def check_out(self, customer: Principal, plan: str | None, add_ons: list[str], bundles: int) -> str:
        basket: dict[str, Any] = {"token_bundle_ids": [TOKENS_100] * bundles, "add_on_ids": add_ons}
        if plan is not None:
            basket["plan_id"] = plan
        try:
            answer = checkout(customer, CheckoutBody.model_validate(basket).basket())
        except (DomainError, ValidationError):
            return ""  # refused (an empty basket, a category already held): nothing may have been written
        return f"{customer.user_id}/{answer['invoice']['id']}"

    @rule(customer=customers, invoice=invoices, outcome=st.sampled_from(["succeed", "succeed", "fail"]))
    def pay_an_invoice(self, customer: Principal, invoice: str, outcome: str) -> None:
        owner, _, invoice_id = invoice.partition("/")
        if invoice_id and owner == customer.user_id:
            attempt(pay, customer, invoice_id, PayBody.model_validate({"sandbox_outcome": outcome}))

    @rule(customer=customers, outcome=st.sampled_from(["succeed", "fail"]))
    def saved_card_starts_to(self, customer: Principal, outcome: str) -> None:
        set_sandbox_outcome(customer, SandboxOutcomeBody.model_validate({"outcome": outcome}))

    @rule(customer=customers, amount=st.integers(min_value=1, max_value=400))
    def spend_tokens(self, customer: Principal, amount: int) -> None:
        attempt(consume, customer, ConsumeBody(amount=amount))

    @rule(customer=customers, plan=st.sampled_from(PLANS), up=st.booleans())
    def change_plan(self, customer: Principal, plan: str, up: bool) -> None:
        for sub in live_holdings(customer.user_id)[0]:
            attempt(subscriptions.upgrade if up else subscriptions.downgrade, customer, sub.id, plan)

    @rule(customer=customers, what=st.sampled_from(["pause", "resume", "cancel", "cancel_now", "reactivate"]))
    def change_course(self, customer: Principal, what: str) -> None:
        for sub in live_holdings(customer.user_id)[0]:
            if what.startswith("cancel"):
                attempt(subscriptions.cancel, customer, sub.id, None, what == "cancel_now")
            else:
                attempt(getattr(subscriptions, what), customer, sub.id)

    @rule(customer=customers)
    def cancel_an_add_on(self, customer: Principal) -> None:
        for addon in live_holdings(customer.user_id)[1]:
            attempt(subscriptions.cancel_addon, customer, addon.id)
            return

    @rule(days=st.sampled_from([0, 1, 2, 3, 7, 10, 29, 31, 45]), hours=st.integers(min_value=0, max_value=23))
    def let_time_pass(self, days: int, hours: int) -> None:
        self.clock.advance(timedelta(days=days, hours=hours))
        settle()

    @invariant()
    def the_money_holds(self) -> None:
        violations = check_all(clock.now())
        assert not violations, report(violations)


@pytest.mark.usefixtures("fresh_api")
def test_random_customer_lives_keep_every_invariant() -> None:
    machine = CustomerLives.TestCase
    machine.settings = settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        # Shrinking a failing life can take longer than the whole suite; VBWD_SHRINK=1 turns it on to debug one.
        phases=list(Phase) if os.environ.get("VBWD_SHRINK") else [Phase.explicit, Phase.reuse, Phase.generate],
    )
    machine().runTest()
