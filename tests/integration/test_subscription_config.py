"""The subscription plugin's switches for plan changes (contract subscriptions.md §13: `proration_enabled`,
`allow_downgrade`). These tests change the plugin's stored config, so each runs on a seeded account of its own
(`fresh_api`): a module uses either the module-wide account or fresh ones, never both (tests/conftest.py)."""

from __future__ import annotations

from datetime import timedelta

from tests.contract import BASIC, PRO
from tests.integration.holders import Holder, configure


def lines(invoice):
    return [
        (
            line["item_type"],
            line["description"],
            line["unit_price"],
            line["net_amount"],
            line["tax_amount"],
            line["gross_amount"],
        )
        for line in invoice["line_items"]
    ]


def test_without_proration_the_whole_new_price_is_billed(fresh_api, manual_clock):
    configure(proration_enabled=False)
    holder = Holder(fresh_api, "no-proration")
    sub = holder.subscribe("basic")
    manual_clock.advance(timedelta(days=16))

    preview = holder.proration(sub["id"], f"?new_plan_id={PRO}").json["proration"]
    body = holder.ok(sub["id"], "upgrade", {"plan_id": PRO})

    assert (preview["credit"], preview["amount_due"], preview["days_remaining"]) == ("0.00", "29.99", 15)
    assert body["proration"] == {"credit": "0.00", "amount_due": "29.99", "days_remaining": 15, "currency": "EUR"}
    assert lines(body["invoice"]) == [("SUBSCRIPTION", "Pro", "29.99", "29.99", "5.70", "35.69")]


def test_downgrades_can_be_disabled(fresh_api, manual_clock):
    configure(allow_downgrade=False)
    holder = Holder(fresh_api, "no-downgrades")
    sub = holder.subscribe("pro")
    answer = holder.post(sub["id"], "downgrade", {"plan_id": BASIC})
    assert (answer.status, answer.json) == (400, {"error": "Downgrades are disabled"})
    assert holder.subscription(sub["id"])["pending_plan_id"] is None
