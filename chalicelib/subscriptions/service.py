"""The signed-in user's subscriptions and add-ons (contract subscriptions.md §12.1, §12.2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.catalog.pricing import Currencies, applicable_tax
from chalicelib.catalog.repository import Reference, reference
from chalicelib.core import clock
from chalicelib.core.errors import BadRequest, Conflict, Forbidden, NotFound, ProviderFailed
from chalicelib.core.ids import new_id
from chalicelib.core.money import ZERO, format_fixed, format_money
from chalicelib.core.times import iso
from chalicelib.events.catalog import (
    AddonCancellationScheduled,
    AddonCancelled,
    SubscriptionCancellationScheduled,
    SubscriptionCancelled,
    SubscriptionDowngradeScheduled,
    SubscriptionPastDue,
    SubscriptionPaused,
    SubscriptionPlanChanged,
    SubscriptionReactivated,
    SubscriptionResumed,
)
from chalicelib.events.envelope import Actor, Event
from chalicelib.invoices import repository as invoices
from chalicelib.invoices import serializers as invoice_json
from chalicelib.invoices.builder import Line
from chalicelib.invoices.issue import InvoiceDraft, issue
from chalicelib.payments.activation import Activation
from chalicelib.payments.outcomes import Payment
from chalicelib.store.reads import batch_get
from chalicelib.store.retry import retrying
from chalicelib.store.transactions import Transaction
from chalicelib.subscriptions import machine, repository, serializers
from chalicelib.subscriptions import renewal as renewals
from chalicelib.subscriptions.events import addon_data, subscription_data
from chalicelib.subscriptions.machine import Move
from chalicelib.subscriptions.models import HOLDING_STATUSES, AddonSubscriptionItem, SubscriptionItem
from chalicelib.subscriptions.periods import add_period
from chalicelib.subscriptions.policy import LifecyclePolicy
from chalicelib.subscriptions.proration import Proration, prorate
from chalicelib.tokens.ledger import Ledger
from chalicelib.tokens.models import TokenBalanceItem
from chalicelib.users import repository as user_store
from chalicelib.users.models import UserDetailsItem, UserItem, user_key

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal
    from chalicelib.catalog.models import AddonItem, PlanItem, TaxItem
    from chalicelib.core.idempotency import AnswerRecorder
    from chalicelib.invoices.models import InvoiceItem

CANNOT_CANCEL = "Add-on subscription cannot be cancelled"
# Cancelling races a capture of the add-on's invoice or the cancel of another line of it: both are a handful of
# writers at most, so a few attempts settle it; each one reads everything again.
CANCEL_ATTEMPTS = 6


def _newest_first(items: list[SubscriptionItem]) -> list[SubscriptionItem]:
    return sorted(items, key=lambda s: s.created_at, reverse=True)


def _newest_addons_first(items: list[AddonSubscriptionItem]) -> list[AddonSubscriptionItem]:
    return sorted(items, key=lambda a: a.created_at, reverse=True)


def list_subscriptions(principal: Principal, status: str | None) -> dict[str, Any]:
    """Newest first; `status` (already a SubscriptionStatus) keeps only those in it."""
    subscriptions = repository.subscriptions_of(principal.user_id)
    if status is not None:
        subscriptions = [s for s in subscriptions if s.status == status]
    ref, now = reference(), clock.now()
    return {"subscriptions": [serializers.with_plan(s, ref, now) for s in _newest_first(subscriptions)]}


def active_subscription(principal: Principal) -> dict[str, Any]:
    """The primary subscription: the most recently created one that grants access."""
    now = clock.now()
    valid = [s for s in _newest_first(repository.subscriptions_of(principal.user_id)) if machine.is_valid(s, now)]
    return {"subscription": serializers.with_plan(valid[0], reference(), now) if valid else None}


def active_subscriptions(principal: Principal) -> dict[str, Any]:
    ref, now = reference(), clock.now()
    valid = [s for s in _newest_first(repository.subscriptions_of(principal.user_id)) if machine.is_valid(s, now)]
    return {"subscriptions": [serializers.with_plan(s, ref, now) for s in valid]}


def get_subscription(principal: Principal, subscription_id: str) -> dict[str, Any]:
    subscriptions, addons = repository.holdings_of(principal.user_id)
    sub = next((s for s in subscriptions if s.id == subscription_id), None)
    if sub is None:
        raise NotFound("Subscription not found")  # another user's answers the same (subscriptions.md §1)
    now = clock.now()
    body = serializers.with_plan(sub, reference(), now)
    body["add_ons"] = [
        serializers.addon_subscription(a, now, sub) for a in _newest_addons_first(addons) if a.subscription_id == sub.id
    ]
    return {"subscription": body}


# --- add-ons ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnedAddon:
    """An add-on subscription of the caller, read with everything else the caller holds (one Query)."""

    item: AddonSubscriptionItem
    subscriptions: dict[str, SubscriptionItem]
    addons: dict[str, AddonSubscriptionItem]

    @property
    def parent(self) -> SubscriptionItem | None:
        return self.subscriptions.get(self.item.subscription_id or "")


def list_addons(principal: Principal) -> dict[str, Any]:
    subscriptions, addons = repository.holdings_of(principal.user_id)
    parents = {s.id: s for s in subscriptions}
    ref, now = reference(), clock.now()
    return {
        "addon_subscriptions": [
            serializers.addon_with_summary(a, parents.get(a.subscription_id or ""), ref, now)
            for a in _newest_addons_first(addons)
        ]
    }


def _owned_addon(principal: Principal, addon_subscription_id: str) -> OwnedAddon:
    subscriptions, addons = repository.holdings_of(principal.user_id)
    item = next((a for a in addons if a.id == addon_subscription_id), None)
    if item is None:
        if repository.addon_subscription_exists(addon_subscription_id):
            raise Forbidden("Access denied")
        raise NotFound("Add-on subscription not found")
    return OwnedAddon(item, {s.id: s for s in subscriptions}, {a.id: a for a in addons})


def get_addon(principal: Principal, addon_subscription_id: str) -> dict[str, Any]:
    owned = _owned_addon(principal, addon_subscription_id)
    ref, now = reference(), clock.now()
    body = serializers.addon_with_summary(owned.item, owned.parent, ref, now)
    records = invoices.invoice_records(owned.item.invoice_id) if owned.item.invoice_id else None
    body["invoice"] = serializers.invoice_summary(records.invoice, ref) if records is not None else None
    return {"addon_subscription": body}


def cancel_addon(principal: Principal, addon_subscription_id: str) -> dict[str, Any]:
    """subscriptions.md §12.2: a recurring ACTIVE add-on ends at its period end; every other one ends now.

    One transaction, on the condition of the versions read. Losing a race — its invoice paid meanwhile, another
    line of it cancelled meanwhile — means reading again and deciding again: the answer is then what the new
    state allows (scheduled, ended, or `Add-on subscription cannot be cancelled`), never a failure.
    """

    def attempt() -> dict[str, Any]:
        owned = _owned_addon(principal, addon_subscription_id)
        ref, now = reference(), clock.now()
        addon = ref.addon(owned.item.addon_id)
        if addon is None or not machine.addon_cancellable(owned.item):
            raise BadRequest(CANNOT_CANCEL)
        tx = Transaction()
        _cancel(tx, owned, addon, Actor.user(principal.user_id), now)
        tx.commit()
        answer = serializers.addon_with_summary(owned.item, owned.parent, ref, now)
        return {"addon_subscription": answer, "message": "Add-on cancelled successfully"}

    return retrying(attempt, tries=CANCEL_ATTEMPTS)


def _cancel(tx: Transaction, owned: OwnedAddon, addon: AddonItem, actor: Actor, now: datetime) -> None:
    item = owned.item
    was_pending = item.status == "PENDING"
    if machine.addon_cancel_waits_for_period_end(item, addon.billing_period):
        machine.move(item, Move.SCHEDULE_CANCEL, now)
        tx.events.append(Event(AddonCancellationScheduled(**addon_data(item, addon)), actor, occurred_at=now))
    else:
        machine.move(item, Move.CANCEL, now)
        item.cancel_reason = "user"
        tx.events.append(Event(AddonCancelled(**addon_data(item, addon), reason="user"), actor, occurred_at=now))
    repository.update_addon_subscription(tx, item, LifecyclePolicy.of(reference()))
    if was_pending and item.invoice_id:
        _settle_unpaid_invoice(tx, owned, actor, now)


def _settle_unpaid_invoice(tx: Transaction, owned: OwnedAddon, actor: Actor, now: datetime) -> None:
    """A pending add-on's invoice is voided when it bills nothing else still wanted (§12.2).

    Whether anything else is still wanted depends on the other holdings the invoice bills, so the transaction
    also requires them unchanged: two lines of one invoice cancelled at the same moment cannot both conclude
    that the other is still wanted and leave a payable invoice that bills nothing.
    """
    records = invoices.invoice_records(str(owned.item.invoice_id))
    if records is None or records.invoice.status != "PENDING":
        return
    purchases = {p.id: p.status for p in records.purchases}
    others = [line.item_id for line in records.invoice.lines if line.item_id != owned.item.id]
    wanted = False
    for item_id in others:
        holding = owned.subscriptions.get(item_id or "") or owned.addons.get(item_id or "")
        if holding is not None:
            repository.expect_unchanged(tx, holding)
        status = holding.status if holding is not None else purchases.get(item_id or "")
        wanted = wanted or machine.still_wanted(status)
    if not wanted:
        invoices.void(tx, records.invoice, "items_cancelled", actor, now)


# --- plan changes, cancel, pause, resume (§8–§9) --------------------------------------------------------------
#
# Every change reads the caller's holdings (one consistent Query), decides from what it finds, and writes the
# subscription, its add-ons, any invoice it issues or voids and its events in one transaction conditional on the
# versions read. A concurrent change (a second upgrade, a cancel racing a pause, a capture of the invoice) makes the
# loser read again and decide again from the new state: one wins, the other gets the answer the new state gives.

SCHEDULED_FOR_CANCELLATION = "Subscription is scheduled for cancellation"
UPGRADE_PENDING = "An upgrade invoice is already pending for this subscription"
RENEWAL_PENDING = "A renewal invoice is pending; pay it first"
UPGRADE_INVOICED = "Upgrade invoice created. The plan changes when it is paid."
UPGRADED = "Subscription upgraded successfully."
CHANGE_ATTEMPTS = 8


@dataclass
class Held:
    """The caller's subscription as read, with everything else the caller holds (for the rules and the capture)."""

    sub: SubscriptionItem
    subscriptions: dict[str, SubscriptionItem]
    addons: dict[str, AddonSubscriptionItem]
    ref: Reference
    now: datetime

    @property
    def policy(self) -> LifecyclePolicy:
        return LifecyclePolicy.of(self.ref)

    @property
    def currencies(self) -> Currencies:
        return Currencies.of(self.ref.currencies)

    @property
    def places(self) -> int:
        return self.currencies.places(self.sub.currency)

    @property
    def plan(self) -> PlanItem | None:
        return self.ref.plan(self.sub.tarif_plan_id)

    def linked(self) -> list[AddonSubscriptionItem]:
        """The add-on subscriptions bound to this subscription, oldest first."""
        addons = [a for a in self.addons.values() if a.subscription_id == self.sub.id]
        return sorted(addons, key=lambda a: a.created_at)

    def price(self, price: Decimal, currency: str) -> tuple[Decimal, dict[str, Any]]:
        """A catalog price in the subscription's currency, and the metadata that records a conversion (§3.2)."""
        currencies, target = self.currencies, self.sub.currency
        if currency == target:
            return price, {}
        wanted = currencies.by_code[target]
        rate = wanted.exchange_rate / currencies.by_code[currency].exchange_rate
        return currencies.convert(price, currency, wanted), {
            "original_currency": currency,
            "original_unit_price": format_money(price, currencies.places(currency)),
            "exchange_rate": format_fixed(rate, 6),
        }


