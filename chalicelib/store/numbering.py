"""Gapless document numbers (contract checkout-and-payments.md §4.1): `<PREFIX>-<YYYY>-<NNNNNN>`.

The sequence item and a guard item for the number are written in the same transaction as the document, so a
transaction that fails takes no number and two concurrent ones cannot take the same one (the loser's condition on
the sequence fails and its caller retries with the next value). Invoices (`INV`, `BK`) and credit notes (`CN`)
take their numbers here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.store.base import CountersTable
from chalicelib.store.retry import retrying
from chalicelib.store.transactions import Transaction, TransactionCancelled

T = TypeVar("T")
ATTEMPTS = 5


class SequenceItem(CountersTable, discriminator="SEQUENCE"):
    """pk `SEQ#<prefix>#<year>`, sk `SEQ`: the last number handed out."""

    value = NumberAttribute()


class NumberGuardItem(CountersTable, discriminator="NUMBER"):
    """pk `NUMBER#<document number>`: the number belongs to exactly one document."""

    owner_id = UnicodeAttribute()

    @classmethod
    def key(cls, number: str) -> tuple[str, str]:
        return f"NUMBER#{number}", "NUMBER"


def format_number(prefix: str, year: int, value: int) -> str:
    return f"{prefix}-{year}-{value:06d}"


class _Unread:
    """Marks a sequence the caller did not read beforehand."""


UNREAD = _Unread()


def sequence_key(prefix: str, year: int) -> tuple[str, str]:
    return f"SEQ#{prefix}#{year}", "SEQ"


def take_number(
    tx: Transaction,
    prefix: str,
    year: int,
    owner_id: str,
    *,
    label_prefix: str = "",
    known: SequenceItem | _Unread | None = UNREAD,
) -> str:
    """Add the next number of the `prefix`/`year` sequence to `tx` and return it.

    The labels of the parts are `sequence` and `number` (prefixed when one transaction takes numbers of two
    sequences, e.g. an invoice and a credit note), so a retry can tell a lost numbering race from other refusals.
    `known` is the sequence item when the caller already read it (in a batch with other reads).
    """
    pk, sk = sequence_key(prefix, year)
    sequence: SequenceItem | None
    if isinstance(known, _Unread):
        try:
            sequence = SequenceItem.get(pk, sk, consistent_read=True)
        except DoesNotExist:
            sequence = None
    else:
        sequence = known
    if sequence is None:
        value = 1
        tx.create(SequenceItem(pk, sk, value=value), label=f"{label_prefix}sequence")
    else:
        value = int(sequence.value) + 1
        condition = SequenceItem.value == sequence.value
        tx.update(sequence, [SequenceItem.value.set(value)], condition, label=f"{label_prefix}sequence")
    number = format_number(prefix, year, value)
    tx.create(NumberGuardItem(*NumberGuardItem.key(number), owner_id=owner_id), label=f"{label_prefix}number")
    return number


def numbering_race(failed: list[str]) -> bool:
    """Whether a refused transaction lost a race for a number (safe to rebuild and retry)."""
    return any(label.endswith(("sequence", "number")) for label in failed)


def lost_number(exc: TransactionCancelled) -> bool:
    """`retry_on` for transactions that take a number: a number taken meanwhile, or a transaction conflict."""
    return numbering_race(exc.failed) or exc.conflict


def commit_numbered(build: Callable[[Transaction], T], attempts: int = ATTEMPTS) -> T:
    """Build and commit a transaction that takes a number, retrying when a concurrent one took it first.

    `build` adds everything to the fresh transaction it is given (calling `take_number`) and returns its result.
    """

    def step() -> T:
        tx = Transaction()
        result = build(tx)
        tx.commit()
        return result

    return retrying(step, tries=attempts, retry_on=lost_number)
