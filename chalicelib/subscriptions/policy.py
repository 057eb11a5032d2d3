"""The subscription plugin's configuration (contract subscriptions.md §13), read once into a typed policy.

Every rule of the lifecycle that an operator may tune — how long before the period end a renewal is billed, the
dunning schedule, when the trial reminder goes out, whether downgrades and proration are on — is read from here,
with the contract's defaults for anything the stored config lacks or holds in a wrong shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.catalog.repository import Reference

PLUGIN = "subscription"


@dataclass(frozen=True)
class LifecyclePolicy:
    renewal_lead_time: timedelta = timedelta(hours=24)
    dunning_retry_days: tuple[int, ...] = (1, 3, 5, 7)
    trial_reminder: timedelta = timedelta(days=3)
    allow_downgrade: bool = True
    proration_enabled: bool = True
    max_subscriptions_per_user: int = 10
    fallback_access_level_slug: str = "logged-in"
    check_interval: timedelta = timedelta(seconds=60)

    @classmethod
    def of(cls, ref: Reference) -> LifecyclePolicy:
        plugin = next((p for p in ref.plugins if p.name == PLUGIN), None)
        return cls.from_config(dict(plugin.config or {}) if plugin is not None else {})

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LifecyclePolicy:
        default = cls()
        retry_days = config.get("dunning_retry_days")
        days = (
            tuple(sorted({int(d) for d in retry_days}))
            if isinstance(retry_days, list) and retry_days and all(_whole(d) and d > 0 for d in retry_days)
            else default.dunning_retry_days
        )
        return cls(
            renewal_lead_time=timedelta(hours=_number(config, "renewal_lead_time_hours", 24, minimum=0)),
            dunning_retry_days=days,
            trial_reminder=timedelta(days=_number(config, "trial_reminder_days", 3, minimum=0)),
            allow_downgrade=_flag(config, "allow_downgrade", default.allow_downgrade),
            proration_enabled=_flag(config, "proration_enabled", default.proration_enabled),
            max_subscriptions_per_user=_number(config, "max_subscriptions_per_user", 10, minimum=1),
            fallback_access_level_slug=str(config.get("fallback_access_level_slug") or "logged-in"),
            check_interval=timedelta(seconds=_number(config, "expiration_check_interval_seconds", 60, minimum=1)),
        )


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(config: dict[str, Any], key: str, default: int, *, minimum: int) -> int:
    value = config.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
        return value
    return default


def _flag(config: dict[str, Any], key: str, default: bool) -> bool:
    value = config.get(key)
    return value if isinstance(value, bool) else default
