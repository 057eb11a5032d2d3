"""The signed-in user's subscriptions and add-ons (contract subscriptions.md §12.1, §12.2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.catalog.repository import reference
from chalicelib.core import clock
from chalicelib.core.errors import BadRequest, Forbidden, NotFound
from chalicelib.events.catalog import AddonCancellationScheduled, AddonCancelled
from chalicelib.events.envelope import Actor, Event
from chalicelib.invoices import repository as invoices
from chalicelib.store.retry import retrying
from chalicelib.store.transactions import Transaction
from chalicelib.subscriptions import machine, repository, serializers, states
from chalicelib.subscriptions.events import addon_data
from chalicelib.subscriptions.machine import Move
from chalicelib.subscriptions.models import AddonSubscriptionItem, SubscriptionItem
from chalicelib.subscriptions.policy import LifecyclePolicy

if TYPE_CHECKING:
    from datetime import datetime

    from chalicelib.auth.principal import Principal
    from chalicelib.catalog.models import AddonItem

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
    valid = [s for s in _newest_first(repository.subscriptions_of(principal.user_id)) if states.is_valid(s, now)]
    return {"subscription": serializers.with_plan(valid[0], reference(), now) if valid else None}


def active_subscriptions(principal: Principal) -> dict[str, Any]:
    ref, now = reference(), clock.now()
    valid = [s for s in _newest_first(repository.subscriptions_of(principal.user_id)) if states.is_valid(s, now)]
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
        if addon is None or not states.addon_cancellable(owned.item):
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
    if states.addon_cancel_waits_for_period_end(item, addon.billing_period):
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
        wanted = wanted or states.still_wanted(status)
    if not wanted:
        invoices.void(tx, records.invoice, "items_cancelled", actor, now)
