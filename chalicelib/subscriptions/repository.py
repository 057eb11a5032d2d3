"""Reads and writes of a user's subscriptions and add-on subscriptions (one partition per user).

Two reads of a user's holdings:
- `live_holdings`: what still counts — subscriptions that hold a place (TRIALING, ACTIVE, PAST_DUE, PAUSED) and
  add-on subscriptions not yet ended — from the sparse local index `live`, strongly consistent. Checkout's rules and
  capture's conflicts read this, so a user's history and abandoned checkouts cost them nothing. It is bounded by
  `max_subscriptions_per_user` (default 10) subscriptions with at most 20 add-ons each.
- `holdings_of`: everything, history included, for the user's own lists (answered whole up to 1000 items, README
  §1.11). Abandoned checkouts leave it when invoice housekeeping cancels their invoice and its PENDING items.

Every write derives the item's index keys from its state, the lifecycle job's next step included
(`machine.next_step` under the plugin's policy), so the due-time index never disagrees with the item.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from pynamodb.exceptions import DoesNotExist

from chalicelib.core.paging import Page, PageRequest, slice_page
from chalicelib.core.times import sortable
from chalicelib.store.base import SubscriptionsTable
from chalicelib.store.reads import Key, batch_get
from chalicelib.store.transactions import Transaction
from chalicelib.subscriptions.machine import next_step
from chalicelib.subscriptions.models import (
    ALL_COUNTS,
    ALL_SUBSCRIPTIONS,
    SUBSCRIPTION_PREFIX,
    AddonSubscribersItem,
    AddonSubscriptionItem,
    BilledPeriodItem,
    PlanSubscribersItem,
    ProviderSubscriptionLinkItem,
    SubscriberCounts,
    SubscriptionCountsItem,
    SubscriptionItem,
    due_partition,
    subscriptions_in,
    user_partition,
)

if TYPE_CHECKING:
    from chalicelib.subscriptions.policy import LifecyclePolicy

Holding = SubscriptionItem | AddonSubscriptionItem


# --- reads -----------------------------------------------------------------------------------------------------

# The labels of these records in a transaction: a refusal of one means it changed since it was read.
SUBSCRIPTION = "subscription"
ADDON_SUBSCRIPTION = "addon_subscription"


def _split(items: Iterable[object]) -> tuple[list[SubscriptionItem], list[AddonSubscriptionItem]]:
    subscriptions: list[SubscriptionItem] = []
    addons: list[AddonSubscriptionItem] = []
    for item in items:
        if isinstance(item, SubscriptionItem):
            subscriptions.append(item)
        elif isinstance(item, AddonSubscriptionItem):
            addons.append(item)
    return subscriptions, addons


def holdings_of(user_id: str) -> tuple[list[SubscriptionItem], list[AddonSubscriptionItem]]:
    """Every subscription and add-on subscription of the user, history included, by one consistent Query."""
    return _split(SubscriptionsTable.query(user_partition(user_id), consistent_read=True))


def live_holdings(user_id: str) -> tuple[list[SubscriptionItem], list[AddonSubscriptionItem]]:
    """The user's holdings that still count (the `live` local index, strongly consistent)."""
    return _split(SubscriptionsTable.live.query(user_partition(user_id), consistent_read=True))


def holdings_by_id(
    user_id: str, subscription_ids: Iterable[str], addon_ids: Iterable[str]
) -> tuple[list[SubscriptionItem], list[AddonSubscriptionItem]]:
    """Named holdings of the user, whatever their status (one BatchGetItem; missing ones are left out)."""
    keys: list[Key] = [(SubscriptionItem, *SubscriptionItem.key(user_id, i)) for i in dict.fromkeys(subscription_ids)]
    keys += [(AddonSubscriptionItem, *AddonSubscriptionItem.key(user_id, i)) for i in dict.fromkeys(addon_ids)]
    return _split(item for item in batch_get(keys) if item is not None) if keys else ([], [])


def subscriptions_of(user_id: str) -> list[SubscriptionItem]:
    """The user's subscriptions (not their add-ons), by one consistent Query of the `SUB#` range."""
    query = SubscriptionsTable.query(
        user_partition(user_id), SubscriptionsTable.sk.startswith(SUBSCRIPTION_PREFIX), consistent_read=True
    )
    return [item for item in query if isinstance(item, SubscriptionItem)]


