"""Access-level automation (contract subscriptions.md §5.3): a subscription event changes the user's plan-linked
user access levels, decided from the state found now (`levels.follow`) and written on the user's version."""

from __future__ import annotations

from typing import Any

from chalicelib.access import repository
from chalicelib.access.levels import Change, follow
from chalicelib.core import clock
from chalicelib.core.logging import logger
from chalicelib.store.retry import retrying
from chalicelib.store.transactions import Transaction

JOINING = frozenset({"subscription.activated", "subscription.renewed"})
SWITCHING = frozenset({"subscription.upgraded", "subscription.downgraded", "subscription.plan_changed"})
LEAVING = frozenset({"subscription.cancelled", "subscription.expired"})
EVENT_TYPES: tuple[str, ...] = tuple(sorted(JOINING | SWITCHING | LEAVING))
ATTEMPTS = 8


def change_of(event_type: str, data: dict[str, Any], plan_slug_of: Any) -> Change:
    """The plans an event says the user joined and left (slugs; `plan_slug_of(plan_id)` names a plan's)."""
    current = str(data.get("plan_slug") or "")
    if event_type in JOINING:
        return Change(joined=frozenset({current}))
    if event_type in LEAVING:
        return Change(left=frozenset({current}))
    if event_type in SWITCHING:
        to_slug = plan_slug_of(str(data.get("to_plan_id", ""))) or current
        from_slug = plan_slug_of(str(data.get("from_plan_id", "")))
        return Change(joined=frozenset({to_slug}), left=frozenset({from_slug} if from_slug else set()))
    return Change()


def apply(event_type: str, data: dict[str, Any]) -> list[str] | None:
    """Bring the user's access levels in step with the event; the level ids written, None when nothing changed."""
    from chalicelib.catalog.repository import reference
    from chalicelib.subscriptions import machine
    from chalicelib.subscriptions.policy import LifecyclePolicy
    from chalicelib.subscriptions.repository import live_holdings
    from chalicelib.users.repository import find_user

    user_id = str(data.get("user_id", ""))

    def step() -> list[str] | None:
        user = find_user(user_id)
        if user is None:
            logger.warning("access levels: no such user", user_id=user_id, event_type=event_type)
            return None
        ref, now = reference(), clock.now()

        def slug_of(plan_id: str) -> str | None:
            plan = ref.plan(plan_id) if plan_id else None
            return str(plan.slug) if plan is not None else None

        subscriptions, _ = live_holdings(user_id)
        valid_plans = {slug_of(s.tarif_plan_id) for s in subscriptions if machine.is_valid(s, now)}
        fallback = LifecyclePolicy.of(ref).fallback_access_level_slug
        held = list(user.user_access_level_ids)
        decided = follow(
            held,
            ref.user_access_levels,
            change_of(event_type, data, slug_of),
            {p for p in valid_plans if p},
            fallback,
        )
        if decided == held:
            return None
        tx = Transaction()
        repository.set_user_levels(tx, user, decided, now)
        tx.commit()
        return decided

    # A refusal means the user changed since it was read (a login, a rename, another event): read again.
    return retrying(step, tries=ATTEMPTS)
