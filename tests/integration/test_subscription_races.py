"""Concurrent changes of one subscription (subscriptions.md §8–§9): each change is one write conditional on the
version read, so of two racing requests one wins and the other decides again from what the winner left."""

from __future__ import annotations

from collections import Counter

from tests.contract import ENTERPRISE, PRO
from tests.integration.conftest import Api, at_once
from tests.integration.holders import Holder, events


def test_two_upgrades_at_once_issue_one_invoice(fresh_api: Api, atomic_dynamodb: None) -> None:
    holder = Holder(fresh_api, "race-upgrade")
    sub = holder.subscribe("basic")
    token = holder.token
    targets = [PRO, ENTERPRISE, PRO, ENTERPRISE]

    answers = at_once(
        len(targets),
        lambda i: fresh_api.post(
            f"/api/v1/user/subscriptions/{sub['id']}/upgrade", {"plan_id": targets[i]}, token=token
        ),
    )

    assert sorted(a.status for a in answers) == [200, 409, 409, 409], [a.json for a in answers]
    [won] = [a.json for a in answers if a.status == 200]
    assert {a.json["invoice_id"] for a in answers if a.status == 409} == {won["invoice"]["id"]}
    upgrades = [e for e in events("invoice.created", sub["id"]) if e["billing_reason"] == "UPGRADE"]
    assert [e["invoice_id"] for e in upgrades] == [won["invoice"]["id"]]
    assert holder.subscription(sub["id"])["pending_invoice_id"] == won["invoice"]["id"]


def test_cancel_against_pause_one_wins_cleanly(fresh_api: Api, atomic_dynamodb: None) -> None:
    holder = Holder(fresh_api, "race-cancel")
    sub = holder.subscribe("pro", addons=("priority-support",))
    token = holder.token
    path = f"/api/v1/user/subscriptions/{sub['id']}"
    calls = [f"{path}/cancel?immediately=true", f"{path}/pause"] * 3

    answers = at_once(len(calls), lambda i: fresh_api.post(calls[i], None, token=token))

    outcome = Counter((call.rsplit("/", 1)[1].split("?")[0], a.status) for call, a in zip(calls, answers, strict=True))
    after = holder.subscription(sub["id"])
    assert all(a.status in (200, 400) for a in answers), [a.json for a in answers]
    assert outcome[("cancel", 200)] == 1  # one cancel lands (it ends a paused one too); the others find it ended
    assert outcome[("pause", 200)] <= 1
    assert after["status"] == "CANCELLED"
    assert [a["status"] for a in after["add_ons"]] == ["CANCELLED"]
    assert len(events("subscription.cancelled", sub["id"])) == 1
    assert len(events("subscription.paused", sub["id"])) == outcome[("pause", 200)]