def addon_subscription_exists(addon_subscription_id: str) -> bool:
    """Whether any user holds this add-on subscription (GSI1; tells another user's id from an unknown one)."""
    query = AddonSubscriptionItem.gsi1.query(AddonSubscriptionItem.by_id(addon_subscription_id), limit=1)
    return any(True for _ in query)


def subscription_of(user_id: str, subscription_id: str) -> SubscriptionItem | None:
    try:
        return SubscriptionItem.get(*SubscriptionItem.key(user_id, subscription_id), consistent_read=True)
    except DoesNotExist:
        return None


def addon_subscription_of(user_id: str, addon_subscription_id: str) -> AddonSubscriptionItem | None:
    try:
        return AddonSubscriptionItem.get(
            *AddonSubscriptionItem.key(user_id, addon_subscription_id), consistent_read=True
        )
    except DoesNotExist:
        return None


DUE_PAGE = 100


def due_by(shard: int, moment: datetime) -> Iterator[Holding]:
    """The items of one due-index shard whose next lifecycle step is due at or before `moment`, oldest first
    (a Query of GSI2 `DUE#<shard>` with the sort key up to `moment`, read a page of `DUE_PAGE` at a time)."""
    upper = f"{sortable(moment)}#~"  # every kind and id of the moments up to `moment`
    query = SubscriptionsTable.gsi2.query(due_partition(shard), SubscriptionsTable.gsi2sk <= upper, page_size=DUE_PAGE)
    for item in query:
        if isinstance(item, SubscriptionItem | AddonSubscriptionItem):
            yield item


def linked_addons(user_id: str, subscription_id: str) -> list[AddonSubscriptionItem]:
    """The add-on subscriptions of one subscription that still count (the user's `live` index)."""
    _, addons = live_holdings(user_id)
    return [a for a in addons if a.subscription_id == subscription_id]


@dataclass(frozen=True)
class SubscriptionFilter:
    """What an admin's list asks for (admin.md §8.2); None is "any"."""

    status: str | None = None
    plan_id: str | None = None
    user_id: str | None = None

    def admits(self, sub: SubscriptionItem) -> bool:
        return (self.status is None or sub.status == self.status) and (
            self.plan_id is None or sub.tarif_plan_id == self.plan_id
        )


def admin_subscriptions_page(flt: SubscriptionFilter, request: PageRequest) -> Page[SubscriptionItem]:
    """A page of subscriptions, newest first, and its total — never counted from the items.

    With a user: one consistent Query of the user's `SUB#` range (bounded by one user's subscriptions), filtered and
    sliced in memory. Otherwise one Query of GSI4 `SUBS#<status>` (a status asked) or GSI3 `SUBSCRIPTIONS`, newest
    first, `Limit` = what the page needs, below the cursor's last key; a plan asked is a filter on that Query. The
    total is one Query of the 16 shards of `COUNT#SUBSCRIPTIONS`, or with a plan one GetItem of its counts."""
    if flt.user_id is not None:
        mine = sorted(
            (sub for sub in subscriptions_of(flt.user_id) if flt.admits(sub)),
            key=lambda sub: (sub.created_at, sub.id),
            reverse=True,
        )
        return slice_page(mine, request)
    before = str(request.after["before"]) if request.after else None
    skip = 0 if request.after else request.offset
    wanted = skip + request.limit + 1  # one more tells whether a next page exists
    if flt.status is not None:
        index, partition, key = SubscriptionItem.gsi4, subscriptions_in(flt.status), SubscriptionItem.gsi4sk
    else:
        index, partition, key = SubscriptionItem.gsi3, ALL_SUBSCRIPTIONS, SubscriptionItem.gsi3sk
    query = index.query(
        partition,
        key < before if before else None,
        filter_condition=SubscriptionItem.tarif_plan_id == flt.plan_id if flt.plan_id else None,
        scan_index_forward=False,
        limit=wanted,
        page_size=wanted,
    )
    found = [sub for sub in query if isinstance(sub, SubscriptionItem)]
    shown = found[skip : skip + request.limit]
    more = len(found) > skip + request.limit
    next_key = {"before": f"{sortable(shown[-1].created_at)}#{shown[-1].id}"} if more and shown else None
    # Index reads lag their writes: each item is read again from its table, consistently, in one BatchGetItem.
    fresh = subscriptions_by_key([(sub.user_id, sub.id) for sub in shown])
    return Page(fresh, _admin_total(flt), request.offset, request.limit, next_key)


