"""The renewal invoice of a subscription's or add-on subscription's next period (subscriptions.md §7.1) — the one
place that decides what a renewal bills and issues it.

Two callers: the lifecycle job issues it at the lead time (`chalicelib/lifecycle/steps.py`, together with the
period's guard), and a downgrade scheduled while a renewal invoice is open voids that invoice and issues it again
for the plan the next period will have (`chalicelib/subscriptions/service.py`). What is billed: the plan to bill next
(a scheduled downgrade's, else the current one) at its price now, converted to the subscription's currency, and
every linked recurring add-on that is ACTIVE and not scheduled to end — all for the same period, `due_date` its
start, taxed by the billing country now.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from chalicelib.catalog.pricing import Currencies, applicable_tax
from chalicelib.catalog.repository import Reference
from chalicelib.core.ids import new_id
from chalicelib.core.money import format_fixed, format_money
from chalicelib.core.times import iso, parse_instant
from chalicelib.events.catalog import SubscriptionRenewalUpcoming
from chalicelib.events.envelope import Actor, Event
from chalicelib.invoices import repository as invoice_store
from chalicelib.invoices.builder import Line
from chalicelib.invoices.issue import InvoiceDraft, issue
from chalicelib.invoices.models import InvoiceItem
from chalicelib.payments.methods import default_method
from chalicelib.store.transactions import Transaction
from chalicelib.subscriptions import repository as subscription_store
from chalicelib.subscriptions.events import subscription_data
from chalicelib.subscriptions.machine import ACTIVE
from chalicelib.subscriptions.models import AddonSubscriptionItem, SubscriptionItem
from chalicelib.subscriptions.periods import add_period
from chalicelib.users import repository as user_store

Holding = SubscriptionItem | AddonSubscriptionItem


@dataclass(frozen=True)
class Renewal:
    """A renewal issued: its invoice and the period it bills."""

    invoice: InvoiceItem
    plan_id: str | None
    period_start: datetime
    period_end: datetime | None


@dataclass(frozen=True)
class _Billing:
    lines: list[Line]
    plan_id: str | None
    period_start: datetime
    period_end: datetime | None


def issue_renewal(
    tx: Transaction,
    item: Holding,
    ref: Reference,
    linked: Iterable[AddonSubscriptionItem],
    now: datetime,
    actor: Actor,
) -> Renewal | None:
    """Issue the next period's renewal invoice of `item` in `tx` (with `subscription.renewal_upcoming` for a
    subscription); None when nothing can bill it (its plan or add-on left the catalog, or is one-time). `linked` are
    the subscription's add-on subscriptions that have not ended. The caller writes `item` and whatever else its step
    changes (the period guard, a voided invoice) in the same transaction."""
    currencies = Currencies.of(ref.currencies)
    target = _currency_of(ref, item, currencies)
    if isinstance(item, SubscriptionItem):
        billing = _subscription_billing(ref, item, list(linked), currencies, target)
    else:
        billing = _addon_billing(ref, item, currencies, target)
    if billing is None:
        return None
    details = user_store.find_details(item.user_id)
    country = details.country if details else None
    places = int(target.decimal_places)
    draft = InvoiceDraft(
        user_id=item.user_id,
        billing_reason="RENEWAL",
        currency=target.code,
        places=places,
        lines=billing.lines,
        tax=applicable_tax(country, ref.taxes, ref.tax_classes),
        details=details,
        due_date=billing.period_start,
        prefix=str(ref.settings["invoice_prefix"]),
        subscription_id=item.id if isinstance(item, SubscriptionItem) else item.subscription_id,
        tarif_plan_id=billing.plan_id,
    )

    def method(total: Decimal) -> str | None:
        """The method the item is paid with; an item that never recorded one (an add-on bought alone) gets the
        default method for this invoice, as a checkout would."""
        if item.payment_method_code:
            return str(item.payment_method_code)
        default = default_method(ref, target.code, country, total)
        return default.code if default else None

    invoice = issue(tx, draft, now, actor, choose_method=method)
    if isinstance(item, SubscriptionItem):
        upcoming = SubscriptionRenewalUpcoming(
            **_subscription_fields(ref, item, billing.plan_id),
            invoice_id=invoice.id,
            amount=format_money(invoice.total_amount, places),
            currency=invoice.currency,
            period_start=iso(billing.period_start),
            period_end=iso(billing.period_end),
        )
        tx.events.append(Event(upcoming, actor, occurred_at=now))
    return Renewal(invoice, billing.plan_id, billing.period_start, billing.period_end)


def release_billed_period(tx: Transaction, sub: SubscriptionItem, renewal: InvoiceItem) -> None:
    """A renewal voided before it was paid leaves its period unbilled: free the period's guard, so a renewal can be
    issued for it again (a reactivated subscription's)."""
    for line in renewal.lines:
        start = (line.metadata or {}).get("period_start")
        if line.item_id == sub.id and start:
            subscription_store.release_period(tx, sub.id, parse_instant(str(start)), renewal.id)


def withdraw_renewal(tx: Transaction, sub: SubscriptionItem, reason: str, actor: Actor, now: datetime) -> None:
    """The open renewal invoice of a subscription whose end moved (an admin's extension) bills a period that no
    longer follows: it is voided and its period given back, and the lifecycle issues the right one at the new lead
    time. A renewal already paid or authorized is left to the capture (which credits a period that does not follow)."""
    records = invoice_store.invoice_records(sub.renewal_invoice_id) if sub.renewal_invoice_id else None
    if records is None or records.invoice.status != "PENDING":
        return
    invoice_store.void(tx, records.invoice, reason, actor, now)
    release_billed_period(tx, sub, records.invoice)
    if sub.pending_invoice_id == records.invoice.id:
        sub.pending_invoice_id = None
    sub.renewal_invoice_id = None


def _subscription_fields(ref: Reference, sub: SubscriptionItem, plan_id: str | None) -> dict[str, Any]:
    """The common subscription event fields; a plan that left the catalog still names itself by id."""
    plan = ref.plan(plan_id or sub.tarif_plan_id)
    if plan is not None:
        return subscription_data(sub, plan)
    fields = {"plan_id": plan_id or sub.tarif_plan_id, "plan_slug": "", "plan_name": "", "status": sub.status}
    return {"subscription_id": sub.id, "user_id": sub.user_id, **fields}


def _converted(currencies: Currencies, price: Decimal, source: str, target: Any) -> tuple[Decimal, dict[str, Any]]:
    """A catalog price in the invoice's currency, and the metadata that records a conversion (§3.2)."""
    if source == target.code or source not in currencies.by_code:
        return price, {}
    rate = target.exchange_rate / currencies.by_code[source].exchange_rate
    return currencies.convert(price, source, target), {
        "original_currency": source,
        "original_unit_price": format_money(price, currencies.places(source)),
        "exchange_rate": format_fixed(rate, 6),
    }


def _subscription_billing(
    ref: Reference, sub: SubscriptionItem, linked: list[AddonSubscriptionItem], currencies: Currencies, target: Any
) -> _Billing | None:
    plan = ref.plan(sub.pending_plan_id or sub.tarif_plan_id)
    assert sub.expires_at is not None
    if plan is None or plan.billing_period == "ONE_TIME":
        return None
    start = sub.expires_at
    end = add_period(start, plan.billing_period, int(sub.anchor_day) if sub.anchor_day else None)
    period = {"period_start": iso(start), "period_end": iso(end), "billing_reason": "RENEWAL"}
    unit, extra = _converted(currencies, plan.price, plan.currency, target)
    metadata = {"plan_id": plan.id, "plan_slug": plan.slug, "billing_period": plan.billing_period, **period, **extra}
    lines = [Line(new_id(), "SUBSCRIPTION", plan.name, unit, sub.id, plan.id, metadata=metadata)]
    for addon_sub in linked:
        addon = ref.addon(addon_sub.addon_id)
        if addon is None or addon.billing_period == "ONE_TIME" or addon_sub.status != ACTIVE:
            continue
        if addon_sub.cancel_at_period_end or addon_sub.expires_at is None:
            continue
        unit, extra = _converted(currencies, addon.price, addon.currency, target)
        metadata = {"addon_id": addon.id, "addon_slug": addon.slug, "billing_period": addon.billing_period}
        lines.append(
            Line(new_id(), "ADD_ON", addon.name, unit, addon_sub.id, addon.id, metadata={**metadata, **period, **extra})
        )
    return _Billing(lines, plan.id, start, end)


def _addon_billing(
    ref: Reference, addon_sub: AddonSubscriptionItem, currencies: Currencies, target: Any
) -> _Billing | None:
    addon = ref.addon(addon_sub.addon_id)
    assert addon_sub.expires_at is not None
    if addon is None or addon.billing_period == "ONE_TIME":
        return None
    start = addon_sub.expires_at
    end = add_period(start, addon.billing_period)
    unit, extra = _converted(currencies, addon.price, addon.currency, target)
    metadata = {
        "addon_id": addon.id,
        "addon_slug": addon.slug,
        "billing_period": addon.billing_period,
        "period_start": iso(start),
        "period_end": iso(end),
        "billing_reason": "RENEWAL",
        **extra,
    }
    return _Billing(
        [Line(new_id(), "ADD_ON", addon.name, unit, addon_sub.id, addon.id, metadata=metadata)], None, start, end
    )


def _currency_of(ref: Reference, item: Holding, currencies: Currencies) -> Any:
    code = getattr(item, "currency", None)
    if code is None and isinstance(item, AddonSubscriptionItem):
        addon = ref.addon(item.addon_id)
        code = addon.currency if addon else None
    return currencies.by_code.get(str(code)) or currencies.default
