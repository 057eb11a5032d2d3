"""Gapless document numbers without a global lock (contract checkout-and-payments.md §4.1): `<PREFIX>-<YYYY>-<NNNNNN>`.

One series per prefix and year (`INV`, `BK`, `CN`, or the prefix the settings name). A number is taken in three
moves, so that no writer ever waits for, or is refused because of, another writer's number:

1. **take**: an atomic `ADD 1` on the series' counter (`SEQ#<prefix>#<year>`), *outside* the business transaction
   (one UpdateItem that returns the new value). Writers never read the counter, so none can lose a race for it.
2. **guard**: the number's guard item (`NUMBER#<number>`, owner = the document id) is created *inside* the business
   transaction, on `attribute_not_exists`: the number belongs to the document exactly when the document exists.
3. **void**: a number whose transaction then fails for good gets a void record instead — its guard written with
   owner `VOID` and the reason. Within one business step (one `store.retry.retrying` call, or a `reserving()`
   block) a retry reuses the number the step already holds, so a race lost on something else costs no number; a
   step that ends without committing a number it holds voids it (`Reservation`).

A writer that dies between 1 and 3 leaves a number with no guard. Housekeeping fills it (`fill_gaps`, run by the
`invoice-housekeeping` job): every series is listed under `SERIES` with a watermark — every number up to `filled`
has a guard, and the counter stood at `seen` when the previous run looked. Once `seen` is older than a grace
period longer than any writer holds a number, each number up to `seen` that still has no guard is voided. A writer
that wakes up after that finds its guard taken by the void record: its transaction is refused on the guard and the
step retries with a new number. So every number of a series ends with exactly one guard — a document's or a void
record — and the series is gapless: no number is missing, none is used twice.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute
from pynamodb.exceptions import PutError

from chalicelib.core import clock
from chalicelib.core.logging import logger
from chalicelib.store.base import CountersTable
from chalicelib.store.connection import client
from chalicelib.store.errors import condition_failed, save_if
from chalicelib.store.reads import Key, batch_get
from chalicelib.store.transactions import Transaction, TransactionCancelled

VOID = "VOID"  # the owner of a number no document holds
GRACE = timedelta(minutes=15)  # longer than any writer holds a number (a Lambda runs 15 minutes at most)
FILL_LIMIT = 10_000  # numbers one run checks per series; a longer backlog is finished by the next runs
SERIES_PARTITION = "SERIES"


SEQUENCE_KIND = "SEQUENCE"


class SequenceItem(CountersTable, discriminator=SEQUENCE_KIND):
    """pk `SEQ#<prefix>#<year>`, sk `SEQ`: the last number taken (moved only by `ADD`)."""

    value = NumberAttribute()


class NumberGuardItem(CountersTable, discriminator="NUMBER"):
    """pk `NUMBER#<document number>`, sk `NUMBER`: the number belongs to exactly one document, or is void
    (`owner_id` `VOID`, with the reason)."""

    owner_id = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    voided_at = UTCDateTimeAttribute(null=True)

    @classmethod
    def key(cls, number: str) -> tuple[str, str]:
        return f"NUMBER#{number}", "NUMBER"

    @property
    def void(self) -> bool:
        return self.owner_id == VOID


class SeriesItem(CountersTable, discriminator="SERIES"):
    """pk `SERIES`, sk `<prefix>#<year>`: a series that has numbers, and how far housekeeping has checked it.

    Every number up to `filled` has a guard; `seen` is the counter's value when housekeeping last looked, at
    `seen_at`. One partition lists every series, so housekeeping finds them with one Query."""

    prefix = UnicodeAttribute()
    year = NumberAttribute()
    filled = NumberAttribute(default=0)
    seen = NumberAttribute(default=0)
    seen_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()

    @classmethod
    def key(cls, prefix: str, year: int) -> tuple[str, str]:
        return SERIES_PARTITION, f"{prefix}#{year}"


def owner_of(number: str) -> str | None:
    """The id of the document holding a number (its guard, one GetItem); None when unknown or void."""
    [guard] = batch_get([(NumberGuardItem, *NumberGuardItem.key(number))])
    owner = getattr(guard, "owner_id", None)
    return str(owner) if owner and owner != VOID else None


def format_number(prefix: str, year: int, value: int) -> str:
    return f"{prefix}-{year}-{value:06d}"


def sequence_key(prefix: str, year: int) -> tuple[str, str]:
    return f"SEQ#{prefix}#{year}", "SEQ"


def guard_refused(failed: Iterable[str]) -> bool:
    """Whether a refused transaction failed on a number's guard: the number was voided by housekeeping while its
    writer stalled (or is otherwise taken). The held number is dropped on refusal, so a retry takes a new one."""
    return any(label.endswith("number") for label in failed)


# --- taking a number -------------------------------------------------------------------------------------------

_registered: set[tuple[str, int]] = set()  # series this process has put under `SERIES` (once per container)


def _register(prefix: str, year: int) -> None:
    """List the series under `SERIES` (idempotent: `filled` and `seen` start at 0 the first time, then stay)."""
    discriminator = SeriesItem._get_discriminator_attribute()
    assert discriminator is not None
    SeriesItem._get_connection().update_item(
        *SeriesItem.key(prefix, year),
        actions=[
            SeriesItem.prefix.set(prefix),
            SeriesItem.year.set(year),
            SeriesItem.filled.set(SeriesItem.filled | 0),
            SeriesItem.seen.set(SeriesItem.seen | 0),
            SeriesItem.version.set(SeriesItem.version | 1),
            discriminator.set(SeriesItem),
        ],
    )
    _registered.add((prefix, year))


def _next_value(prefix: str, year: int) -> int:
    """Step 1: `ADD 1` on the counter, outside any transaction; the value it returns is ours alone.

    The series is listed for housekeeping before this process takes its first number of it, so no number is ever
    taken of a series housekeeping cannot find (and again when the counter was just created: tables recreated
    under a running process)."""
    if (prefix, year) not in _registered:
        _register(prefix, year)
    pk, sk = sequence_key(prefix, year)
    discriminator = SequenceItem._get_discriminator_attribute()
    assert discriminator is not None
    # The bare client, not PynamoDB's expression builder: this call is on every checkout's path, and it is fixed.
    answer = client().update_item(
        TableName=SequenceItem.Meta.table_name,
        Key={SequenceItem.pk.attr_name: {"S": pk}, SequenceItem.sk.attr_name: {"S": sk}},
        UpdateExpression="ADD #value :one SET #kind = :kind",
        ExpressionAttributeNames={"#value": SequenceItem.value.attr_name, "#kind": discriminator.attr_name},
        ExpressionAttributeValues={":one": {"N": "1"}, ":kind": {"S": SEQUENCE_KIND}},
        ReturnValues="UPDATED_NEW",
    )
    value = int(answer["Attributes"][SequenceItem.value.attr_name]["N"])
    if value == 1:
        _register(prefix, year)
    return value


def write_void(number: str, reason: str, now: datetime) -> bool:
    """Step 3: the number's void record, unless a guard holds it already (then it was used, or voided before)."""
    guard = NumberGuardItem(*NumberGuardItem.key(number), owner_id=VOID, reason=reason[:200], voided_at=now)
    return save_if(guard, NumberGuardItem.pk.does_not_exist()) is not None