def _admin_total(flt: SubscriptionFilter) -> int:
    if flt.plan_id is not None:
        counts: SubscriberCounts | None = plan_subscribers(flt.plan_id)
        if counts is None:
            return 0
        return counts.of(flt.status) if flt.status else int(counts.total)
    shards = SubscriptionCountsItem.query(ALL_COUNTS, consistent_read=True)
    return sum(
        shard.of(flt.status) if flt.status else int(shard.total)
        for shard in shards
        if isinstance(shard, SubscriptionCountsItem)
    )


def subscriptions_by_key(wanted: list[tuple[str, str]]) -> list[SubscriptionItem]:
    """Subscriptions of any users by (user id, subscription id), in the order asked, missing ones left out (one
    consistent BatchGetItem)."""
    keys: list[Key] = [(SubscriptionItem, *SubscriptionItem.key(user_id, sub_id)) for user_id, sub_id in wanted]
    return [item for item in (batch_get(keys) if keys else []) if isinstance(item, SubscriptionItem)]


# --- writes ----------------------------------------------------------------------------------------------------


def schedule(item: Holding, policy: LifecyclePolicy) -> None:
    """Derive the item's index keys from its state: the live index, and the lifecycle job's next step."""
    due = next_step(item, policy)
    item.due_at = due.at if due is not None else None
    item.due_step = due.step.value if due is not None else None
    item.index()


def _recount(tx: Transaction, item: Holding, counts: type[SubscriberCounts], owner_id: str) -> None:
    """Move the owner's subscriber counts from what the item was counted as when read (`counted_as`, stored on the
    item itself) to its owner and status now, in the transaction that writes it: the write is conditional on the
    version read, so the counts move exactly once with it. A refused transaction puts `counted_as` back, so the
    same object can be written again."""
    before, after = item.counted_as, f"{owner_id}#{item.status}"
    if before == after:
        return
    for counted, step in ((before, -1), (after, 1)):
        if counted is not None:
            owner, status = counted.rsplit("#", 1)
            tx.count(counts, *counts.key(owner), {"total": step, status: step}, label=f"{SUBSCRIBER_COUNTS}{owner}")
    item.counted_as = after

    def refused(_: object) -> None:
        item.counted_as = before

    tx.after_refusal.append(refused)


SUBSCRIBER_COUNTS = "subscribers "  # the label prefix of subscriber-count updates


def _count_all(tx: Transaction, subscription: SubscriptionItem, counted_as: str | None) -> None:
    """Move the every-subscription counts (one shard of `COUNT#SUBSCRIPTIONS`) from the status the item was
    counted under when read to its status now; a new item adds to the total. Same transaction as the write."""
    before = counted_as.rsplit("#", 1)[1] if counted_as else None
    if before == subscription.status:
        return
    deltas = {subscription.status: 1} if before else {"total": 1, subscription.status: 1}
    if before:
        deltas[before] = -1
    tx.count(SubscriptionCountsItem, *SubscriptionCountsItem.key(subscription.id), deltas, label=ALL_COUNTS_LABEL)


ALL_COUNTS_LABEL = "subscription counts"


def add_subscription(tx: Transaction, subscription: SubscriptionItem, policy: LifecyclePolicy) -> None:
    """A new subscription, with its index keys (refused if its key is taken); its plan's counts and the counts of
    every subscription grow."""
    schedule(subscription, policy)
    counted_as = subscription.counted_as
    _recount(tx, subscription, PlanSubscribersItem, subscription.tarif_plan_id)
    _count_all(tx, subscription, counted_as)
    tx.create(subscription, label=SUBSCRIPTION)


def update_subscription(tx: Transaction, subscription: SubscriptionItem, policy: LifecyclePolicy) -> None:
    """The subscription as changed, on the condition of the version read; its index keys follow its state, the
    plans' subscriber counts its plan and status, the counts of every subscription its status."""
    schedule(subscription, policy)
    counted_as = subscription.counted_as
    _recount(tx, subscription, PlanSubscribersItem, subscription.tarif_plan_id)
    _count_all(tx, subscription, counted_as)
    tx.put(subscription, label=SUBSCRIPTION)


def link_provider_subscription(
    tx: Transaction,
    subscription: SubscriptionItem,
    provider: str,
    provider_subscription_id: str,
    policy: LifecyclePolicy,
) -> None:
    """The subscription is (still) billed by the provider's own recurring billing under `provider_subscription_id`
    (a legacy Stripe subscription, checkout-and-payments.md §10.4): recorded on it, with the link its webhooks find
    it by (refused if that provider subscription is linked already)."""
    subscription.provider_subscription_id = provider_subscription_id
    update_subscription(tx, subscription, policy)
    link = ProviderSubscriptionLinkItem(
        *ProviderSubscriptionLinkItem.key(provider, provider_subscription_id),
        user_id=subscription.user_id,
        subscription_id=subscription.id,
    )
    tx.create(link, label="provider subscription link")