def _held(principal: Principal, subscription_id: str) -> Held:
    return _held_by(principal.user_id, subscription_id)


def _held_by(user_id: str, subscription_id: str) -> Held:
    subscriptions, addons = repository.holdings_of(user_id)
    found = {s.id: s for s in subscriptions}
    sub = found.get(subscription_id)
    if sub is None:
        raise NotFound("Subscription not found")  # another user's answers the same (subscriptions.md §1)
    return Held(sub, found, {a.id: a for a in addons}, reference(), clock.now())


def _target_plan(held: Held, plan_id: str) -> PlanItem:
    plan = held.ref.plan(plan_id)
    if plan is None:
        raise BadRequest("Plan not found")
    if not plan.is_active:
        raise BadRequest("Plan is not active")
    if plan.id == held.sub.tarif_plan_id:
        raise BadRequest("Already subscribed to this plan")
    return plan


def _exclusive_rule(held: Held, plan: PlanItem) -> None:
    """§5.2: the target plan's is_single categories must not hold another subscription of the caller."""
    categories = held.ref.categories_by_id()
    for category_id in plan.category_ids:
        category = categories.get(category_id)
        if category is None or not category.is_single:
            continue
        for other in held.subscriptions.values():
            if other.id == held.sub.id or other.status not in HOLDING_STATUSES:
                continue
            other_plan = held.ref.plan(other.tarif_plan_id)
            if other_plan is not None and category_id in other_plan.category_ids:
                raise BadRequest(
                    f"User already has an active subscription in category '{category.name}'. "
                    "Please upgrade or downgrade instead."
                )


