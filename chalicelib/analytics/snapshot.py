"""The `analytics-snapshot` job (daily): the MRR of the day, for the history of `GET /admin/analytics/mrr`."""

from __future__ import annotations

from typing import Any

from chalicelib.analytics.aggregates import repository
from chalicelib.analytics.aggregates.models import CurrentItem
from chalicelib.core import clock


def take() -> dict[str, Any]:
    """One GetItem-sized Query of the current totals and one put; a second run the same day replaces the first."""
    now = clock.now()
    totals = repository.current().get("TOTALS") or CurrentItem()
    day = f"{now:%Y-%m-%d}"
    subscriptions = int(totals.ACTIVE) + int(totals.PAST_DUE)
    repository.put_snapshot(repository.new_snapshot(day, totals.mrr, totals.addons_mrr, subscriptions, now))
    return {"day": day, "mrr": f"{totals.mrr + totals.addons_mrr:f}", "subscriptions": subscriptions}
