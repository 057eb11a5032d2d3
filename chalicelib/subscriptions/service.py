"""The signed-in user's subscriptions and add-ons (contract subscriptions.md §12.1, §12.2)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.catalog.pricing import Currencies
from chalicelib.catalog.repository import Reference, reference
from chalicelib.core import clock
from chalicelib.core.errors import BadRequest, Forbidden, NotFound
from chalicelib.core.money import format_money
from chalicelib.events.catalog import AddonCancellationScheduled, AddonCancelled
from chalicelib.events.envelope import Actor, Event
from chalicelib.invoices import repository as invoices
from chalicelib.invoices.models import InvoiceItem
from chalicelib.invoices.repository import invoice_records
from chalicelib.store.transactions import Transaction
from chalicelib.subscriptions import serializers
from chalicelib.subscriptions.events import addon_data
from chalicelib.subscriptions.models import AddonSubscriptionItem, SubscriptionItem
from chalicelib.subscriptions.repository import holdings_of

if TYPE_CHECKING:
    from datetime import datetime

    from chalicelib.auth.principal import Principal

SUBSCRIPTION_STATUSES = ("PENDING", "TRIALING", "ACTIVE", "PAST_DUE", "PAUSED", "CANCELLED", "EXPIRED")


def _with_plan(sub: SubscriptionItem, ref: Reference, now: datetime) -> dict[str, Any]:
    currencies = Currencies.of(ref.currencies)
    categories = ref.categories_by_id()
    plan = ref.plan(sub.tarif_plan_id)
    pending = ref.plan(sub.pending_plan_id) if sub.pending_plan_id else None
    return {
        **serializers.subscription(sub, now),
        "plan": serializers.plan_summary(plan, currencies.places(plan.currency) if plan else 2, categories),
        "pending_plan": {"id": pending.id, "name": pending.name, "slug": pending.slug} if pending else None,
    }


def _newest_first(items: list[SubscriptionItem]) -> list[SubscriptionItem]:
    return sorted(items, key=lambda s: s.created_at, reverse=True)


def list_subscriptions(principal: Principal, status: str | None) -> dict[str, Any]:
    subscriptions, _ = holdings_of(principal.user_id)
    if status:
        wanted = status.strip().upper()
        if wanted not in SUBSCRIPTION_STATUSES:
            raise BadRequest(f"Invalid status: {status}")
        subscriptions = [s for s in subscriptions if s.status == wanted]
    ref, now = reference(), clock.now()
    items = [_with_plan(s, ref, now) for s in _newest_first(subscriptions)]
    return {"subscriptions": items, "total": len(items)}


def active_subscription(principal: Principal) -> dict[str, Any]:
    """The primary subscription: the most recently created one that grants access."""
    subscriptions, _ = holdings_of(principal.user_id)
    now = clock.now()
    valid = [s for s in _newest_first(subscriptions) if serializers.is_valid(s, now)]
    return {"subscription": _with_plan(valid[0], reference(), now) if valid else None}


def active_subscriptions(principal: Principal) -> dict[str, Any]:
    subscriptions, _ = holdings_of(principal.user_id)
    ref, now = reference(), clock.now()
    valid = [s for s in _newest_first(subscriptions) if serializers.is_valid(s, now)]
    return {"subscriptions": [_with_plan(s, ref, now) for s in valid]}


def get_subscription(principal: Principal, subscription_id: str) -> dict[str, Any]:
    subscriptions, addons = holdings_of(principal.user_id)
    sub = next((s for s in subscriptions if s.id == subscription_id), None)
    if sub is None:
        raise NotFound("Subscription not found")  # another user's answers the same (subscriptions.md §1)
    now = clock.now()
    body = _with_plan(sub, reference(), now)
    body["add_ons"] = [
        serializers.addon_subscription(a, now, sub)
        for a in sorted(addons, key=lambda a: a.created_at, reverse=True)
        if a.subscription_id == sub.id
    ]
    return {"subscription": body}


# --- add-ons ---------------------------------------------------------------------------------------------------


def _addon_json(
    item: AddonSubscriptionItem, parents: dict[str, SubscriptionItem], ref: Reference, now: datetime
) -> dict[str, Any]:
    addon = ref.addon(item.addon_id)
    places = Currencies.of(ref.currencies).places(addon.currency) if addon else 2
    return {
        **serializers.addon_subscription(item, now, parents.get(item.subscription_id or "")),
        "addon": serializers.addon_summary(addon, places),
    }


def list_addons(principal: Principal) -> dict[str, Any]:
    subscriptions, addons = holdings_of(principal.user_id)
    parents = {s.id: s for s in subscriptions}
    ref, now = reference(), clock.now()
    ordered = sorted(addons, key=lambda a: a.created_at, reverse=True)
    return {"addon_subscriptions": [_addon_json(a, parents, ref, now) for a in ordered]}


def _owned_addon(
    principal: Principal, addon_subscription_id: str
) -> tuple[AddonSubscriptionItem, dict[str, SubscriptionItem], dict[str, AddonSubscriptionItem]]:
    subscriptions, addons = holdings_of(principal.user_id)
    item = next((a for a in addons if a.id == addon_subscription_id), None)
    if item is None:
        if any(True for _ in AddonSubscriptionItem.gsi1.query(f"ADDONSUB#{addon_subscription_id}", limit=1)):
            raise Forbidden("Access denied")
        raise NotFound("Add-on subscription not found")
    return item, {s.id: s for s in subscriptions}, {a.id: a for a in addons}


def get_addon(principal: Principal, addon_subscription_id: str) -> dict[str, Any]:
    item, parents, _ = _owned_addon(principal, addon_subscription_id)
    ref, now = reference(), clock.now()
    body = _addon_json(item, parents, ref, now)
    invoice = None
    records = invoice_records(item.invoice_id) if item.invoice_id else None
    if records is not None:
        places = Currencies.of(ref.currencies).places(records.invoice.currency)
        invoice = {
            "id": records.invoice.id,
            "invoice_number": records.invoice.invoice_number,
            "status": records.invoice.status,
            "amount": format_money(records.invoice.total_amount, places),
            "currency": records.invoice.currency,
        }
    body["invoice"] = invoice
    return {"addon_subscription": body}


def cancel_addon(principal: Principal, addon_subscription_id: str) -> dict[str, Any]:
    """subscriptions.md §12.2: recurring ACTIVE ends at its period end; everything else ends now."""
    item, parents, addons = _owned_addon(principal, addon_subscription_id)
    ref, now = reference(), clock.now()
    addon = ref.addon(item.addon_id)
    if addon is None or item.status in ("CANCELLED", "EXPIRED") or item.cancel_at_period_end:
        raise BadRequest("Add-on subscription cannot be cancelled")
    actor = Actor.user(principal.user_id)
    tx = Transaction()
    item.cancelled_at = now
    item.updated_at = now
    if item.status == "ACTIVE" and addon.billing_period != "ONE_TIME" and item.expires_at is not None:
        item.cancel_at_period_end = True
        tx.events.append(Event(AddonCancellationScheduled(**addon_data(item, addon)), actor, occurred_at=now))
    else:
        was_pending = item.status == "PENDING"
        item.status = "CANCELLED"
        item.cancel_reason = "user"
        tx.events.append(Event(AddonCancelled(**addon_data(item, addon), reason="user"), actor, occurred_at=now))
        if was_pending and item.invoice_id:
            _void_if_nothing_else(tx, item, parents, addons, actor, now)
    tx.put(item, label="AddonSubscriptionItem")
    tx.commit()
    return {"addon_subscription": _addon_json(item, parents, ref, now), "message": "Add-on cancelled successfully"}


def _void_if_nothing_else(
    tx: Transaction,
    item: AddonSubscriptionItem,
    subscriptions: dict[str, SubscriptionItem],
    addons: dict[str, AddonSubscriptionItem],
    actor: Actor,
    now: datetime,
) -> None:
    """A pending add-on's invoice is voided when it bills nothing else still wanted (subscriptions.md §12.2)."""
    records = invoice_records(str(item.invoice_id))
    if records is None or records.invoice.status != "PENDING":
        return
    invoice: InvoiceItem = records.invoice
    purchases = {p.id: p for p in records.purchases}

    def still_wanted(item_id: str | None) -> bool:
        held = subscriptions.get(item_id or "") or addons.get(item_id or "") or purchases.get(item_id or "")
        return held is None or held.status not in ("CANCELLED", "EXPIRED")

    others = [line for line in invoice.lines if line.item_id != item.id and still_wanted(line.item_id)]
    if others:
        return  # paid later, the cancelled add-on's line is refunded at capture
    invoices.void(tx, invoice, "items_cancelled", actor, now)