def _open_invoice(sub: SubscriptionItem) -> InvoiceItem | None:
    """The subscription's unpaid invoice (its upgrade, renewal or first-period one), if it has one."""
    for invoice_id in dict.fromkeys(i for i in (sub.pending_invoice_id, sub.renewal_invoice_id) if i):
        records = invoices.invoice_records(invoice_id)
        if records is not None and records.invoice.status == "PENDING":
            return records.invoice
    return None


def _refuse_open_invoice(invoice: InvoiceItem | None) -> None:
    if invoice is None:
        return
    if invoice.billing_reason == "RENEWAL":
        raise Conflict(RENEWAL_PENDING, invoice_id=invoice.id)
    if invoice.billing_reason == "UPGRADE":
        raise Conflict(UPGRADE_PENDING, invoice_id=invoice.id)


def _prorate(held: Held, plan: PlanItem) -> Proration:
    current = held.plan
    current_price, _ = held.price(current.price, current.currency) if current else (ZERO, {})
    new_price, _ = held.price(plan.price, plan.currency)
    return prorate(
        current_price=current_price,
        current_period=current.billing_period if current else "ONE_TIME",
        new_price=new_price,
        expires_at=held.sub.expires_at,
        now=held.now,
        places=held.places,
        enabled=held.policy.proration_enabled,
    )


def _proration_json(held: Held, proration: Proration) -> dict[str, Any]:
    places = held.places
    return {
        "credit": format_money(proration.credit, places),
        "amount_due": format_money(proration.amount_due, places),
        "days_remaining": proration.days_remaining,
        "currency": held.sub.currency,
    }


def _tax(held: Held) -> tuple[TaxItem | None, UserDetailsItem | None]:
    """The tax of the caller's billing country now, and the details the invoice keeps (§3.3)."""
    details = user_store.find_details(held.sub.user_id)
    return applicable_tax(details.country if details else None, held.ref.taxes, held.ref.tax_classes), details


def proration(principal: Principal, subscription_id: str, plan_id: str) -> dict[str, Any]:
    """§8.4: what a change to `plan_id` would bill now; nothing is written."""
    held = _held(principal, subscription_id)
    plan = held.ref.plan(plan_id)
    if plan is None:
        raise BadRequest("Plan not found")
    if held.sub.status != machine.ACTIVE or held.sub.expires_at is None:
        raise BadRequest("Unable to calculate proration")
    result = _prorate(held, plan)
    return {
        "proration": {
            **_proration_json(held, result),
            "daily_rate": format_fixed(result.daily_rate, 6),
            "new_plan_price": format_money(result.new_price, held.places),
        }
    }