@dataclass
class _Held:
    prefix: str
    year: int
    value: int
    free: bool = False  # its last transaction was refused on something else: the next attempt may use it

    @property
    def number(self) -> str:
        return format_number(self.prefix, self.year, self.value)


class Reservation:
    """The numbers one business step holds: reused by its retries, voided if the step ends without them.

    A number is held from the moment it is taken. Its transaction commits: it is the document's, and is let go.
    The transaction is refused on the number's guard: a void record written by housekeeping while the writer
    stalled holds it — let go, the retry takes a new number. Refused on anything else: the number is free again
    for the step's next attempt. Whatever is still held when the step ends is voided, with the reason.
    """

    def __init__(self) -> None:
        self._held: list[_Held] = []

    def take(self, tx: Transaction, prefix: str, year: int, owner_id: str, label: str) -> str:
        held = next((h for h in self._held if h.free and (h.prefix, h.year) == (prefix, year)), None)
        if held is None:
            held = _Held(prefix, year, _next_value(prefix, year))
            self._held.append(held)
        held.free = False
        number = held.number
        tx.create(NumberGuardItem(*NumberGuardItem.key(number), owner_id=owner_id), label=label)

        def used() -> None:
            self._drop(held)

        def refused(exc: TransactionCancelled) -> None:
            if label in exc.failed:
                self._drop(held)  # its guard is taken: voided while we stalled, or never ours to use
            else:
                held.free = True

        tx.after_commit.append(used)
        tx.after_refusal.append(refused)
        return number

    def _drop(self, held: _Held) -> None:
        self._held = [h for h in self._held if h is not held]

    @property
    def held(self) -> list[str]:
        return [h.number for h in self._held]

    def void_all(self, reason: str) -> None:
        """The step is over: every number it still holds becomes a void record (a failed write of one is left to
        housekeeping, which voids it after the grace period)."""
        now = clock.now()
        for held in self._held:
            try:
                write_void(held.number, reason, now)
            except Exception:
                logger.warning("could not void a number; housekeeping will", number=held.number)
        self._held = []


