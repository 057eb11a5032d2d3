"""Which user access levels a user holds after a subscription event (subscriptions.md §5.3) — pure domain.

The decision is made from the state found when the event is handled, not from the event alone: events arrive at
least once and in any order (events.md §1), so a level is granted only while a valid subscription of the user is
on its plan, and taken away only when none is.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol


class Level(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def slug(self) -> str: ...

    @property
    def linked_plan_slug(self) -> str | None: ...


@dataclass(frozen=True)
class Change:
    """What an event asks for: the plans the user (may have) joined, and those they (may have) left."""

    joined: frozenset[str] = frozenset()
    left: frozenset[str] = frozenset()


def follow(
    held: Sequence[str],
    levels: Collection[Level],
    change: Change,
    valid_plans: Collection[str],
    fallback_slug: str,
) -> list[str]:
    """The level ids the user holds after `change`, given the plan slugs of their valid subscriptions now.

    - every level linked to a joined plan is added, while a valid subscription is on that plan;
    - every level linked to a left plan is removed, unless a valid subscription is still on that plan;
    - if a level was removed and the user keeps no plan-linked level, the fallback level is added.
    Levels the user holds otherwise (assigned by an admin, unlinked) are kept, in their order.
    """
    linked: dict[str, list[Level]] = {}
    for level in levels:
        if level.linked_plan_slug:
            linked.setdefault(level.linked_plan_slug, []).append(level)
    plan_linked_ids = {level.id for group in linked.values() for level in group}
    result = list(dict.fromkeys(held))
    removed = False
    for plan in sorted(change.left - set(valid_plans)):
        for level in linked.get(plan, []):
            if level.id in result:
                result.remove(level.id)
                removed = True
    for plan in sorted(change.joined & set(valid_plans)):
        for level in linked.get(plan, []):
            if level.id not in result:
                result.append(level.id)
    if removed and not plan_linked_ids.intersection(result):
        fallback = next((level for level in levels if level.slug == fallback_slug), None)
        if fallback is not None and fallback.id not in result:
            result.append(fallback.id)
    return result