def upgrade(
    principal: Principal, subscription_id: str, plan_id: str, recorder: AnswerRecorder | None = None
) -> dict[str, Any]:
    """§8.2: an UPGRADE invoice — the new plan less the unused time of the current one. The plan switches when it
    is paid (`payments.activation`, the UPGRADE line), or now when nothing is due (captured in this transaction).

    With a saved off-session method (§8.2, second case) the PENDING invoice is charged after the commit
    (`payments.charges.charge_off_session`, which captures it through the ordinary capture path): the plan switches
    during the request when the charge succeeds; a decline leaves the invoice PENDING for the user to pay. The
    answer is then stored for the Idempotency-Key after the charge, as it is finally given."""

    def step() -> dict[str, Any]:
        held = _held(principal, subscription_id)
        sub, now = held.sub, held.now
        plan = _target_plan(held, plan_id)
        if not machine.allowed(sub, Move.CHANGE_PLAN):
            raise BadRequest("Only active subscriptions can be upgraded")
        if sub.cancel_at_period_end:
            raise BadRequest(SCHEDULED_FOR_CANCELLATION)
        _exclusive_rule(held, plan)
        _refuse_open_invoice(_open_invoice(sub))
        result = _prorate(held, plan)
        free = result.amount_due == 0
        tx = Transaction()
        actor = Actor.user(principal.user_id)
        tax, details = _tax(held)
        draft = InvoiceDraft(
            user_id=sub.user_id,
            billing_reason="UPGRADE",
            currency=sub.currency,
            places=held.places,
            lines=_upgrade_lines(held, plan, result, switches_now=free),
            tax=tax,
            details=details,
            due_date=now + timedelta(days=int(held.ref.settings["invoice_due_days"])),
            prefix=str(held.ref.settings["invoice_prefix"]),
            payment_method=sub.payment_method_code,
            subscription_id=sub.id,
            tarif_plan_id=plan.id,
        )
        invoice = issue(tx, draft, now, actor, add=not free)
        if free:
            _capture_free(tx, held, invoice, actor)
        else:
            sub.pending_invoice_id = invoice.id
            sub.updated_at = now
            repository.update_subscription(tx, sub, held.policy)
        answer = {
            "subscription": serializers.with_plan(sub, held.ref, now),
            "invoice": invoice_json.invoice(invoice, held.places, now),
            "proration": _proration_json(held, result),
            "message": UPGRADED if free else UPGRADE_INVOICED,
        }
        charge = not free and sub.has_saved_payment_method
        if recorder is not None and not charge:
            recorder.record(tx, answer)
        tx.commit()
        return _charged(held, invoice.id, answer, actor) if charge else answer

    return retrying(step, tries=CHANGE_ATTEMPTS)


def _charged(held: Held, invoice_id: str, answer: dict[str, Any], actor: Actor) -> dict[str, Any]:
    """Charge the saved method for the committed upgrade invoice; the answer as things stand after it."""
    from chalicelib.payments.charges import Charged, charge_off_session

    sub = repository.subscription_of(held.sub.user_id, held.sub.id)
    if sub is None:
        return answer
    outcome = charge_off_session(invoice_id, sub, actor=actor)
    now = clock.now()
    sub = repository.subscription_of(held.sub.user_id, held.sub.id) or sub
    records = invoices.invoice_records(invoice_id)
    return {
        **answer,
        "subscription": serializers.with_plan(sub, held.ref, now),
        "invoice": invoice_json.invoice(records.invoice, held.places, now) if records else answer["invoice"],
        "message": UPGRADED if isinstance(outcome, Charged) else UPGRADE_INVOICED,
    }


def _upgrade_lines(held: Held, plan: PlanItem, result: Proration, *, switches_now: bool) -> list[Line]:
    """The new plan at its price, and the credit for the unused time (never more than the new price). The new
    period is known when the invoice is paid; an invoice paid now by its credit carries it."""
    now, sub = held.now, held.sub
    unit, conversion = held.price(plan.price, plan.currency)
    start = now if switches_now else None
    end = add_period(now, plan.billing_period, now.day) if switches_now else None
    metadata = {
        "billing_reason": "UPGRADE",
        "plan_id": plan.id,
        "plan_slug": plan.slug,
        "billing_period": plan.billing_period,
        "period_start": iso(start),
        "period_end": iso(end),
        **conversion,
    }
    lines = [
        Line(new_id(), "SUBSCRIPTION", plan.name, unit, item_id=sub.id, catalog_item_id=plan.id, metadata=metadata)
    ]
    current = held.plan
    if result.credit_applied > 0 and current is not None:
        credit = {
            "kind": "proration_credit",
            "from_plan_id": current.id,
            "days_remaining": result.days_remaining,
            "daily_rate": format_fixed(result.daily_rate, 6),
        }
        description = f"Unused time on {current.name}"
        lines.append(Line(new_id(), "CUSTOM", description, -result.credit_applied, item_id=sub.id, metadata=credit))
    return lines


