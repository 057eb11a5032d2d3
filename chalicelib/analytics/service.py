"""The admin analytics figures (admin.md §17), read from the aggregates the `analytics` consumer keeps.

Every figure is a handful of reads whatever the data size (docs/performance.md): the current totals are one Query
of the `CURRENT` partition, a range of days one Query per calendar year it touches, the MRR history the same over
the snapshots. Figures that describe a past moment (users at the end of a day, subscriptions live at the start of
`from`) are the current total minus the daily changes since, so they need the buckets from that day to today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.activity import repository as activity_store
from chalicelib.activity.models import ActivityItem
from chalicelib.analytics.aggregates import repository
from chalicelib.analytics.aggregates.models import SUBSCRIPTION_STATUSES, ZERO, CurrentItem, DailyItem
from chalicelib.catalog.pricing import Currencies
from chalicelib.catalog.repository import reference
from chalicelib.core import clock
from chalicelib.core.errors import BadRequest
from chalicelib.core.money import format_fixed, format_money
from chalicelib.core.paging import Page, PageRequest
from chalicelib.core.times import iso

DEFAULT_DAYS = 30
MAX_DAYS = 366
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Range:
    first: date
    last: date

    @property
    def days(self) -> list[str]:
        count = (self.last - self.first).days + 1
        return [(self.first + timedelta(days=n)).isoformat() for n in range(count)]


def date_range(first: str | None, last: str | None) -> Range:
    """The range asked for (admin.md §17): by default the 30 days ending today."""
    today = clock.now().date()
    end = date.fromisoformat(last) if last else today
    start = date.fromisoformat(first) if first else end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise BadRequest("from must not be after to")
    if (end - start).days + 1 > MAX_DAYS:
        raise BadRequest(f"Date range too large (max {MAX_DAYS} days)")
    return Range(start, end)


# --- reads of the aggregates -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """The current totals and the daily buckets from the range's first day to the later of its end and today."""

    span: Range
    totals: CurrentItem
    plans: dict[str, CurrentItem]
    by_day: dict[str, DailyItem]

    def day(self, day: str) -> DailyItem:
        return self.by_day.get(day) or DailyItem()

    def in_range(self, attribute: str) -> Any:
        return sum((getattr(self.day(d), attribute) for d in self.span.days), start=_zero(attribute))

    def since(self, day: str, attribute: str) -> Any:
        """Σ of `attribute` over the buckets of `day` and every later day."""
        return sum((getattr(b, attribute) for d, b in self.by_day.items() if d >= day), start=_zero(attribute))


def _zero(attribute: str) -> Any:
    return ZERO if attribute in ("gross", "tax", "refunds") else 0


def _figures(span: Range, *, history: bool = True) -> Figures:
    current = repository.current()
    totals = current.pop("TOTALS", None) or CurrentItem()
    plans = {sk.removeprefix("PLAN#"): item for sk, item in current.items() if sk.startswith("PLAN#")}
    by_day: dict[str, DailyItem] = {}
    if history:
        last = max(span.last, clock.now().date()).isoformat()
        by_day = repository.days("ALL", span.first.isoformat(), last)
    return Figures(span, totals, plans, by_day)


def _currency() -> tuple[str, int]:
    default = Currencies.of(reference().currencies).default
    return default.code, int(default.decimal_places)


def _money(amount: Decimal, places: int) -> str:
    return format_money(amount, places)


def _live(item: CurrentItem) -> int:
    return int(item.ACTIVE) + int(item.PAST_DUE)


def _mrr(figures: Figures) -> Decimal:
    return figures.totals.mrr + figures.totals.addons_mrr


# --- the routes' figures ---------------------------------------------------------------------------------------


def _churn(figures: Figures) -> dict[str, Any]:
    first = figures.span.first.isoformat()
    active_at_start = _live(figures.totals) - int(figures.since(first, "live_delta"))
    cancelled, expired = int(figures.in_range("cancelled")), int(figures.in_range("expired"))
    churned = cancelled + expired
    rate = Decimal(churned) / Decimal(active_at_start) if active_at_start > 0 else ZERO
    return {
        "active_at_start": active_at_start,
        "churned": churned,
        "cancelled": cancelled,
        "expired": expired,
        "churn_rate": format_fixed(rate, 4),
        "churn_rate_percent": format_fixed(rate * HUNDRED, 2),
    }


def _users_at_end_of(figures: Figures, day: str) -> int:
    later = {d: b for d, b in figures.by_day.items() if d > day}
    return int(figures.totals.users) - sum(int(b.new_users) - int(b.gone_users) for b in later.values())


def dashboard(span: Range) -> dict[str, Any]:
    figures = _figures(span)
    code, places = _currency()
    mrr = _mrr(figures)
    revenue, refunds = figures.in_range("gross"), figures.in_range("refunds")
    return {
        "currency": code,
        "as_of": iso(clock.now()),
        "mrr": _money(mrr, places),
        "arr": _money(Decimal(_money(mrr, places)) * 12, places),
        "active_subscriptions": int(figures.totals.ACTIVE),
        "trialing_subscriptions": int(figures.totals.TRIALING),
        "past_due_subscriptions": int(figures.totals.PAST_DUE),
        "total_users": int(figures.totals.users),
        "new_users": int(figures.in_range("new_users")),
        "revenue": _money(revenue, places),
        "refunds": _money(refunds, places),
        "net_revenue": _money(revenue - refunds, places),
        "churn_rate": _churn(figures)["churn_rate"],
        "open_invoices": {
            "count": int(figures.totals.open_invoices),
            "amount": _money(figures.totals.open_amount, places),
        },
        "tokens_outstanding": int(figures.totals.tokens),
    }


