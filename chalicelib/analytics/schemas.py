"""Query strings and answers of the admin analytics routes (admin.md §17)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field, field_validator

from chalicelib.core.validation import Answer, Instant, Money, PageKeys, PagingQuery, QueryString, refuse

SOURCES = ("domain", "client", "admin")
INTERVALS = ("day", "month")
Rate = Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]{4}$", description="A rate with 4 places")]
Day = Annotated[str, Field(json_schema_extra={"format": "date"}, description="YYYY-MM-DD, UTC")]


def _day(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    text = value.strip()
    try:
        if len(text) != 10:
            raise ValueError(text)
        date.fromisoformat(text)
    except ValueError as exc:
        raise refuse(f"Invalid date: {value}") from exc
    return text


def _choice(value: str | None, names: tuple[str, ...], what: str) -> str | None:
    """A lower-case choice, case-insensitive; absent or empty: None; anything else `Invalid <what>: <value>`."""
    if value is None or value == "":
        return None
    if value.strip().lower() not in names:
        raise refuse(f"Invalid {what}: {value}")
    return value.strip().lower()


class RangeQuery(QueryString):
    """`from`, `to`: inclusive UTC days; by default the 30 days ending today; at most 366 days."""

    from_: Annotated[str | None, Field(alias="from", description="First day, YYYY-MM-DD")] = None
    to: Annotated[str | None, Field(description="Last day, YYYY-MM-DD")] = None

    @field_validator("from_", "to")
    @classmethod
    def _dates(cls, value: str | None) -> str | None:
        return _day(value)


class MrrQuery(RangeQuery):
    interval: Annotated[str | None, Field(description="`day` (default) or `month`: one history point per …")] = None

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: str | None) -> str | None:
        return _choice(value, INTERVALS, "interval")


class ActivityQuery(PagingQuery):
    type: Annotated[str | None, Field(description="An event-name prefix, e.g. `invoice.`")] = None
    user_id: Annotated[str | None, Field(description="Entries whose actor or subject is this user")] = None
    source: Annotated[str | None, Field(description="`domain`, `client` or `admin`")] = None

    @field_validator("source")
    @classmethod
    def _source(cls, value: str | None) -> str | None:
        return _choice(value, SOURCES, "source")


# --- answers ---------------------------------------------------------------------------------------------------


class OpenInvoices(Answer):
    count: int
    amount: Money


class DashboardAnswer(Answer):
    """The business at a glance; `new_users`, `revenue`, `refunds`, `net_revenue`, `churn_rate` cover the range"""

    currency: str
    as_of: Instant
    mrr: Money
    arr: Money
    active_subscriptions: int
    trialing_subscriptions: int
    past_due_subscriptions: int
    total_users: int
    new_users: int
    revenue: Money
    refunds: Money
    net_revenue: Money
    churn_rate: Rate
    open_invoices: OpenInvoices
    tokens_outstanding: int


class PlanMrr(Answer):
    plan_id: str
    plan_name: str | None
    billing_period: str | None
    subscriptions: int
    mrr: Money


class MrrPoint(Answer):
    date: Day
    mrr: Money


class MrrAnswer(Answer):
    """MRR now, per plan, and its history from the daily snapshots"""

    currency: str
    as_of: Instant
    mrr: Money
    arr: Money
    subscriptions: int
    addons_mrr: Money
    breakdown: list[PlanMrr]
    history: list[MrrPoint]


class RevenueDay(Answer):
    date: Day
    gross: Money
    tax: Money
    refunds: Money
    net: Money
    invoices_paid: int


class RevenueAnswer(Answer):
    """Revenue of invoices paid, refunds of credit notes issued, per day of the range (zeros included)"""

    currency: str
    from_: Annotated[Day, Field(alias="from")]
    to: Day
    gross: Money
    tax: Money
    refunds: Money
    net: Money
    invoices_paid: int
    by_day: list[RevenueDay]


class GrowthDay(Answer):
    date: Day
    new_users: int
    total_users: int


class GrowthAnswer(Answer):
    """Users registered per day and users existing at the end of each day (deleted ones excluded)"""

    from_: Annotated[Day, Field(alias="from")]
    to: Day
    total_users: int
    new_users: int
    by_day: list[GrowthDay]


class ChurnAnswer(Answer):
    """Subscriptions that had been ACTIVE and were cancelled or expired in the range, over those live at its start"""

    from_: Annotated[Day, Field(alias="from")]
    to: Day
    active_at_start: int
    churned: int
    cancelled: int
    expired: int
    churn_rate: Rate
    churn_rate_percent: Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]{2}$")]


class PlanShare(Answer):
    plan_id: str
    plan_name: str | None
    slug: str | None
    subscriptions: int
    percentage: Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]{2}$")]
    mrr: Money


class DistributionAnswer(Answer):
    """Subscriptions TRIALING, ACTIVE, PAST_DUE or PAUSED per plan, most first"""

    total: int
    plans: list[PlanShare]


class ActivityActor(Answer):
    type: str
    id: str | None
    email: str | None


class ActivitySubject(Answer):
    type: str | None
    id: str | None


class ActivityEntry(Answer):
    id: str
    type: str
    source: str
    description: str
    actor: ActivityActor
    subject: ActivitySubject | None
    created_at: Instant


class ActivityAnswer(PageKeys):
    """Domain events, client events and the admin audit log, newest first"""

    activity: list[ActivityEntry]