def _capture_free(tx: Transaction, held: Held, invoice: InvoiceItem, actor: Actor) -> None:
    """An upgrade with nothing to pay is captured in its own transaction (`zero-price`): the plan switches now."""
    user, balance = batch_get(
        [(UserItem, *user_key(held.sub.user_id)), (TokenBalanceItem, *TokenBalanceItem.key(held.sub.user_id))]
    )
    if not isinstance(user, UserItem):
        raise LookupError("the subscriber no longer exists")
    activation = Activation(
        invoice=invoice,
        user=user,
        purchases={},
        subscriptions=held.subscriptions,
        addon_subscriptions=held.addons,
        ledger=Ledger(user.id, balance if isinstance(balance, TokenBalanceItem) else None, held.now, actor),
        ref=held.ref,
        now=held.now,
        actor=actor,
        places=held.places,
        created={id(invoice)},
    )
    activation.capture(Payment("none", "zero-price"))
    activation.write(tx)


def downgrade(
    principal: Principal, subscription_id: str, plan_id: str, recorder: AnswerRecorder | None = None
) -> dict[str, Any]:
    """§8.3: the plan the next renewal bills. Nothing is charged now; the renewal's capture switches the plan. A new
    downgrade replaces the pending one; a renewal invoice already open is voided and issued again for it."""

    def step() -> dict[str, Any]:
        held = _held(principal, subscription_id)
        sub, now = held.sub, held.now
        if not held.policy.allow_downgrade:
            raise BadRequest("Downgrades are disabled")
        plan = _target_plan(held, plan_id)
        if not machine.allowed(sub, Move.SCHEDULE_DOWNGRADE):
            raise BadRequest("Only active subscriptions can be downgraded")
        if sub.cancel_at_period_end:
            raise BadRequest(SCHEDULED_FOR_CANCELLATION)
        current = held.plan
        if sub.expires_at is None or current is None or current.billing_period == "ONE_TIME":
            raise BadRequest("Subscription has no renewal")
        _exclusive_rule(held, plan)
        open_invoice = _open_invoice(sub)
        if open_invoice is not None and open_invoice.billing_reason == "UPGRADE":
            _refuse_open_invoice(open_invoice)
        answer = {"subscription": serializers.with_plan(sub, held.ref, now), "message": DOWNGRADE_SCHEDULED}
        if sub.pending_plan_id == plan.id:
            return answer  # the same downgrade again changes nothing
        tx = Transaction()
        actor = Actor.user(principal.user_id)
        machine.move(sub, Move.SCHEDULE_DOWNGRADE, now)
        sub.pending_plan_id = plan.id
        tx.events.append(
            Event(
                SubscriptionDowngradeScheduled(**subscription_data(sub, current), pending_plan_id=plan.id),
                actor,
                occurred_at=now,
            )
        )
        if open_invoice is not None and open_invoice.billing_reason == "RENEWAL":
            invoices.void(tx, open_invoice, "downgrade_scheduled", actor, now)
            _reissue_renewal(tx, held, actor)
        repository.update_subscription(tx, sub, held.policy)
        answer = {"subscription": serializers.with_plan(sub, held.ref, now), "message": DOWNGRADE_SCHEDULED}
        if recorder is not None:
            recorder.record(tx, answer)
        tx.commit()
        return answer

    return retrying(step, tries=CHANGE_ATTEMPTS)


DOWNGRADE_SCHEDULED = "Downgrade scheduled for next renewal."


def _reissue_renewal(tx: Transaction, held: Held, actor: Actor) -> None:
    """The renewal invoice of the next period again, for the plan it will have (§7.1 rule 1), issued the one way a
    renewal is (`subscriptions.renewal`); the period's guard stays with the period."""
    sub = held.sub
    renewal = renewals.issue_renewal(tx, sub, held.ref, held.linked(), held.now, actor)
    if renewal is not None:
        sub.renewal_invoice_id = sub.pending_invoice_id = renewal.invoice.id


def _void_unpaid(
    tx: Transaction, held: Held, invoice_ids: list[str | None], ending: set[str], reason: str, actor: Actor
) -> set[str]:
    """Void each named unpaid invoice that bills only items that are ending (§9.1); one that also bills something
    else stays PENDING (if it is paid later, the capture refunds the ended items' lines). The voided ids."""
    voided: set[str] = set()
    for invoice_id in dict.fromkeys(i for i in invoice_ids if i):
        records = invoices.invoice_records(invoice_id)
        if records is None or records.invoice.status != "PENDING":
            continue
        if all(line.item_id in ending for line in records.invoice.lines):
            invoices.void(tx, records.invoice, reason, actor, held.now)
            voided.add(invoice_id)
            if invoice_id == held.sub.renewal_invoice_id:
                renewals.release_billed_period(tx, held.sub, records.invoice)
    sub = held.sub
    if sub.pending_invoice_id in voided:
        sub.pending_invoice_id = None
    if sub.renewal_invoice_id in voided:
        sub.renewal_invoice_id = None
    return voided


def _subscription_answer(held: Held, message: str) -> dict[str, Any]:
    return {"subscription": serializers.with_plan(held.sub, held.ref, held.now), "message": message}


def _commit(tx: Transaction, answer: dict[str, Any], recorder: AnswerRecorder | None) -> dict[str, Any]:
    if recorder is not None:
        recorder.record(tx, answer)
    tx.commit()
    return answer


CANCEL_SCHEDULED = "Subscription cancelled. Access continues until expiration."
CANCELLED_NOW = "Subscription cancelled."