def by_provider_subscription(provider: str, provider_subscription_id: str) -> SubscriptionItem | None:
    """The subscription a legacy provider subscription is (two GetItems); None when none is linked to it."""
    try:
        link = ProviderSubscriptionLinkItem.get(
            *ProviderSubscriptionLinkItem.key(provider, provider_subscription_id), consistent_read=True
        )
    except DoesNotExist:
        return None
    return subscription_of(str(link.user_id), str(link.subscription_id))


def add_addon_subscription(tx: Transaction, addon: AddonSubscriptionItem, policy: LifecyclePolicy) -> None:
    """A new add-on subscription, with its index keys (refused if its key is taken); its add-on's counts grow."""
    schedule(addon, policy)
    _recount(tx, addon, AddonSubscribersItem, addon.addon_id)
    tx.create(addon, label=ADDON_SUBSCRIPTION)


def update_addon_subscription(tx: Transaction, addon: AddonSubscriptionItem, policy: LifecyclePolicy) -> None:
    """The add-on subscription as changed, on the condition of the version read; its index keys and the add-on's
    subscriber counts follow its state."""
    schedule(addon, policy)
    _recount(tx, addon, AddonSubscribersItem, addon.addon_id)
    tx.put(addon, label=ADDON_SUBSCRIPTION)


def plan_subscribers(plan_id: str) -> PlanSubscribersItem | None:
    """The plan's subscriber counts (one consistent GetItem); None when it never had a subscription."""
    try:
        return PlanSubscribersItem.get(*PlanSubscribersItem.key(plan_id), consistent_read=True)
    except DoesNotExist:
        return None


def plans_subscribers(plan_ids: Iterable[str]) -> dict[str, PlanSubscribersItem]:
    """Subscriber counts of several plans by plan id, in one BatchGetItem; plans never subscribed are left out."""
    wanted = list(dict.fromkeys(plan_ids))
    found = batch_get([(PlanSubscribersItem, *PlanSubscribersItem.key(p)) for p in wanted]) if wanted else []
    return {p: item for p, item in zip(wanted, found, strict=True) if isinstance(item, PlanSubscribersItem)}


def addon_subscribers(addon_id: str) -> AddonSubscribersItem | None:
    """The add-on's subscriber counts (one consistent GetItem); None when it never had a subscription."""
    try:
        return AddonSubscribersItem.get(*AddonSubscribersItem.key(addon_id), consistent_read=True)
    except DoesNotExist:
        return None


UNCHANGED = "unchanged "  # the label prefix of `expect_unchanged` checks


def expect_unchanged(tx: Transaction, holding: Holding) -> None:
    """Refuse the transaction if `holding` changed since it was read (its version moved on)."""
    model = type(holding)
    tx.check(model, holding.pk, holding.sk, model.version == holding.version, label=f"{UNCHANGED}{holding.sk}")


PERIOD_GUARD = "billed_period"


def release_period(tx: Transaction, holder_id: str, period_start: datetime, invoice_id: str) -> None:
    """Give a period back: its renewal invoice was voided before it was paid (a scheduled cancel, a pause), so a
    reactivation can bill the same period again. Only the guard that names that invoice is removed (a guard of
    another invoice is left alone, and a missing one is no refusal)."""
    guard = BilledPeriodItem(*BilledPeriodItem.key(holder_id, period_start))
    names_it = BilledPeriodItem.pk.does_not_exist() | (BilledPeriodItem.invoice_id == invoice_id)
    tx.delete(guard, names_it, label=PERIOD_GUARD)


def guard_period(
    tx: Transaction,
    holding: Holding,
    period_start: datetime,
    period_end: datetime | None,
    invoice_id: str,
    now: datetime,
) -> None:
    """Claim the period for this invoice (`attribute_not_exists`): a second renewal invoice of it is refused."""
    guard = BilledPeriodItem(
        *BilledPeriodItem.key(holding.id, period_start),
        holder_id=holding.id,
        invoice_id=invoice_id,
        period_start=period_start,
        period_end=period_end,
        created_at=now,
    )
    tx.create(guard, label=PERIOD_GUARD)
