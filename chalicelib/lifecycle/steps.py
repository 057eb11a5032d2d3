"""The lifecycle consumer: perform what is due for one subscription or add-on subscription (subscriptions.md §6, §7,
§10).

`handle` is told about an item; it re-reads it, asks `machine.next_step` what is due, performs that step and reads
again, while something is due (a renewal invoice issued is then charged at once; days of dunning missed while the
job was down are caught up). Every step is one transaction on the condition of the versions read, with its events:
a step that lost a race to another run (or to the user paying) reads again and decides again from what it finds,
so overlapping and repeated runs have exactly-once effects. The renewal invoice of a period is issued together with
the period's guard (`subscription_store.guard_period`), so no period is ever billed twice; charges go through
`payments.charges` (an attempt claimed once, the provider asked with `<invoice id>:<attempt>`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.catalog.repository import Reference, reference
from chalicelib.core import clock
from chalicelib.core.context import request_memo
from chalicelib.core.logging import logger
from chalicelib.core.money import ZERO
from chalicelib.core.times import iso
from chalicelib.events.catalog import (
    AddonCancelled,
    AddonExpired,
    SubscriptionCancelled,
    SubscriptionExpired,
    SubscriptionPastDue,
    SubscriptionPaymentFailed,
    SubscriptionTrialWillEnd,
)
from chalicelib.events.envelope import Actor, Event
from chalicelib.invoices import repository as invoice_store
from chalicelib.invoices.models import InvoiceItem
from chalicelib.payments import charges
from chalicelib.payments.capture import NotCapturable, capture
from chalicelib.payments.outcomes import Payment
from chalicelib.store.transactions import Transaction, TransactionCancelled
from chalicelib.subscriptions import machine
from chalicelib.subscriptions import renewal as renewals
from chalicelib.subscriptions import repository as subscription_store
from chalicelib.subscriptions.events import addon_data, subscription_data
from chalicelib.subscriptions.machine import ACTIVE, ENDED, PAST_DUE, TRIALING, Move, Step, retry_after
from chalicelib.subscriptions.models import AddonSubscriptionItem, SubscriptionItem
from chalicelib.subscriptions.policy import LifecyclePolicy

Holding = SubscriptionItem | AddonSubscriptionItem
ACTOR = Actor.system("subscription-lifecycle")
# Issue + charge + four retries + expiry is seven; more is catching up on periods the job missed (it was down, or a
# test clock jumped). A task that reaches the limit has moved its item on: the next sweep sends it again.
MAX_STEPS = 64
UNPAID = "The renewal invoice is unpaid"


class StillDue(Exception):
    """Something is still due that could not be done now (the invoice's pay lock is held, races kept being lost):
    the task fails, and its redelivery tries again."""


@dataclass
class Ctx:
    """What a step decides from: the item as read, the catalog and the policy, at one moment."""

    item: Holding
    ref: Reference
    policy: LifecyclePolicy
    now: datetime

    def event(self, data: Any) -> Event:
        return Event(data, ACTOR, occurred_at=self.now)


def handle(envelope: dict[str, Any]) -> None:
    """The task consumer's handler (`lifecycle-steps`). One task is one unit of work, as a request is: the catalog
    snapshot is read once for all its steps (`request_memo`), not once per step, charge and capture."""
    data = envelope["data"]
    memo = request_memo.set({})
    try:
        advance(str(data["kind"]), str(data["user_id"]), str(data["id"]))
    finally:
        request_memo.reset(memo)


def read(kind: str, user_id: str, item_id: str) -> Holding | None:
    if kind == "subscription":
        return subscription_store.subscription_of(user_id, item_id)
    return subscription_store.addon_subscription_of(user_id, item_id)


def advance(kind: str, user_id: str, item_id: str) -> list[Step]:
    """Perform every step of the item that is due now; returns the steps done."""
    done: list[Step] = []
    first_due: datetime | None = None
    for _ in range(MAX_STEPS):
        item = read(kind, user_id, item_id)
        if item is None:
            return done
        ref = reference()
        policy = LifecyclePolicy.of(ref)
        now = clock.now()
        due = machine.next_step(item, policy)
        if due is None or due.at > now:
            return done
        first_due = first_due or due.at
        try:
            STEPS[due.step](Ctx(item, ref, policy, now))
        except TransactionCancelled as exc:
            logger.info("lifecycle step lost a race; reading again", item_id=item_id, step=due.step, failed=exc.failed)
            continue
        done.append(due.step)
    item = read(kind, user_id, item_id)
    if item is not None and item.due_at == first_due:
        raise StillDue(f"{kind} {item_id} made no progress in {MAX_STEPS} tries")
    return done


# --- small shared pieces -----------------------------------------------------------------------------------------


def _sub_data(ctx: Ctx, sub: SubscriptionItem, plan_id: str | None = None) -> dict[str, Any]:
    """The common subscription event fields; a plan that left the catalog still names itself by id."""
    plan = ctx.ref.plan(plan_id or sub.tarif_plan_id)
    if plan is not None:
        return subscription_data(sub, plan)
    fields = {"plan_id": plan_id or sub.tarif_plan_id, "plan_slug": "", "plan_name": "", "status": sub.status}
    return {"subscription_id": sub.id, "user_id": sub.user_id, **fields}


def _addon_data(ctx: Ctx, addon_sub: AddonSubscriptionItem) -> dict[str, Any]:
    addon = ctx.ref.addon(addon_sub.addon_id)
    if addon is not None:
        return addon_data(addon_sub, addon)
    return {
        "addon_subscription_id": addon_sub.id,
        "addon_id": addon_sub.addon_id,
        "addon_slug": "",
        "user_id": addon_sub.user_id,
        "subscription_id": addon_sub.subscription_id,
        "starts_at": iso(addon_sub.starts_at),
        "expires_at": iso(addon_sub.expires_at),
    }


def _write(tx: Transaction, ctx: Ctx, *items: Holding) -> None:
    for item in items:
        if isinstance(item, SubscriptionItem):
            subscription_store.update_subscription(tx, item, ctx.policy)
        else:
            subscription_store.update_addon_subscription(tx, item, ctx.policy)


def _linked(ctx: Ctx, sub: SubscriptionItem) -> list[AddonSubscriptionItem]:
    return [a for a in subscription_store.linked_addons(sub.user_id, sub.id) if a.status not in ENDED]


def _open_invoice(invoice_id: str | None) -> InvoiceItem | None:
    records = invoice_store.invoice_records(invoice_id) if invoice_id else None
    return records.invoice if records is not None else None


def _end(tx: Transaction, ctx: Ctx, item: Holding, what: Move, reason: str) -> list[Holding]:
    """Cancel or expire the item (and a subscription's live add-ons) with their events; returns what changed."""
    machine.move(item, what, ctx.now)
    changed: list[Holding] = [item]
    if isinstance(item, SubscriptionItem):
        if what is Move.CANCEL:
            tx.events.append(ctx.event(SubscriptionCancelled(**_sub_data(ctx, item), reason=reason)))
        else:
            tx.events.append(ctx.event(SubscriptionExpired(**_sub_data(ctx, item), reason=reason)))
        for addon_sub in _linked(ctx, item):
            changed += _end(tx, ctx, addon_sub, what, reason)
        return changed
    if what is Move.CANCEL:
        tx.events.append(ctx.event(AddonCancelled(**_addon_data(ctx, item), reason=reason)))
    else:
        tx.events.append(ctx.event(AddonExpired(**_addon_data(ctx, item), reason=reason)))
    return changed


def _fail_invoice(tx: Transaction, invoice: InvoiceItem | None, now: datetime) -> None:
    """Dunning exhausted: the open renewal invoice becomes FAILED (version-conditional: a capture that got there
    first refuses the whole step)."""
    if invoice is not None and invoice.status == "PENDING":
        invoice.status = "FAILED"
        invoice.updated_at = now
        invoice_store.update_invoice(tx, invoice)


# --- trials (§6) -------------------------------------------------------------------------------------------------


def trial_reminder(ctx: Ctx) -> None:
    sub = ctx.item
    assert isinstance(sub, SubscriptionItem)
    machine.move(sub, Move.REMIND_TRIAL, ctx.now)
    sub.trial_reminder_sent_at = ctx.now
    tx = Transaction()
    event = SubscriptionTrialWillEnd(
        **_sub_data(ctx, sub), trial_end_at=iso(sub.trial_end_at), invoice_id=sub.pending_invoice_id
    )
    tx.events.append(ctx.event(event))
    _write(tx, ctx, sub)
    tx.commit()


def trial_end(ctx: Ctx) -> None:
    """A scheduled cancellation ends the trial as CANCELLED; a saved method is charged for the first invoice (the
    capture converts the trial); unpaid, the trial EXPIRES and its first invoice is cancelled."""
    sub = ctx.item
    assert isinstance(sub, SubscriptionItem)
    invoice = _open_invoice(sub.pending_invoice_id)
    payable = invoice is not None and invoice.status == "PENDING"
    if payable and not sub.cancel_at_period_end and sub.saved_payment_method:
        result = charges.charge_off_session(str(sub.pending_invoice_id), sub, actor=ACTOR)
        if isinstance(result, charges.Busy):
            raise StillDue("the first invoice is being paid")
        if isinstance(result, charges.Charged):
            return
        sub = subscription_store.subscription_of(sub.user_id, sub.id) or sub
        if sub.status != TRIALING:
            return
        invoice = _open_invoice(sub.pending_invoice_id)
    tx = Transaction()
    if sub.cancel_at_period_end:
        changed = _end(tx, ctx, sub, Move.CANCEL, "period_end")
    else:
        changed = _end(tx, ctx, sub, Move.EXPIRE, "trial_unpaid")
    if invoice is not None and invoice.status == "PENDING":
        invoice_store.void(tx, invoice, "trial_unpaid" if not sub.cancel_at_period_end else "cancelled", ACTOR, ctx.now)
    _write(tx, ctx, *changed)
    tx.commit()


# --- renewal (§7.1) ----------------------------------------------------------------------------------------------


def renewal(ctx: Ctx) -> None:
    """Issue the renewal invoice of the next period; with a saved method, charge it (the next step, at once)."""
    item = ctx.item
    if item.renewal_invoice_id is None:
        issue_renewal(ctx)
    else:
        _charge(ctx, str(item.renewal_invoice_id))


def issue_renewal(ctx: Ctx) -> None:
    """The issuing step: the renewal invoice of the next period (`subscriptions.renewal`) with the period's guard,
    an unpaid upgrade discarded, in one transaction on the item's version."""
    item = ctx.item
    tx = Transaction()
    linked = _linked(ctx, item) if isinstance(item, SubscriptionItem) else []
    renewal = renewals.issue_renewal(tx, item, ctx.ref, linked, ctx.now, ACTOR)
    if renewal is None:
        # Nothing can bill the next period (its plan or add-on left the catalog): it expires at its end.
        item.non_renewing_reason = "unavailable"
        item.updated_at = ctx.now
        _write(tx, ctx, item)
        tx.commit()
        return
    invoice = renewal.invoice
    if isinstance(item, SubscriptionItem):
        _discard_pending_upgrade(tx, ctx, item)
    subscription_store.guard_period(tx, item, renewal.period_start, renewal.period_end, invoice.id, ctx.now)
    item.renewal_invoice_id = invoice.id
    if isinstance(item, SubscriptionItem):
        item.pending_invoice_id = invoice.id  # "the open invoice of this subscription" (subscriptions.md §2.1)
    item.updated_at = ctx.now
    _write(tx, ctx, item)
    tx.commit()
    if invoice.total_amount == ZERO:
        _capture_free(invoice.id)


def _discard_pending_upgrade(tx: Transaction, ctx: Ctx, sub: SubscriptionItem) -> None:
    """An upgrade still unpaid when the renewal is issued is discarded, its invoice voided in the renewal's
    transaction (as Stripe discards a pending update at the period end). It was priced against the period that is
    ending: paid after the renewal it would restart the period and lose the one just paid, and the renewal paid
    after it would bill a period that no longer follows. The user's upgrade already refuses while a renewal invoice
    is open, so the two never stand open together. A capture of the upgrade that got there first makes this
    transaction fail (the void is on the version read): the step reads again and finds the new plan's period."""
    if sub.pending_invoice_id is None or sub.pending_invoice_id == sub.renewal_invoice_id:
        return
    invoice = _open_invoice(sub.pending_invoice_id)
    if invoice is not None and invoice.status == "PENDING" and invoice.billing_reason == "UPGRADE":
        invoice_store.void(tx, invoice, "superseded_by_renewal", ACTOR, ctx.now)
        sub.pending_invoice_id = None


def _capture_free(invoice_id: str) -> None:
    """A renewal that costs nothing is paid at once (no provider to ask)."""
    with suppress(NotCapturable):  # paid by a concurrent run
        capture(invoice_id, Payment("free", f"free_{invoice_id}"), ACTOR)


# --- charges and dunning (§7.1–§7.2) -----------------------------------------------------------------------------


def _charge(ctx: Ctx, invoice_id: str) -> None:
    item = ctx.item
    result = charges.charge_off_session(invoice_id, item, actor=ACTOR, on_decline=_on_decline(ctx))
    if isinstance(result, charges.Busy):
        raise StillDue(f"invoice {invoice_id} is being paid")
    if isinstance(result, charges.NotOpen) and (result.invoice is None or result.invoice.status != "PAID"):
        _abandon(ctx, result.invoice)


def _abandon(ctx: Ctx, invoice: InvoiceItem | None) -> None:
    """The open invoice was voided or failed by someone else: an ACTIVE item no longer renews (it expires at its
    end), a PAST_DUE one has nothing left to retry."""
    item = read(_kind(ctx.item), ctx.item.user_id, ctx.item.id)
    if item is None or item.renewal_invoice_id != ctx.item.renewal_invoice_id:
        return
    status = invoice.status if invoice is not None else "missing"
    logger.warning("open renewal invoice is gone", item_id=item.id, invoice_status=status)
    if item.status == ACTIVE:
        item.non_renewing_reason = f"renewal_invoice_{status.lower()}"
    item.next_retry_at = None
    item.updated_at = ctx.now
    tx = Transaction()
    _write(tx, ctx, item)
    tx.commit()


def _kind(item: Holding) -> str:
    return "subscription" if isinstance(item, SubscriptionItem) else "addon"


def _on_decline(ctx: Ctx) -> charges.DeclineHook:
    kind, user_id, item_id = _kind(ctx.item), ctx.item.user_id, ctx.item.id

    def hook(tx: Transaction, invoice: InvoiceItem, declined: charges.Declined) -> None:
        item = read(kind, user_id, item_id)  # fresh: the hook runs again if its transaction lost a race
        if item is None or item.renewal_invoice_id != invoice.id or item.status not in (ACTIVE, PAST_DUE):
            return  # paused or ended meanwhile: the failure is recorded on the invoice only
        _record_failure(tx, Ctx(item, ctx.ref, ctx.policy, clock.now()), invoice, declined.message)

    return hook


def _record_failure(tx: Transaction, ctx: Ctx, invoice: InvoiceItem, message: str) -> None:
    """A failed charge (or an unpaid invoice at the period end, or a reminder that passed): the first one makes the
    item PAST_DUE; later ones count on the retry schedule; after the last one, dunning is exhausted."""
    item, now = ctx.item, ctx.now
    changed: list[Holding] = [item]
    first = item.status != PAST_DUE
    if first:
        machine.move(item, Move.FALL_PAST_DUE, now)
        item.payment_failed_at = item.past_due_since = now
        item.dunning_attempts = 1
        if isinstance(item, SubscriptionItem):
            for addon_sub in _linked(ctx, item):
                if addon_sub.status == ACTIVE and any(line.item_id == addon_sub.id for line in invoice.lines):
                    machine.move(addon_sub, Move.FALL_PAST_DUE, now)
                    changed.append(addon_sub)
    else:
        machine.move(item, Move.RETRY_FAILED, now)
        item.dunning_attempts = int(item.dunning_attempts or 0) + 1
    assert item.payment_failed_at is not None
    item.next_retry_at = retry_after(item.payment_failed_at, int(item.dunning_attempts), ctx.policy)
    item.updated_at = now
    if isinstance(item, SubscriptionItem):
        data = _sub_data(ctx, item)
        failed = SubscriptionPaymentFailed(
            **data,
            invoice_id=invoice.id,
            attempt=int(item.dunning_attempts),
            next_retry_at=iso(item.next_retry_at),
            error_message=message,
        )
        tx.events.append(ctx.event(failed))
        if first:
            tx.events.append(ctx.event(SubscriptionPastDue(**data, invoice_id=invoice.id, past_due_since=iso(now))))
    if item.next_retry_at is None and item.expires_at is not None and item.expires_at <= now:
        changed = [c for c in changed if c is not item] + _end(tx, ctx, item, Move.EXPIRE, "dunning_exhausted")
        invoice.status = "FAILED"  # written by the caller (the charge) or below
        invoice.updated_at = now
    _write(tx, ctx, *{c.sk: c for c in changed}.values())


def renewal_unpaid(ctx: Ctx) -> None:
    """The period ended with the renewal invoice unpaid and no method to charge (bank transfer): PAST_DUE, with the
    retry schedule as reminders."""
    _unpaid(ctx)


def dunning(ctx: Ctx) -> None:
    """A retry day: the saved method is charged again, or — without one — the reminder is counted (mailed through
    `subscription.payment_failed`)."""
    item = ctx.item
    if item.saved_payment_method and item.renewal_invoice_id:
        _charge(ctx, str(item.renewal_invoice_id))
    else:
        _unpaid(ctx)


def _unpaid(ctx: Ctx) -> None:
    item = ctx.item
    invoice = _open_invoice(item.renewal_invoice_id)
    if invoice is None or invoice.status != "PENDING":
        _abandon(ctx, invoice)
        return
    tx = Transaction()
    _record_failure(tx, ctx, invoice, UNPAID)
    if invoice.status == "FAILED":
        invoice_store.update_invoice(tx, invoice)
    tx.commit()


# --- period end and expiry (§7.3) --------------------------------------------------------------------------------


def period_end(ctx: Ctx) -> None:
    """A scheduled cancellation takes effect at the period end: CANCELLED (reason and moment kept), with its add-ons;
    an open renewal invoice is voided."""
    item = ctx.item
    tx = Transaction()
    changed = _end(tx, ctx, item, Move.CANCEL, "period_end")
    invoice = _open_invoice(item.renewal_invoice_id)
    if invoice is not None and invoice.status == "PENDING":
        invoice_store.void(tx, invoice, "cancelled", ACTOR, ctx.now)
    _write(tx, ctx, *changed)
    tx.commit()


def expiry(ctx: Ctx) -> None:
    """The period ended and nothing renews it: EXPIRED — `period_end` for an item nothing could bill, and
    `dunning_exhausted` after the last retry (the open invoice FAILED)."""
    item = ctx.item
    tx = Transaction()
    if item.status == PAST_DUE:
        changed = _end(tx, ctx, item, Move.EXPIRE, "dunning_exhausted")
        invoice = _open_invoice(item.renewal_invoice_id)
        _fail_invoice(tx, invoice, ctx.now)
    else:
        changed = _end(tx, ctx, item, Move.EXPIRE, "period_end")
    _write(tx, ctx, *changed)
    tx.commit()


STEPS: dict[Step, Callable[[Ctx], None]] = {
    Step.TRIAL_REMINDER: trial_reminder,
    Step.TRIAL_END: trial_end,
    Step.RENEWAL: renewal,
    Step.RENEWAL_UNPAID: renewal_unpaid,
    Step.DUNNING: dunning,
    Step.PERIOD_END: period_end,
    Step.EXPIRY: expiry,
}