def cancel(
    principal: Principal,
    subscription_id: str,
    reason: str | None,
    immediately: bool,
    recorder: AnswerRecorder | None = None,
    *,
    owner_id: str | None = None,
) -> dict[str, Any]:
    """§9.1: an ACTIVE or TRIALING subscription ends at its period (trial) end unless `immediately`; any other
    live one ends now. Linked add-ons follow; unpaid invoices that bill only what ends are voided. An admin
    (admin.md §8.5) cancels another user's subscription: `owner_id` names that user, the admin is the actor."""

    first = _held_by(owner_id or principal.user_id, subscription_id).sub
    if first.provider_subscription_id and first.status not in machine.ENDED:
        _cancel_at_provider(first, immediately)

    def step() -> dict[str, Any]:
        held = _held_by(owner_id or principal.user_id, subscription_id)
        sub = held.sub
        if sub.status in machine.ENDED:
            raise BadRequest("Subscription is already cancelled or expired")
        actor = Actor("admin", principal.user_id) if owner_id else Actor.user(principal.user_id)
        tx = Transaction()
        if not immediately and machine.allowed(sub, Move.SCHEDULE_CANCEL):
            if sub.cancel_at_period_end:
                return _subscription_answer(held, CANCEL_SCHEDULED)  # already scheduled: no change
            _schedule_cancel(tx, held, reason or "user", actor)
            message = CANCEL_SCHEDULED
        else:
            _cancel_now(tx, held, reason or "user", actor)
            message = CANCELLED_NOW
        repository.update_subscription(tx, sub, held.policy)
        return _commit(tx, _subscription_answer(held, message), recorder)

    return retrying(step, tries=CHANGE_ATTEMPTS)


def _cancel_at_provider(sub: SubscriptionItem, immediately: bool) -> None:
    """A legacy subscription's own billing is told first (§10.4: at the period end, or now): our record follows
    only once the provider will bill no more."""
    from chalicelib.payments.hosted import ProviderError
    from chalicelib.payments.providers import provider

    implementation: Any = provider(sub.payment_method_code or "stripe")
    try:
        implementation.cancel_legacy_subscription(str(sub.provider_subscription_id), immediately=immediately)
    except ProviderError as exc:
        raise ProviderFailed(f"Payment provider error: {exc}") from exc


def end_by_provider(user_id: str, subscription_id: str, provider: str) -> bool:
    """The provider ended a legacy subscription (Stripe `customer.subscription.deleted`): CANCELLED now with its
    add-ons, reason `provider`. False when it had ended already (a repeated or late notification)."""

    def step() -> bool:
        held = _held_by(user_id, subscription_id)
        if held.sub.status in machine.ENDED:
            return False
        tx = Transaction()
        _cancel_now(tx, held, "provider", Actor("provider", provider))
        repository.update_subscription(tx, held.sub, held.policy)
        tx.commit()
        return True

    return retrying(step, tries=CHANGE_ATTEMPTS)


def past_due_by_provider(user_id: str, subscription_id: str, provider: str) -> bool:
    """The provider's renewal charge of a legacy subscription failed (Stripe `invoice.payment_failed`): PAST_DUE
    with access while the provider retries (subscriptions.md §7). False when it is not ACTIVE."""

    def step() -> bool:
        held = _held_by(user_id, subscription_id)
        sub = held.sub
        if not machine.allowed(sub, Move.FALL_PAST_DUE) or sub.status == machine.PAST_DUE:
            return False
        now = held.now
        machine.move(sub, Move.FALL_PAST_DUE, now)
        sub.payment_failed_at = sub.past_due_since = now
        sub.updated_at = now
        tx = Transaction()
        event = SubscriptionPastDue(**subscription_data(sub, _plan_of(held)), invoice_id=None, past_due_since=iso(now))
        tx.events.append(Event(event, Actor("provider", provider), occurred_at=now))
        repository.update_subscription(tx, sub, held.policy)
        tx.commit()
        return True

    return retrying(step, tries=CHANGE_ATTEMPTS)


def _schedule_cancel(tx: Transaction, held: Held, reason: str, actor: Actor) -> None:
    sub, now, policy = held.sub, held.now, held.policy
    machine.move(sub, Move.SCHEDULE_CANCEL, now)
    sub.cancel_reason = reason
    ending = {sub.id}
    for addon_sub in held.linked():
        addon = held.ref.addon(addon_sub.addon_id)
        ending.add(addon_sub.id)
        if addon is None or addon_sub.cancel_at_period_end or not machine.allowed(addon_sub, Move.SCHEDULE_CANCEL):
            continue
        if addon.billing_period == "ONE_TIME" and addon_sub.status == machine.ACTIVE:
            continue  # paid for good: unaffected by the parent's period end (§10); an unpaid trial's one follows
        machine.move(addon_sub, Move.SCHEDULE_CANCEL, now)
        tx.events.append(Event(AddonCancellationScheduled(**addon_data(addon_sub, addon)), actor, occurred_at=now))
        repository.update_addon_subscription(tx, addon_sub, policy)
    _void_unpaid(tx, held, [sub.renewal_invoice_id, sub.pending_invoice_id], ending, "subscription_cancelled", actor)
    plan = _plan_of(held)
    event = SubscriptionCancellationScheduled(
        **subscription_data(sub, plan), expires_at=iso(sub.expires_at), reason=reason
    )
    tx.events.append(Event(event, actor, occurred_at=now))


