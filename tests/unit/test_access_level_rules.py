"""Which access levels a subscription event leaves a user with (subscriptions.md §5.3): `chalicelib.access.levels`."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.access.levels import Change, follow
from chalicelib.access.service import change_of


@dataclass(frozen=True)
class L:
    id: str
    slug: str
    linked_plan_slug: str | None


LEVELS = [
    L("new", "new", None),
    L("logged", "logged-in", "free"),
    L("basic", "subscribed-basic", "basic"),
    L("pro", "subscribed-pro", "pro"),
    L("pro2", "pro-extras", "pro"),
    L("vip", "vip", None),
]


def joined(*plans: str) -> Change:
    return Change(joined=frozenset(plans))


def left(*plans: str) -> Change:
    return Change(left=frozenset(plans))


def test_joining_a_plan_adds_every_level_linked_to_it() -> None:
    assert follow(["logged"], LEVELS, joined("pro"), {"pro"}, "logged-in") == ["logged", "pro", "pro2"]


def test_joining_is_idempotent() -> None:
    once = follow(["logged"], LEVELS, joined("basic"), {"basic"}, "logged-in")
    assert follow(once, LEVELS, joined("basic"), {"basic"}, "logged-in") == once == ["logged", "basic"]


def test_a_join_whose_subscription_is_no_longer_valid_adds_nothing() -> None:
    """The activation is handled after the cancellation (events come in any order)."""
    assert follow(["logged"], LEVELS, joined("basic"), set(), "logged-in") == ["logged"]


def test_leaving_removes_the_plan_s_levels_and_assigns_the_fallback_when_no_plan_level_is_left() -> None:
    assert follow(["pro", "pro2"], LEVELS, left("pro"), set(), "logged-in") == ["logged"]


def test_leaving_keeps_the_levels_while_another_valid_subscription_is_on_the_plan() -> None:
    assert follow(["logged", "pro", "pro2"], LEVELS, left("pro"), {"pro"}, "logged-in") == ["logged", "pro", "pro2"]


def test_no_fallback_while_another_plan_level_is_held() -> None:
    assert follow(["basic", "pro"], LEVELS, left("pro"), {"basic"}, "logged-in") == ["basic"]


def test_no_fallback_when_nothing_was_removed() -> None:
    assert follow(["vip"], LEVELS, left("pro"), set(), "logged-in") == ["vip"]


def test_levels_not_linked_to_a_plan_are_kept_in_their_order() -> None:
    assert follow(["vip", "basic", "new"], LEVELS, left("basic"), set(), "logged-in") == ["vip", "new", "logged"]


def test_a_missing_fallback_level_is_not_invented() -> None:
    assert follow(["basic"], LEVELS, left("basic"), set(), "nowhere") == []


def test_switching_plans_moves_the_levels() -> None:
    change = Change(joined=frozenset({"pro"}), left=frozenset({"basic"}))
    assert follow(["logged", "basic"], LEVELS, change, {"pro"}, "logged-in") == ["logged", "pro", "pro2"]


def test_what_each_event_asks_for() -> None:
    slugs = {"p-basic": "basic", "p-pro": "pro"}.get
    data = {"plan_slug": "pro", "from_plan_id": "p-basic", "to_plan_id": "p-pro"}
    assert change_of("subscription.activated", data, slugs) == joined("pro")
    assert change_of("subscription.renewed", data, slugs) == joined("pro")
    assert change_of("subscription.cancelled", data, slugs) == left("pro")
    assert change_of("subscription.expired", data, slugs) == left("pro")
    for switch in ("subscription.upgraded", "subscription.downgraded", "subscription.plan_changed"):
        assert change_of(switch, data, slugs) == Change(joined=frozenset({"pro"}), left=frozenset({"basic"}))
    assert change_of("subscription.paused", data, slugs) == Change()
