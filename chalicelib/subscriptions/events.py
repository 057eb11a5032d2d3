"""The common `data` of subscription and add-on events (contract events.md §2.3)."""

from __future__ import annotations

from typing import Any

from chalicelib.catalog.models import AddonItem, PlanItem
from chalicelib.core.times import iso
from chalicelib.subscriptions.models import AddonSubscriptionItem, SubscriptionItem


def subscription_data(sub: SubscriptionItem, plan: PlanItem) -> dict[str, Any]:
    return {
        "subscription_id": sub.id,
        "user_id": sub.user_id,
        "plan_id": plan.id,
        "plan_slug": plan.slug,
        "plan_name": plan.name,
        "status": sub.status,
    }


def addon_data(addon_sub: AddonSubscriptionItem, addon: AddonItem) -> dict[str, Any]:
    return {
        "addon_subscription_id": addon_sub.id,
        "addon_id": addon.id,
        "addon_slug": addon.slug,
        "user_id": addon_sub.user_id,
        "subscription_id": addon_sub.subscription_id,
        "starts_at": iso(addon_sub.starts_at),
        "expires_at": iso(addon_sub.expires_at),
    }