def _cancel_now(tx: Transaction, held: Held, reason: str, actor: Actor) -> None:
    sub, now, policy = held.sub, held.now, held.policy
    machine.move(sub, Move.CANCEL, now)
    sub.cancel_reason = reason
    ending = {sub.id}
    unpaid: list[str | None] = [sub.pending_invoice_id, sub.renewal_invoice_id]
    for addon_sub in held.linked():
        addon = held.ref.addon(addon_sub.addon_id)
        if addon is None or addon_sub.status in machine.ENDED:
            continue
        if addon.billing_period == "ONE_TIME" and addon_sub.status == machine.ACTIVE:
            continue  # bought for good: unaffected by the parent's later life (§10)
        ending.add(addon_sub.id)
        if addon_sub.status == machine.PENDING:
            unpaid.append(addon_sub.invoice_id)
        machine.move(addon_sub, Move.CANCEL, now)
        addon_sub.cancel_reason = reason
        tx.events.append(Event(AddonCancelled(**addon_data(addon_sub, addon), reason=reason), actor, occurred_at=now))
        repository.update_addon_subscription(tx, addon_sub, policy)
    _void_unpaid(tx, held, unpaid, ending, "subscription_cancelled", actor)
    sub.renewal_invoice_id = None  # nothing renews a cancelled subscription
    event = SubscriptionCancelled(**subscription_data(sub, _plan_of(held)), reason=reason)
    tx.events.append(Event(event, actor, occurred_at=now))


def _plan_of(held: Held) -> PlanItem:
    plan = held.plan
    if plan is None:
        raise LookupError(f"plan {held.sub.tarif_plan_id} is not in the catalog")
    return plan


def reactivate(principal: Principal, subscription_id: str, recorder: AnswerRecorder | None = None) -> dict[str, Any]:
    """§9.2: undo a scheduled cancellation, with the add-ons scheduled with it; a trial gets a new first-period
    invoice (due at its end) in place of the one the cancellation voided."""

    def step() -> dict[str, Any]:
        held = _held(principal, subscription_id)
        sub, now, policy = held.sub, held.now, held.policy
        if not sub.cancel_at_period_end or not machine.allowed(sub, Move.REACTIVATE):
            raise BadRequest("Subscription is not scheduled for cancellation")
        actor = Actor.user(principal.user_id)
        tx = Transaction()
        scheduled_at = sub.cancelled_at
        machine.move(sub, Move.REACTIVATE, now)
        returning = []
        for addon_sub in held.linked():
            # Scheduled with it: the same moment (an add-on the user cancelled on its own stays scheduled).
            if addon_sub.cancel_at_period_end and addon_sub.cancelled_at == scheduled_at:
                machine.move(addon_sub, Move.REACTIVATE, now)
                returning.append(addon_sub)
        if sub.status == machine.TRIALING and _open_invoice(sub) is None:
            returning += [a for a in _reissue_first_invoice(tx, held, actor) if a not in returning]
        for addon_sub in returning:
            repository.update_addon_subscription(tx, addon_sub, policy)
        plan = _plan_of(held)
        tx.events.append(
            Event(
                SubscriptionReactivated(**subscription_data(sub, plan), expires_at=iso(sub.expires_at)),
                actor,
                occurred_at=now,
            )
        )
        repository.update_subscription(tx, sub, policy)
        return _commit(tx, _subscription_answer(held, "Subscription reactivated."), recorder)

    return retrying(step, tries=CHANGE_ATTEMPTS)


def _reissue_first_invoice(tx: Transaction, held: Held, actor: Actor) -> list[AddonSubscriptionItem]:
    """A trial's first-period invoice again (§9.2): its plan and its live add-ons at current prices, due at the
    trial end. The add-ons it bills are bound to it, as checkout binds them."""
    sub, now = held.sub, held.now
    plan = _plan_of(held)
    unit, conversion = held.price(plan.price, plan.currency)
    metadata = {
        "billing_reason": "SUBSCRIPTION_CREATE",
        "plan_id": plan.id,
        "plan_slug": plan.slug,
        "billing_period": plan.billing_period,
        "period_start": None,
        "period_end": None,
        "trial_end_at": iso(sub.trial_end_at),
        **conversion,
    }
    lines = [
        Line(new_id(), "SUBSCRIPTION", plan.name, unit, item_id=sub.id, catalog_item_id=plan.id, metadata=metadata)
    ]
    billed = []
    for addon_sub in held.linked():
        addon = held.ref.addon(addon_sub.addon_id)
        if addon is None or addon_sub.status != machine.TRIALING or addon_sub.cancel_at_period_end:
            continue  # an add-on whose own cancellation stands is not billed again
        addon_unit, addon_conversion = held.price(addon.price, addon.currency)
        addon_metadata = {
            "addon_id": addon.id,
            "addon_slug": addon.slug,
            "billing_period": addon.billing_period,
            "period_start": None,
            "period_end": None,
            "billing_reason": "SUBSCRIPTION_CREATE",
            **addon_conversion,
        }
        line = Line(
            new_id(),
            "ADD_ON",
            addon.name,
            addon_unit,
            item_id=addon_sub.id,
            catalog_item_id=addon.id,
            metadata=addon_metadata,
        )
        lines.append(line)
        billed.append(addon_sub)
    tax, details = _tax(held)
    draft = InvoiceDraft(
        user_id=sub.user_id,
        billing_reason="SUBSCRIPTION_CREATE",
        currency=sub.currency,
        places=held.places,
        lines=lines,
        tax=tax,
        details=details,
        due_date=sub.trial_end_at or now,
        prefix=str(held.ref.settings["invoice_prefix"]),
        payment_method=sub.payment_method_code,
        subscription_id=sub.id,
        tarif_plan_id=plan.id,
    )
    invoice = issue(tx, draft, now, actor)
    sub.pending_invoice_id = invoice.id
    for addon_sub in billed:
        addon_sub.invoice_id = invoice.id
        addon_sub.updated_at = now
    return billed


