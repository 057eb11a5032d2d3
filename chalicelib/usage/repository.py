"""Reads and writes of usage meters and references (the `ledger` table): every key, condition and transaction item
of the usage domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.store.reads import Key, batch_get
from chalicelib.store.transactions import Transaction
from chalicelib.tokens.models import TokenEntryItem
from chalicelib.usage.models import UsageMeterItem, UsageReferenceItem

PAGE = 100


def meter_state(
    user_id: str, period_start: datetime, feature: str, reference: str | None
) -> tuple[UsageMeterItem | None, UsageReferenceItem | None]:
    """The feature's meter of the period and, when the client sent a reference, the report that took it (one
    BatchGetItem, strongly consistent)."""
    keys: list[Key] = [(UsageMeterItem, *UsageMeterItem.key(user_id, period_start, feature))]
    if reference is not None:
        keys.append((UsageReferenceItem, *UsageReferenceItem.key(user_id, feature, reference)))
    found = batch_get(keys)
    meter = found[0] if isinstance(found[0], UsageMeterItem) else None
    earlier = found[1] if len(found) > 1 and isinstance(found[1], UsageReferenceItem) else None
    return meter, earlier


def meters_of_period(user_id: str, period_start: datetime) -> list[UsageMeterItem]:
    """Every meter of the period: one Query of the period's key range, read a page at a time (as many items as
    the user metered features in that period)."""
    query = UsageMeterItem.query(
        UsageMeterItem.partition(user_id),
        UsageMeterItem.sk.startswith(UsageMeterItem.period_prefix(period_start)),
        consistent_read=True,
        page_size=PAGE,
    )
    return [item for item in query if isinstance(item, UsageMeterItem)]


def token_balance(user_id: str) -> int:
    from chalicelib.tokens.repository import balance_of

    stored = balance_of(user_id)
    return int(stored.balance) if stored else 0


def tokens_used_since(user_id: str, start: datetime, end: datetime) -> int:
    """Tokens the user consumed in [start, end): the USAGE entries of the ledger's type index, newest first, read
    until the first one before `start` — what is read grows with the period's consumptions, not the ledger."""
    query = TokenEntryItem.gsi1.query(
        TokenEntryItem.type_partition(user_id, "USAGE"), scan_index_forward=False, page_size=PAGE
    )
    used = 0
    for entry in query:
        if not isinstance(entry, TokenEntryItem):
            continue
        if entry.created_at < start:
            break
        if entry.created_at < end:
            used -= int(entry.amount)  # debits are negative
    return used


def add_usage(
    tx: Transaction,
    meter: UsageMeterItem | None,
    user_id: str,
    feature: str,
    period: tuple[datetime, datetime],
    quantity: int,
    now: datetime,
) -> UsageMeterItem:
    """Count `quantity` on the meter: created when the period has none (refused if another report created it
    first), else written on the condition of the version read."""
    if meter is None:
        start, end = period
        meter = UsageMeterItem(
            *UsageMeterItem.key(user_id, start, feature),
            user_id=user_id,
            feature=feature,
            period_start=start,
            period_end=end,
            used=quantity,
            updated_at=now,
        )
        tx.create(meter, label="usage_meter")
        return meter
    meter.used = int(meter.used) + quantity
    meter.updated_at = now
    tx.put(meter, label="usage_meter")
    return meter


def add_reference(
    tx: Transaction, user_id: str, feature: str, reference: str, quantity: int, answer: dict[str, Any], now: datetime
) -> None:
    """The client reference of a report, taken once (a second report with it is refused by the guard)."""
    item = UsageReferenceItem(
        *UsageReferenceItem.key(user_id, feature, reference), quantity=quantity, answer=answer, created_at=now
    )
    tx.create(item, label="usage_reference")
