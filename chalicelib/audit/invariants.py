"""The invariants of the money, checked over everything stored (issue 7 §8).

1. A user's token balance equals the sum of their ledger entries, every entry's `balance_after` continues the one
   before it, and no balance is ever negative.
2. An invoice's total is the sum of its lines' gross amounts (subtotal and tax likewise), and the numbers of every
   series (prefix and year) are gapless: 1 … n, n the series' counter, each taken by exactly one document — an
   invoice or credit note carrying it, or a void record (`store.numbering`; housekeeping writes one for a number a
   crashed writer left).
3. No subscription period is billed twice: of the paid invoices, no two SUBSCRIPTION lines of one subscription
   bill the same period.
4. Every ACTIVE or TRIALING subscription is covered by a period containing now: a trial that has not ended, or a
   paid period (`expires_at` in the future, or none for a one-time plan).
5. Every captured invoice was captured exactly once: its capture count (kept by the capture's own transaction) is
   1 once it has been paid and 0 before, and the outbox holds at most one `payment.captured` event for it.
6. The subscriber counts of every plan and add-on (`COUNT#PLAN#<id>#SUBS`, `COUNT#ADDON#<id>#SUBS`, moved by the
   subscription repository) equal the subscriptions and add-on subscriptions stored, per status and in all.
7. No invoice is refunded beyond its total: its `amount_refunded` is the sum of its credit notes not reversed, never
   more than `total_amount`, and it is REFUNDED exactly when nothing is left (checkout-and-payments.md §7).
8. The admin user lists' maintained totals (`COUNT#USERS…`) are the numbers of users they count.

This is an audit, not a request path: it reads every item of the tables it checks (Scan), which is fine for the
local stack, the tests and an operator's `make check`; nothing on a request path or in a job calls it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from chalicelib.core.money import ZERO

NUMBER = re.compile(r"^(?P<prefix>.+)-(?P<year>\d{4})-(?P<value>\d{6,})$")


@dataclass(frozen=True)
class Violation:
    rule: str
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.subject}: {self.detail}"


def _scan(model: Any) -> list[Any]:
    return [item for item in model.scan() if isinstance(item, model)]


def check_ledgers() -> list[Violation]:
    from chalicelib.tokens.models import TokenBalanceItem, TokenEntryItem

    found: list[Violation] = []
    entries: dict[str, list[Any]] = defaultdict(list)
    for entry in _scan(TokenEntryItem):
        entries[str(entry.user_id)].append(entry)
    balances = {str(b.user_id): b for b in _scan(TokenBalanceItem)}
    for user_id in set(entries) | set(balances):
        ordered = sorted(entries.get(user_id, []), key=lambda e: int(e.sequence))
        running = 0
        for position, entry in enumerate(ordered, start=1):
            running += int(entry.amount)
            if int(entry.sequence) != position:
                found.append(Violation("ledger", user_id, f"entry sequence {entry.sequence} where {position} belongs"))
            if int(entry.balance_after) != running:
                found.append(
                    Violation("ledger", user_id, f"entry {entry.sequence} says {entry.balance_after}, sum is {running}")
                )
            if running < 0:
                found.append(Violation("ledger", user_id, f"balance {running} after entry {entry.sequence}"))
        stored = balances.get(user_id)
        balance = int(stored.balance) if stored is not None else 0
        if balance != running:
            found.append(Violation("ledger", user_id, f"balance {balance} but the entries sum to {running}"))
        if stored is not None and int(stored.entries) != len(ordered):
            found.append(Violation("ledger", user_id, f"{stored.entries} entries counted, {len(ordered)} stored"))
        if balance < 0:
            found.append(Violation("ledger", user_id, f"negative balance {balance}"))
    return found


def check_invoices() -> list[Violation]:
    from chalicelib.invoices.models import CreditNoteItem, InvoiceItem
    from chalicelib.store.numbering import NumberGuardItem, SequenceItem

    found: list[Violation] = []
    invoices = _scan(InvoiceItem)
    documents: dict[str, str] = {}
    for invoice in invoices:
        documents[str(invoice.invoice_number)] = str(invoice.id)
        lines = list(invoice.lines)
        sums = {
            "total_amount": sum((Decimal(line.gross_amount) for line in lines), ZERO),
            "subtotal": sum((Decimal(line.net_amount) for line in lines), ZERO),
            "tax_amount": sum((Decimal(line.tax_amount) for line in lines), ZERO),
        }
        for name, expected in sums.items():
            if Decimal(getattr(invoice, name)) != expected:
                found.append(
                    Violation(
                        "invoice", invoice.invoice_number, f"{name} {getattr(invoice, name)} ≠ Σ lines {expected}"
                    )
                )
    for note in _scan(CreditNoteItem):
        documents[str(note.credit_note_number)] = str(note.id)
    guards: dict[str, list[Any]] = defaultdict(list)
    for guard in _scan(NumberGuardItem):
        number = str(guard.pk).split("#", 1)[1]
        guards[number].append(guard)
    series: dict[tuple[str, int], set[int]] = defaultdict(set)
    for number in set(guards) | set(documents):
        match = NUMBER.match(number)
        if match is None:
            found.append(Violation("numbering", number, "not <PREFIX>-<YYYY>-<NNNNNN>"))
            continue
        series[(match["prefix"], int(match["year"]))].add(int(match["value"]))
        held = guards.get(number, [])
        owner = documents.get(number)
        if owner is not None and not any(str(g.owner_id) == owner for g in held):
            found.append(Violation("numbering", number, "a document carries it but no guard names the document"))
        if owner is None and not any(_is_void(g) for g in held):
            found.append(Violation("numbering", number, "taken by no document and not voided"))
    handed_out: dict[tuple[str, int], int] = {}  # each series' counter: every number up to it was taken
    for sequence in _scan(SequenceItem):
        _, counted_prefix, counted_year = str(sequence.pk).rsplit("#", 2)
        handed_out[(counted_prefix, int(counted_year))] = int(sequence.value)
        series.setdefault((counted_prefix, int(counted_year)), set())
    for (prefix, year), values in series.items():
        top = max([*values, handed_out.get((prefix, year), 0)])
        missing = sorted(set(range(1, top + 1)) - values)
        if missing:
            found.append(Violation("numbering", f"{prefix}-{year}", f"gaps at {missing[:10]}"))
    return found


def _is_void(guard: Any) -> bool:
    return str(getattr(guard, "owner_id", "")) == "VOID"


def check_billed_periods() -> list[Violation]:
    from chalicelib.invoices.models import InvoiceItem

    billed: Counter[tuple[str, str]] = Counter()
    for invoice in _scan(InvoiceItem):
        if invoice.status not in ("PAID", "REFUNDED") or invoice.deleted_at is not None:
            continue
        for line in invoice.lines:
            metadata = line.metadata or {}
            if line.item_type == "SUBSCRIPTION" and metadata.get("billing_reason") == "RENEWAL" and line.item_id:
                billed[(str(line.item_id), str(metadata.get("period_start")))] += 1
    return [
        Violation("periods", subscription_id, f"the period from {start} was paid {times} times")
        for (subscription_id, start), times in billed.items()
        if times > 1
    ]


def check_coverage(now: datetime) -> list[Violation]:
    from chalicelib.subscriptions.models import SubscriptionItem

    found: list[Violation] = []
    for sub in _scan(SubscriptionItem):
        if sub.status == "TRIALING" and not (sub.trial_end_at and sub.trial_end_at > now):
            found.append(Violation("coverage", sub.id, f"TRIALING but the trial ended at {sub.trial_end_at}"))
        if sub.status == "ACTIVE" and sub.expires_at is not None and sub.expires_at <= now:
            found.append(Violation("coverage", sub.id, f"ACTIVE but its paid period ended at {sub.expires_at}"))
    return found


def check_captures() -> list[Violation]:
    from chalicelib.invoices.models import InvoiceItem
    from chalicelib.store.outbox import OutboxItem

    captures: Counter[str] = Counter()
    for item in _scan(OutboxItem):
        for envelope in item.envelopes:
            if envelope.get("type") == "payment.captured":
                captures[str(envelope["data"]["invoice_id"])] += 1
    found: list[Violation] = []
    for invoice in _scan(InvoiceItem):
        expected = 1 if invoice.paid_at is not None else 0
        if int(invoice.capture_count or 0) != expected:
            found.append(
                Violation("captures", invoice.invoice_number, f"captured {invoice.capture_count} times, {expected} due")
            )
        if captures[str(invoice.id)] > 1:
            found.append(Violation("captures", invoice.invoice_number, f"{captures[str(invoice.id)]} capture events"))
    return found


def check_subscriber_counts() -> list[Violation]:
    from chalicelib.subscriptions.machine import STATUSES
    from chalicelib.subscriptions.models import (
        AddonSubscribersItem,
        AddonSubscriptionItem,
        PlanSubscribersItem,
        SubscriptionCountsItem,
        SubscriptionItem,
    )

    stored: Counter[tuple[str, str, str]] = Counter()
    for sub in _scan(SubscriptionItem):
        stored["plan", str(sub.tarif_plan_id), str(sub.status)] += 1
    for addon in _scan(AddonSubscriptionItem):
        stored["addon", str(addon.addon_id), str(addon.status)] += 1
    counted: dict[tuple[str, str], Any] = {}
    for kind, model in (("plan", PlanSubscribersItem), ("addon", AddonSubscribersItem)):
        for counts in _scan(model):
            counted[kind, str(counts.pk).split("#")[2]] = counts
    owners = {(kind, owner) for kind, owner, _ in stored} | set(counted)
    found: list[Violation] = []
    for kind, owner in sorted(owners):
        counts = counted.get((kind, owner))
        for status in (*STATUSES, "total"):
            held = sum(n for (k, o, s), n in stored.items() if (k, o) == (kind, owner) and status in (s, "total"))
            number = int(getattr(counts, status) or 0) if counts is not None else 0
            if number != held:
                found.append(Violation("subscribers", f"{kind} {owner}", f"{status}: {number} counted, {held} stored"))
    shards = list(_scan(SubscriptionCountsItem))
    for status in (*STATUSES, "total"):
        held = sum(n for (k, _, s), n in stored.items() if k == "plan" and status in (s, "total"))
        number = sum(int(getattr(shard, status) or 0) for shard in shards)
        if number != held:
            found.append(Violation("subscribers", "every subscription", f"{status}: {number} counted, {held} stored"))
    return found


def check_refunds() -> list[Violation]:
    from chalicelib.invoices.models import CreditNoteItem, InvoiceItem

    refunded: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for note in _scan(CreditNoteItem):
        if note.reversed_at is None:
            refunded[str(note.invoice_id)] += Decimal(note.amount)
    found: list[Violation] = []
    for invoice in _scan(InvoiceItem):
        recorded, total = Decimal(invoice.amount_refunded), Decimal(invoice.total_amount)
        if recorded != refunded[str(invoice.id)]:
            found.append(
                Violation(
                    "refunds", invoice.invoice_number, f"refunded {recorded} ≠ Σ credit notes {refunded[invoice.id]}"
                )
            )
        if recorded > total:
            found.append(Violation("refunds", invoice.invoice_number, f"refunded {recorded} of a total of {total}"))
        if (invoice.status == "REFUNDED") != (total > 0 and recorded >= total):
            found.append(Violation("refunds", invoice.invoice_number, f"{invoice.status} with {recorded} of {total}"))
    return found


def check_user_totals() -> list[Violation]:
    from chalicelib.users.models import UserItem, UserTotalItem

    expected: Counter[str] = Counter()
    for user in _scan(UserItem):
        for hash_key, _ in UserTotalItem.keys_of(str(user.status), str(user.role)):
            expected[hash_key] += 1
    stored = {str(total.pk): int(total.value) for total in _scan(UserTotalItem)}
    return [
        Violation("user totals", key, f"counts {stored.get(key, 0)}, {expected[key]} users")
        for key in sorted(set(expected) | set(stored))
        if stored.get(key, 0) != expected[key]
    ]


def check_all(now: datetime) -> list[Violation]:
    found: list[Violation] = []
    checks = (
        check_ledgers,
        check_invoices,
        check_billed_periods,
        check_captures,
        check_subscriber_counts,
        check_refunds,
        check_user_totals,
    )
    for check in checks:
        found += check()
    found += check_coverage(now)
    return found


def report(violations: Iterable[Violation]) -> str:
    listed = list(violations)
    if not listed:
        return "invariants: all hold"
    return "\n".join([f"invariants: {len(listed)} violated", *(f"  {v}" for v in listed)])
