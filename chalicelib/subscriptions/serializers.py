"""JSON shapes of subscriptions and add-on subscriptions (contract subscriptions.md §2; answers in `schemas`).

What a status means (`is_valid`) is asked of `machine`; this module only shapes.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.catalog.models import AddonItem, CategoryItem, PlanItem
from chalicelib.catalog.pricing import Currencies
from chalicelib.core.money import as_number, format_money
from chalicelib.core.times import iso
from chalicelib.subscriptions import machine
from chalicelib.subscriptions.models import AddonSubscriptionItem, SubscriptionItem

if TYPE_CHECKING:
    from chalicelib.catalog.repository import Reference
    from chalicelib.invoices.models import InvoiceItem

SECONDS_PER_DAY = 86400


def days_remaining(expires_at: datetime | None, now: datetime) -> int | None:
    if expires_at is None:
        return None
    return max(0, math.floor((expires_at - now).total_seconds() / SECONDS_PER_DAY))


def plan_summary(plan: PlanItem | None, places: int, categories: dict[str, CategoryItem]) -> dict[str, Any] | None:
    if plan is None:
        return None
    return {
        "id": plan.id,
        "name": plan.name,
        "slug": plan.slug,
        "price": as_number(plan.price, places),
        "currency": plan.currency,
        "billing_period": plan.billing_period,
        "categories": [
            {"id": c.id, "slug": c.slug, "name": c.name, "is_single": c.is_single}
            for c in (categories.get(i) for i in plan.category_ids)
            if c is not None
        ],
    }


def subscription(item: SubscriptionItem, now: datetime) -> dict[str, Any]:
    return {
        "id": item.id,
        "user_id": item.user_id,
        "tarif_plan_id": item.tarif_plan_id,
        "pending_plan_id": item.pending_plan_id,
        "status": item.status,
        "is_valid": machine.is_valid(item, now),
        "is_trialing": item.status == "TRIALING",
        "days_remaining": days_remaining(item.expires_at, now),
        "started_at": iso(item.started_at),
        "current_period_start": iso(item.current_period_start),
        "expires_at": iso(item.expires_at),
        "trial_end_at": iso(item.trial_end_at),
        "cancel_at_period_end": item.cancel_at_period_end,
        "cancelled_at": iso(item.cancelled_at),
        "cancel_reason": item.cancel_reason,
        "paused_at": iso(item.paused_at),
        "payment_failed_at": iso(item.payment_failed_at),
        "past_due_since": iso(item.past_due_since),
        "next_retry_at": iso(item.next_retry_at),
        "dunning_attempts": int(item.dunning_attempts),
        "currency": item.currency,
        "payment_method_code": item.payment_method_code,
        "has_saved_payment_method": item.has_saved_payment_method,
        "pending_invoice_id": item.pending_invoice_id,
        "provider_subscription_id": item.provider_subscription_id,
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
    }


def addon_subscription(item: AddonSubscriptionItem, now: datetime, parent: SubscriptionItem | None) -> dict[str, Any]:
    return {
        "id": item.id,
        "user_id": item.user_id,
        "addon_id": item.addon_id,
        "subscription_id": item.subscription_id,
        "invoice_id": item.invoice_id,
        "status": item.status,
        "is_valid": machine.addon_is_valid(item, now, parent),
        "starts_at": iso(item.starts_at),
        "expires_at": iso(item.expires_at),
        "cancel_at_period_end": item.cancel_at_period_end,
        "cancelled_at": iso(item.cancelled_at),
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
    }


def addon_summary(addon: AddonItem | None, places: int) -> dict[str, Any] | None:
    if addon is None:
        return None
    return {
        "name": addon.name,
        "slug": addon.slug,
        "description": addon.description,
        "price": format_money(addon.price, places),
        "currency": addon.currency,
        "billing_period": addon.billing_period,
    }


# --- read models: an item with what the catalog says about it ----------------------------------------------------


def with_plan(item: SubscriptionItem, ref: Reference, now: datetime) -> dict[str, Any]:
    """A subscription with its plan summary and the plan of a scheduled downgrade (§2.2)."""
    currencies = Currencies.of(ref.currencies)
    plan = ref.plan(item.tarif_plan_id)
    pending = ref.plan(item.pending_plan_id) if item.pending_plan_id else None
    return {
        **subscription(item, now),
        "plan": plan_summary(plan, currencies.places(plan.currency) if plan else 2, ref.categories_by_id()),
        "pending_plan": {"id": pending.id, "name": pending.name, "slug": pending.slug} if pending else None,
    }


def addon_with_summary(
    item: AddonSubscriptionItem, parent: SubscriptionItem | None, ref: Reference, now: datetime
) -> dict[str, Any]:
    """An add-on subscription with the summary of its add-on (§2.4)."""
    addon = ref.addon(item.addon_id)
    places = Currencies.of(ref.currencies).places(addon.currency) if addon else 2
    return {**addon_subscription(item, now, parent), "addon": addon_summary(addon, places)}


def invoice_summary(invoice: InvoiceItem, ref: Reference) -> dict[str, Any]:
    """The invoice of an add-on subscription, as its detail shows it (§12.2)."""
    places = Currencies.of(ref.currencies).places(invoice.currency)
    return {
        "id": invoice.id,
        "invoice_number": invoice.invoice_number,
        "status": invoice.status,
        "amount": format_money(invoice.total_amount, places),
        "currency": invoice.currency,
    }
