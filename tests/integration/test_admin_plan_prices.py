"""A plan's price change never rewrites issued invoices (admin.md §4.4): the open invoice keeps the price it was
issued at, while the next checkout and the renewal invoices issued afterwards bill the new price."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.core.clock import ManualClock
from chalicelib.jobs import run
from tests.integration.admin_catalog import ADMIN_API, admin_token, new_plan, subscribe
from tests.integration.buyers import german_buyer, invoice_of, paid, read, relogin
from tests.integration.conftest import Api, drain_events

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
RENEWAL_LEAD = datetime(2026, 6, 1, 9, 0, tzinfo=UTC) - timedelta(hours=24)


def prices(invoice: dict[str, Any]) -> tuple[str, list[str]]:
    return invoice["subtotal"], [line["unit_price"] for line in invoice["line_items"]]


def test_a_price_change_leaves_the_open_invoice_and_bills_new_checkouts_and_renewals(
    api: Api, manual_clock: ManualClock
) -> None:
    manual_clock.set(T0)
    token = admin_token(api)
    plan = new_plan(api, token, price="10.00")
    waiting = german_buyer(api, "open-invoice")
    open_invoice = subscribe(api, waiting.token, plan["id"])["invoice"]
    renewing = german_buyer(api, "renewing")
    paid(api, renewing.token, subscribe(api, renewing.token, plan["id"])["invoice"]["id"])
    issued = invoice_of(api, waiting.token, open_invoice["id"])
    assert prices(issued) == ("10.00", ["10.00"])

    changed = api.put(f"{ADMIN_API}/tarif-plans/{plan['id']}", {"price": "12.50"}, token=token)
    assert changed.status == 200 and changed.json["plan"]["price"]["price_decimal"] == "12.50"

    assert invoice_of(api, waiting.token, open_invoice["id"]) == issued
    newcomer = german_buyer(api, "after-change")
    assert prices(subscribe(api, newcomer.token, plan["id"])["invoice"]) == ("12.50", ["12.50"])

    manual_clock.set(RENEWAL_LEAD)
    run("subscription-lifecycle")
    drain_events()
    renewing = relogin(api, renewing)
    invoices = read(api, "/api/v1/user/invoices", renewing.token)["invoices"]
    renewal = next(i for i in invoices if i["billing_reason"] == "RENEWAL")
    assert prices(invoice_of(api, renewing.token, renewal["id"])) == ("12.50", ["12.50"])
    first = next(i for i in invoices if i["billing_reason"] != "RENEWAL")
    assert prices(invoice_of(api, renewing.token, first["id"])) == ("10.00", ["10.00"])
    later = invoice_of(api, relogin(api, waiting).token, open_invoice["id"])  # no longer payable a month on
    assert (prices(later), later["total_amount"], later["line_items"]) == (
        prices(issued),
        issued["total_amount"],
        issued["line_items"],
    )