def mrr(span: Range, interval: str | None) -> dict[str, Any]:
    figures = _figures(span, history=False)
    code, places = _currency()
    ref = reference()
    total = _mrr(figures)
    breakdown = []
    for plan_id, item in figures.plans.items():
        if not _live(item):
            continue
        plan = ref.plan(plan_id)
        breakdown.append(
            {
                "plan_id": plan_id,
                "plan_name": plan.name if plan else None,
                "billing_period": plan.billing_period if plan else None,
                "subscriptions": _live(item),
                "mrr": _money(item.mrr, places),
            }
        )
    breakdown.sort(key=lambda p: (-Decimal(str(p["mrr"])), str(p["plan_name"] or ""), str(p["plan_id"])))
    history = [
        {"date": snap.day, "mrr": _money(snap.mrr + snap.addons_mrr, places)}
        for snap in repository.snapshots(span.first.isoformat(), span.last.isoformat())
        if interval != "month" or snap.day.endswith("-01")
    ]
    return {
        "currency": code,
        "as_of": iso(clock.now()),
        "mrr": _money(total, places),
        "arr": _money(Decimal(_money(total, places)) * 12, places),
        "subscriptions": _live(figures.totals),
        "addons_mrr": _money(figures.totals.addons_mrr, places),
        "breakdown": breakdown,
        "history": history,
    }


def revenue(span: Range) -> dict[str, Any]:
    figures = _figures(span)
    code, places = _currency()
    by_day = []
    for day in span.days:
        bucket = figures.day(day)
        by_day.append(
            {
                "date": day,
                "gross": _money(bucket.gross, places),
                "tax": _money(bucket.tax, places),
                "refunds": _money(bucket.refunds, places),
                "net": _money(bucket.gross - bucket.refunds, places),
                "invoices_paid": int(bucket.invoices_paid),
            }
        )
    gross, refunds = figures.in_range("gross"), figures.in_range("refunds")
    return {
        "currency": code,
        "from": span.first.isoformat(),
        "to": span.last.isoformat(),
        "gross": _money(gross, places),
        "tax": _money(figures.in_range("tax"), places),
        "refunds": _money(refunds, places),
        "net": _money(gross - refunds, places),
        "invoices_paid": int(figures.in_range("invoices_paid")),
        "by_day": by_day,
    }


def users_growth(span: Range) -> dict[str, Any]:
    figures = _figures(span)
    by_day = [
        {"date": day, "new_users": int(figures.day(day).new_users), "total_users": _users_at_end_of(figures, day)}
        for day in span.days
    ]
    return {
        "from": span.first.isoformat(),
        "to": span.last.isoformat(),
        "total_users": _users_at_end_of(figures, span.last.isoformat()),
        "new_users": int(figures.in_range("new_users")),
        "by_day": by_day,
    }


def churn(span: Range) -> dict[str, Any]:
    return {"from": span.first.isoformat(), "to": span.last.isoformat(), **_churn(_figures(span))}


def plan_distribution() -> dict[str, Any]:
    figures = _figures(Range(clock.now().date(), clock.now().date()), history=False)
    _, places = _currency()
    ref = reference()
    counted = {
        plan_id: sum(int(getattr(item, status)) for status in SUBSCRIPTION_STATUSES)
        for plan_id, item in figures.plans.items()
    }
    total = sum(counted.values())
    plans = []
    for plan_id, subscriptions in counted.items():
        if not subscriptions:
            continue
        plan = ref.plan(plan_id)
        plans.append(
            {
                "plan_id": plan_id,
                "plan_name": plan.name if plan else None,
                "slug": plan.slug if plan else None,
                "subscriptions": subscriptions,
                "percentage": format_fixed(Decimal(subscriptions) * HUNDRED / Decimal(total), 2),
                "mrr": _money(figures.plans[plan_id].mrr, places),
            }
        )
    plans.sort(key=lambda p: (-int(str(p["subscriptions"])), str(p["plan_name"] or ""), str(p["plan_id"])))
    return {"total": total, "plans": plans}


# --- the activity log ------------------------------------------------------------------------------------------


def activity(request: PageRequest, type_prefix: str | None, user_id: str | None, source: str | None) -> Page[Any]:
    page = activity_store.entries_page(request, clock.now(), type_prefix=type_prefix, user_id=user_id, source=source)
    return page.map(_entry)


def _entry(item: ActivityItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "type": item.type,
        "source": item.source,
        "description": item.description,
        "actor": {"type": item.actor_type, "id": item.actor_id, "email": item.actor_email},
        "subject": {"type": item.subject_type, "id": item.subject_id} if item.subject_type else None,
        "created_at": iso(item.created_at),
    }
