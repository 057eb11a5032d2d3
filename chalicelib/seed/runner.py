"""Seeds a stage (contract seed-data.md): idempotent — what exists is left as it is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.core import clock
from chalicelib.core.config import get_settings
from chalicelib.seed.accounts import seed_purchases, seed_users
from chalicelib.seed.booking import seed_booking
from chalicelib.seed.catalog import seed_catalog, seed_reference


def seed(now: datetime | None = None) -> dict[str, Any]:
    settings = get_settings()
    stage = settings.stage
    moment = now or clock.now()
    report: dict[str, Any] = {"stage": stage}
    report.update(seed_reference(moment, stage))
    if stage != "prod":
        report.update(seed_catalog(moment))
    report["users"] = seed_users(moment, stage)
    if stage != "prod":
        report["purchases"] = seed_purchases(moment)
    report.update(seed_booking(moment, stage))
    _mark_catalog_changed(moment)
    if stage != "prod" and (report["users"] or report.get("purchases")):
        report["analytics"] = _count_seeded_items()
    return report


def _count_seeded_items() -> dict[str, Any]:
    """The seed writes users, subscriptions and invoices without events, so the analytics consumer never hears of
    them: take them into the aggregates the way an operator heals an outage (idempotent, like the seed). A stage of
    a few demo accounts; prod seeds no purchases and is left to the consumer."""
    from chalicelib.analytics.reconcile import reconcile_all

    return reconcile_all()


def _mark_catalog_changed(now: datetime) -> None:
    """The seed writes the catalog in batches; one version bump at the end makes every instance re-read it."""
    from chalicelib.catalog.repository import bump_version
    from chalicelib.store.transactions import Transaction

    tx = Transaction()
    bump_version(tx, now)
    tx.commit()
