"""Metered usage (contract subscriptions.md §2.6, §12.4).

The period is the current period of the user's primary valid subscription (the newest one that grants access),
else the current UTC calendar month. A feature is limited when the primary subscription's plan sets an integer
`<feature>_limit` in its features (`<feature>_unit` names its unit; the feature's own name otherwise). A report
counts on the feature's meter of the period in one conditional transaction (the meter's version, the reference's
guard, the stored Idempotency-Key answer), so racing reports never lose a count nor pass the limit together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.core import clock
from chalicelib.core.errors import Conflict, PaymentRequired
from chalicelib.core.times import iso
from chalicelib.store.retry import retrying
from chalicelib.store.transactions import Transaction
from chalicelib.usage import repository

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal
    from chalicelib.core.idempotency import AnswerRecorder
    from chalicelib.usage.schemas import RecordUsageBody

ATTEMPTS = 20  # one meter is as hot as a client makes it: give racing reports room, as token consumption does
LIMIT_SUFFIX, UNIT_SUFFIX = "_limit", "_unit"


@dataclass(frozen=True)
class Period:
    """The billing period usage is counted in, and the plan features that set its limits."""

    start: datetime
    end: datetime
    features: dict[str, Any] = field(default_factory=dict)

    def limit_of(self, feature: str) -> int | None:
        value = self.features.get(f"{feature}{LIMIT_SUFFIX}")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def unit_of(self, feature: str) -> str:
        unit = self.features.get(f"{feature}{UNIT_SUFFIX}")
        return unit if isinstance(unit, str) and unit else feature

    def limited_features(self) -> list[str]:
        return [
            name.removesuffix(LIMIT_SUFFIX)
            for name in self.features
            if name.endswith(LIMIT_SUFFIX) and self.limit_of(name.removesuffix(LIMIT_SUFFIX)) is not None
        ]

    def wire(self) -> dict[str, Any]:
        return {"period_start": iso(self.start), "period_end": iso(self.end)}


def calendar_month(now: datetime) -> tuple[datetime, datetime]:
    start = datetime(now.year, now.month, 1, tzinfo=UTC)
    end = (
        datetime(now.year + 1, 1, 1, tzinfo=UTC)
        if now.month == 12
        else datetime(now.year, now.month + 1, 1, tzinfo=UTC)
    )
    return start, end


def current_period(user_id: str, now: datetime) -> Period:
    """The primary valid subscription's current period and its plan's features; else the calendar month, with no
    limits."""
    from chalicelib.catalog.repository import reference
    from chalicelib.subscriptions import machine
    from chalicelib.subscriptions.repository import live_holdings

    subscriptions, _ = live_holdings(user_id)
    valid = sorted((s for s in subscriptions if machine.is_valid(s, now)), key=lambda s: s.created_at, reverse=True)
    if valid:
        primary = valid[0]
        plan = reference().plan(primary.tarif_plan_id)
        features = dict(plan.features or {}) if plan is not None else {}
        start = primary.current_period_start or primary.started_at
        if start is not None and primary.expires_at is not None:
            return Period(start, primary.expires_at, features)
        return Period(*calendar_month(now), features)  # a period without an end (lifetime): count by month
    return Period(*calendar_month(now))


def usage(principal: Principal) -> dict[str, Any]:
    """The usage object: `tokens` first, then every feature the plan limits or the user metered this period."""
    user_id, now = principal.user_id, clock.now()
    period = current_period(user_id, now)
    answer: dict[str, Any] = {
        "tokens": {
            "used": repository.tokens_used_since(user_id, period.start, period.end),
            "limit": None,
            "balance": repository.token_balance(user_id),
            "unit": "tokens",
            **period.wire(),
        }
    }
    used = {str(m.feature): int(m.used) for m in repository.meters_of_period(user_id, period.start)}
    for feature in [*period.limited_features(), *sorted(used)]:
        if feature in answer:
            continue
        answer[feature] = {
            "used": used.get(feature, 0),
            "limit": period.limit_of(feature),
            "unit": period.unit_of(feature),
            **period.wire(),
        }
    return answer


def record(principal: Principal, request: RecordUsageBody, recorder: AnswerRecorder | None = None) -> dict[str, Any]:
    """Count a report on the feature's meter of the current period — once per reference."""
    user_id, feature = principal.user_id, request.feature

    def count() -> dict[str, Any]:
        now = clock.now()
        period = current_period(user_id, now)
        meter, earlier = repository.meter_state(user_id, period.start, feature, request.reference)
        if earlier is not None:
            if int(earlier.quantity) != request.quantity:
                raise Conflict("Reference already used with a different quantity")
            return dict(earlier.answer)
        used, limit = (int(meter.used) if meter else 0), period.limit_of(feature)
        if limit is not None and used + request.quantity > limit:
            raise PaymentRequired("Usage limit reached", feature=feature, limit=limit, used=used)
        tx = Transaction()
        counted = repository.add_usage(tx, meter, user_id, feature, (period.start, period.end), request.quantity, now)
        answer = {"feature": feature, "used": int(counted.used), "limit": limit, **period.wire()}
        if request.reference is not None:
            repository.add_reference(tx, user_id, feature, request.reference, request.quantity, answer, now)
        if recorder is not None:
            recorder.record(tx, answer)
        tx.commit()
        return answer

    # A refusal means another report counted on the meter, or took the reference, since it was read: read again.
    return retrying(count, tries=ATTEMPTS)
