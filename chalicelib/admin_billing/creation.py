"""An admin creates a subscription for a user (contract admin.md §8.1).

`active`: the subscription is ACTIVE at once — its first period from `started_at`, the plan tokens credited now —
and its SUBSCRIPTION_CREATE invoice is PENDING, due after `invoice_due_days`. The line is already granted, so paying
the invoice activates nothing more (the capture finds the subscription ACTIVE and leaves it). `trialing`: TRIALING
until `started_at + trial_days`, the first invoice due at the trial's end, the user's one trial spent — as at checkout.

Everything is one transaction: the invoice (through `invoices.issue`, with its number and `invoice.created`), the
subscription (through the subscriptions repository, which moves the plan's subscriber counts), the ledger, the trial
flag, the events and the idempotent answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from dateutil.relativedelta import relativedelta

from chalicelib.admin_billing.service import admin_subscription
from chalicelib.catalog.pricing import Currencies, applicable_tax
from chalicelib.catalog.repository import Reference, reference
from chalicelib.core import clock
from chalicelib.core.errors import BadRequest, Conflict, NotFound
from chalicelib.core.ids import new_id
from chalicelib.core.money import format_money
from chalicelib.core.times import iso
from chalicelib.events.catalog import SubscriptionActivated, SubscriptionCreated, SubscriptionTrialStarted
from chalicelib.events.envelope import Actor, Event, EventData
from chalicelib.invoices.builder import Line
from chalicelib.invoices.issue import InvoiceDraft, issue
from chalicelib.payments.activation import plan_tokens
from chalicelib.payments.capture import lost_race
from chalicelib.store.retry import retrying
from chalicelib.store.transactions import Transaction
from chalicelib.subscriptions import repository as subscription_store
from chalicelib.subscriptions.events import subscription_data
from chalicelib.subscriptions.machine import ACTIVE, HOLDING_STATUSES, TRIALING
from chalicelib.subscriptions.models import SubscriptionItem
from chalicelib.subscriptions.periods import add_period
from chalicelib.subscriptions.policy import LifecyclePolicy
from chalicelib.tokens.ledger import Ledger
from chalicelib.tokens.repository import balance_of as token_balance
from chalicelib.users import repository as user_store

if TYPE_CHECKING:
    from chalicelib.admin_billing.schemas import CreateSubscriptionBody
    from chalicelib.auth.principal import Principal
    from chalicelib.catalog.models import PlanItem
    from chalicelib.core.idempotency import AnswerRecorder
    from chalicelib.invoices.models import InvoiceItem
    from chalicelib.users.models import UserItem


def create_subscription(
    admin: Principal, body: CreateSubscriptionBody, recorder: AnswerRecorder | None = None
) -> dict[str, Any]:
    """§8.1: the subscription, its invoice and (when ACTIVE) its plan tokens, at once."""

    def attempt() -> dict[str, Any]:
        now = clock.now()
        user = user_store.find_user(body.user_id)
        if user is None:
            raise NotFound("User not found")
        ref = reference()
        plan = ref.plan(body.plan_id)
        if plan is None:
            raise NotFound("Plan not found")
        trial = body.status == TRIALING
        if trial and not int(plan.trial_days or 0):
            raise BadRequest("Plan has no trial period")
        live, _ = subscription_store.live_holdings(user.id)
        if any(sub.status in HOLDING_STATUSES for sub in live):  # the user has one already (§8.1 409)
            raise Conflict("User already has an active subscription")
        if trial and user.has_used_trial:
            raise Conflict("User has already used a trial")
        start = body.started_at or now
        sub = _subscription(user.id, plan, ref, start, body.billing_period_months, trial, now)
        actor = Actor("admin", admin.user_id)
        tx = Transaction()
        invoice = _invoice(tx, sub, plan, ref, now, actor)
        events: list[EventData] = [
            SubscriptionCreated(
                **subscription_data(sub, plan), invoice_id=invoice.id, trial_end_at=iso(sub.trial_end_at)
            )
        ]
        if trial:
            user_store.mark_trial_used(tx, user, now)
            events.append(SubscriptionTrialStarted(**subscription_data(sub, plan), trial_end_at=iso(sub.trial_end_at)))
        else:
            ledger = Ledger(user.id, token_balance(user.id), now, actor)
            tokens = plan_tokens(plan)
            if tokens > 0:
                ledger.credit(tokens, "SUBSCRIPTION", sub.id, f"Plan tokens: {plan.name}")
            ledger.write(tx)
            events.append(
                SubscriptionActivated(
                    **subscription_data(sub, plan), started_at=iso(sub.started_at), expires_at=iso(sub.expires_at)
                )
            )
        tx.events.extend(Event(event, actor, occurred_at=now) for event in events)
        subscription_store.add_subscription(tx, sub, LifecyclePolicy.of(ref))
        answer = _answer(sub, invoice, ref, user)
        if recorder is not None:
            recorder.record(tx, answer)
        tx.commit()
        return answer

    return retrying(attempt, retry_on=lost_race)


def _subscription(
    user_id: str,
    plan: PlanItem,
    ref: Reference,
    start: datetime,
    months: int | None,
    trial: bool,
    now: datetime,
) -> SubscriptionItem:
    sub_id = new_id()
    pk, sk = SubscriptionItem.key(user_id, sub_id)
    categories = ref.categories_by_id()
    sub = SubscriptionItem(
        pk,
        sk,
        id=sub_id,
        user_id=user_id,
        tarif_plan_id=plan.id,
        status=TRIALING if trial else ACTIVE,
        currency=plan.currency,
        exclusive_category_ids=[c for c in plan.category_ids if c in categories and categories[c].is_single],
        started_at=start,
        created_at=now,
        updated_at=now,
    )
    if trial:
        sub.trial_end_at = sub.expires_at = start + timedelta(days=int(plan.trial_days))
    else:
        sub.current_period_start = start
        sub.anchor_day = start.day
        sub.expires_at = (
            start + relativedelta(months=months) if months else add_period(start, plan.billing_period, start.day)
        )
    return sub


def _invoice(
    tx: Transaction, sub: SubscriptionItem, plan: PlanItem, ref: Reference, now: datetime, actor: Actor
) -> InvoiceItem:
    """The SUBSCRIPTION_CREATE invoice of the plan price, taxed by the user's billing country; due at the trial's end,
    else after `invoice_due_days`."""
    details = user_store.find_details(sub.user_id)
    trial = sub.status == TRIALING
    metadata: dict[str, Any] = {
        "billing_reason": "SUBSCRIPTION_CREATE",
        "plan_id": plan.id,
        "plan_slug": plan.slug,
        "billing_period": plan.billing_period,
        "period_start": None if trial else iso(sub.current_period_start),
        "period_end": None if trial else iso(sub.expires_at),
    }
    if trial:
        metadata["trial_end_at"] = iso(sub.trial_end_at)
    line = Line(
        new_id(), "SUBSCRIPTION", plan.name, plan.price, item_id=sub.id, catalog_item_id=plan.id, metadata=metadata
    )
    draft = InvoiceDraft(
        user_id=sub.user_id,
        billing_reason="SUBSCRIPTION_CREATE",
        currency=plan.currency,
        places=Currencies.of(ref.currencies).places(plan.currency),
        lines=[line],
        tax=applicable_tax(details.country if details else None, ref.taxes, ref.tax_classes),
        details=details,
        due_date=sub.trial_end_at
        if trial and sub.trial_end_at
        else now + timedelta(days=int(ref.settings["invoice_due_days"])),
        prefix=str(ref.settings["invoice_prefix"]),
        subscription_id=sub.id,
        tarif_plan_id=plan.id,
    )
    invoice = issue(tx, draft, now, actor)
    sub.pending_invoice_id = invoice.id
    return invoice


def _answer(sub: SubscriptionItem, invoice: InvoiceItem, ref: Reference, user: UserItem) -> dict[str, Any]:
    places = Currencies.of(ref.currencies).places(invoice.currency)
    return {
        "id": sub.id,
        "user_id": sub.user_id,
        "tarif_plan_id": sub.tarif_plan_id,
        "status": sub.status,
        "started_at": iso(sub.started_at),
        "expires_at": iso(sub.expires_at),
        "trial_end_at": iso(sub.trial_end_at),
        "created_at": iso(sub.created_at),
        "subscription": admin_subscription(sub, ref, user),
        "invoice": {
            "id": invoice.id,
            "invoice_number": invoice.invoice_number,
            "amount": format_money(invoice.total_amount, places),
            "currency": invoice.currency,
            "status": invoice.status,
        },
    }
