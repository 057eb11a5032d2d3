"""The plugins of this product (admin.md §15) and whether each is enabled.

Enabled states and configs are catalog records, read through the version-checked catalog snapshot: every
instance sees a change with its next request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PluginSpec:
    name: str
    description: str
    dependencies: tuple[str, ...] = ()
    default_config: dict[str, Any] = field(default_factory=dict)
    version: str = "1.0.0"
    author: str = "VBWD Serverless"


PLUGINS: dict[str, PluginSpec] = {
    spec.name: spec
    for spec in (
        PluginSpec(
            "email",
            "Transactional e-mail and SMS",
            default_config={
                "from_address": "billing@vbwd.local",
                "from_name": "VBWD",
                "sms_sender_id": "VBWD",
                "sms_enabled": True,
            },
        ),
        PluginSpec(
            "subscription",
            "Plans, subscriptions, add-ons and checkout",
            ("email",),
            {
                "expiration_check_interval_seconds": 60,
                "renewal_lead_time_hours": 24,
                "dunning_retry_days": [1, 3, 5, 7],
                "trial_reminder_days": 3,
                "allow_downgrade": True,
                "proration_enabled": True,
                "max_subscriptions_per_user": 10,
                "fallback_access_level_slug": "logged-in",
            },
        ),
        PluginSpec("booking", "Resources, appointments and the grooming extension", ("email",)),
        PluginSpec("analytics", "MRR, revenue, churn and the activity log"),
        PluginSpec(
            "webhooks",
            "Signed outbound webhooks",
            default_config={
                "timeout_seconds": 10,
                "retry_schedule_minutes": [1, 5, 30, 60, 120, 240, 480, 480],
                "max_endpoints": 20,
                "allow_http_in_local": True,
            },
        ),
        PluginSpec("stripe", "Card payments through Stripe", default_config={"sandbox": True}),
        PluginSpec("paypal", "PayPal payments", default_config={"sandbox": True}),
        PluginSpec("yookassa", "YooKassa payments", default_config={"sandbox": True}),
        PluginSpec("sandbox", "Instant test payments (local and dev stages only)"),
    )
}


@dataclass(frozen=True)
class PluginState:
    enabled: bool
    config: dict[str, Any]


def plugin_states() -> dict[str, PluginState]:
    """Enabled states and saved configs, from the catalog snapshot (so a change is seen by the next request)."""
    from chalicelib.catalog.repository import reference

    return {item.name: PluginState(bool(item.enabled), dict(item.config or {})) for item in reference().plugins}


def is_enabled(name: str) -> bool:
    state = plugin_states().get(name)
    return state is not None and state.enabled


def forget_cached_states() -> None:
    from chalicelib.catalog.repository import forget_snapshot

    forget_snapshot()