def pause(principal: Principal, subscription_id: str, recorder: AnswerRecorder | None = None) -> dict[str, Any]:
    """§9.3: ACTIVE → PAUSED with its linked add-ons; an unpaid renewal (or upgrade) invoice is voided; renewals
    and expiry stop until it is resumed."""

    def step() -> dict[str, Any]:
        held = _held(principal, subscription_id)
        sub, now, policy = held.sub, held.now, held.policy
        if sub.status == machine.PAUSED:
            raise BadRequest("Subscription is already paused")
        if not machine.allowed(sub, Move.PAUSE):
            raise BadRequest("Only active subscriptions can be paused")
        actor = Actor.user(principal.user_id)
        tx = Transaction()
        machine.move(sub, Move.PAUSE, now)
        ending = {sub.id}
        for addon_sub in held.linked():
            ending.add(addon_sub.id)
            if addon_sub.status in (machine.ACTIVE, machine.TRIALING) and machine.allowed(addon_sub, Move.PAUSE):
                machine.move(addon_sub, Move.PAUSE, now)
                repository.update_addon_subscription(tx, addon_sub, policy)
        _void_unpaid(tx, held, [sub.renewal_invoice_id, sub.pending_invoice_id], ending, "subscription_paused", actor)
        tx.events.append(
            Event(
                SubscriptionPaused(**subscription_data(sub, _plan_of(held)), paused_at=iso(now)), actor, occurred_at=now
            )
        )
        repository.update_subscription(tx, sub, policy)
        return _commit(tx, _subscription_answer(held, "Subscription paused."), recorder)

    return retrying(step, tries=CHANGE_ATTEMPTS)


def resume(principal: Principal, subscription_id: str, recorder: AnswerRecorder | None = None) -> dict[str, Any]:
    """§9.4: PAUSED → ACTIVE; the subscription and its paused add-ons expire later by the pause's length, and the
    anchor day follows the new expiry."""

    def step() -> dict[str, Any]:
        held = _held(principal, subscription_id)
        sub, now, policy = held.sub, held.now, held.policy
        if not machine.allowed(sub, Move.RESUME):
            raise BadRequest("Subscription is not paused")
        actor = Actor.user(principal.user_id)
        tx = Transaction()
        shift = now - sub.paused_at if sub.paused_at is not None else timedelta(0)
        machine.move(sub, Move.RESUME, now)
        if sub.expires_at is not None:
            sub.expires_at += shift
            sub.anchor_day = sub.expires_at.day
        for addon_sub in held.linked():
            if addon_sub.status == machine.PAUSED:
                machine.move(addon_sub, Move.RESUME, now)
                if addon_sub.expires_at is not None:
                    addon_sub.expires_at += shift
                repository.update_addon_subscription(tx, addon_sub, policy)
        event = SubscriptionResumed(**subscription_data(sub, _plan_of(held)), expires_at=iso(sub.expires_at))
        tx.events.append(Event(event, actor, occurred_at=now))
        repository.update_subscription(tx, sub, policy)
        message = "Subscription resumed. Expiration extended by pause duration."
        return _commit(tx, _subscription_answer(held, message), recorder)

    return retrying(step, tries=CHANGE_ATTEMPTS)


CHANGEABLE = frozenset({"TRIALING", "ACTIVE", "PAST_DUE", "PAUSED"})


def change_plan_now(
    principal: Principal, owner_id: str, subscription_id: str, plan_id: str
) -> tuple[SubscriptionItem, Reference]:
    """admin.md §8.7: the plan switches at once, without invoice or proration — `expires_at` kept (later renewals
    bill the new plan), a scheduled downgrade dropped, no tokens credited; the status does not change, so no move of
    the state machine applies. Access levels follow from `subscription.plan_changed`."""

    def step() -> tuple[SubscriptionItem, Reference]:
        held = _held_by(owner_id, subscription_id)
        sub = held.sub
        if sub.status not in CHANGEABLE:
            raise BadRequest("Only active subscriptions can change plan")
        plan = held.ref.plan(plan_id)
        if plan is None:
            raise BadRequest("Plan not found")
        if plan.id == sub.tarif_plan_id:
            raise BadRequest("Already subscribed to this plan")
        _exclusive_rule(held, plan)
        previous = sub.tarif_plan_id
        sub.tarif_plan_id = plan.id
        sub.pending_plan_id = None
        sub.updated_at = held.now
        tx = Transaction()
        repository.update_subscription(tx, sub, held.policy)
        changed = SubscriptionPlanChanged(**subscription_data(sub, plan), from_plan_id=previous, to_plan_id=plan.id)
        tx.events.append(Event(changed, Actor("admin", principal.user_id), occurred_at=held.now))
        tx.commit()
        return sub, held.ref

    return retrying(step, tries=CHANGE_ATTEMPTS)