_current: contextvars.ContextVar[Reservation | None] = contextvars.ContextVar("numbering_reservation", default=None)


@contextmanager
def reserving() -> Iterator[Reservation]:
    """One business step's numbers (`store.retry.retrying` opens one around its attempts). Nested blocks share the
    outermost one, which voids what is left when it ends: the error's name and message, or `unused` when the step
    succeeded without the numbers an earlier attempt took."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    reservation = Reservation()
    token = _current.set(reservation)
    reason = "unused"
    try:
        yield reservation
    except BaseException as exc:
        reason = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        _current.reset(token)
        reservation.void_all(reason)


def take_number(tx: Transaction, prefix: str, year: int, owner_id: str, *, label_prefix: str = "") -> str:
    """Take the next number of the `prefix`/`year` series for document `owner_id` and add its guard to `tx`.

    The guard's label is `number` (prefixed when one transaction takes numbers of two series, e.g. an invoice and a
    credit note). Inside a business step the number is the step's until its transaction commits; outside one, a
    refusal of the transaction voids it at once."""
    label = f"{label_prefix}number"
    reservation = _current.get()
    if reservation is not None:
        return reservation.take(tx, prefix, year, owner_id, label)
    alone = Reservation()  # no step to reuse it: held by this one transaction
    number = alone.take(tx, prefix, year, owner_id, label)
    tx.after_refusal.append(lambda exc: alone.void_all(f"transaction refused: {exc.failed or exc.codes}"))
    return number


# --- housekeeping: the gaps a dead writer left -----------------------------------------------------------------


def fill_gaps(now: datetime, grace: timedelta = GRACE) -> int:
    """Void every number no document took and no writer can still take; returns how many were voided.

    Per series: the numbers between `filled` and `seen` (the counter at the previous look, older than `grace`)
    that have no guard get a void record; then the counter is looked at again. The series' item is written on
    the condition of its version, so of overlapping runs one moves the watermark (voids are idempotent)."""
    voided = 0
    for series in SeriesItem.query(SERIES_PARTITION, consistent_read=True):
        if isinstance(series, SeriesItem):
            voided += _fill(series, now, grace)
    return voided


def _fill(series: SeriesItem, now: datetime, grace: timedelta) -> int:
    prefix, year = str(series.prefix), int(series.year)
    filled, seen = int(series.filled), int(series.seen)
    voided = 0
    if seen > filled and series.seen_at is not None and series.seen_at <= now - grace:
        upto = min(seen, filled + FILL_LIMIT)
        voided = _void_unguarded([format_number(prefix, year, n) for n in range(filled + 1, upto + 1)], now)
        filled = upto
    if seen == filled:
        counter = _counter_value(prefix, year)
        if counter > seen:
            seen, series.seen_at = counter, now
    if (filled, seen) == (int(series.filled), int(series.seen)):
        return voided
    series.filled, series.seen = filled, seen
    try:
        series.save()  # on the condition of the version read
    except PutError as exc:
        if not condition_failed(exc):
            raise
        logger.info("another housekeeping run moved the series", series=series.sk)
    return voided


def _counter_value(prefix: str, year: int) -> int:
    [sequence] = batch_get([(SequenceItem, *sequence_key(prefix, year))])
    return int(sequence.value) if isinstance(sequence, SequenceItem) else 0


def _void_unguarded(numbers: list[str], now: datetime) -> int:
    keys: list[Key] = [(NumberGuardItem, *NumberGuardItem.key(number)) for number in numbers]
    guards = batch_get(keys)
    voided = 0
    for number, guard in zip(numbers, guards, strict=True):
        if guard is None and write_void(number, "unclaimed: no document took it within the grace period", now):
            voided += 1
            logger.info("number voided by housekeeping", number=number)
    return voided


# --- one numbered transaction ----------------------------------------------------------------------------------

T = TypeVar("T")
ATTEMPTS = 5


def lost_number(exc: TransactionCancelled) -> bool:
    """`retry_on` for a transaction whose only race is its number's guard (or a transaction conflict)."""
    return guard_refused(exc.failed) or exc.conflict


def commit_numbered(build: Callable[[Transaction], T], attempts: int = ATTEMPTS) -> T:
    """Build and commit a transaction that takes a number, as one business step (the seed's invoices).

    `build` adds everything to the fresh transaction it is given (calling `take_number`) and returns its result."""
    from chalicelib.store.retry import retrying  # retrying opens the step's reservation (it imports this module)

    def step() -> T:
        tx = Transaction()
        result = build(tx)
        tx.commit()
        return result

    return retrying(step, tries=attempts, retry_on=lost_number)
