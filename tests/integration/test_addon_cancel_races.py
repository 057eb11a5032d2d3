"""Cancelling an add-on while its state changes under it (contract subscriptions.md §12.2, README §1.12).

A cancel reads the add-on subscription (and, for a PENDING one, its invoice and the other things that invoice
bills), decides, and commits on the condition of what it read. A capture of the invoice or the cancel of another
line of it can commit in between: the cancel must then read again and answer what the new state allows — never a
500, never a lost update. Each test interleaves the two writers deterministically (the second one runs to the end
between the cancel's read and its commit) and then races them on threads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.subscriptions import repository
from tests.integration.buyers import Buyer, buy, events_about, invoice_of, pay, read, register_buyer
from tests.integration.conftest import Answer, Api, at_once

ADDONS = "/api/v1/user/addons"
CANNOT_CANCEL = {"error": "Add-on subscription cannot be cancelled"}
ROUNDS = 4


def cancel(api: Api, buyer: Buyer, addon_subscription_id: str) -> Answer:
    return api.post(f"{ADDONS}/{addon_subscription_id}/cancel", token=buyer.token)


def addon_of(api: Api, buyer: Buyer, addon_subscription_id: str) -> dict[str, Any]:
    return read(api, f"{ADDONS}/{addon_subscription_id}", buyer.token)["addon_subscription"]  # type: ignore[no-any-return]


def checked_out(api: Api, *addons: str) -> tuple[Buyer, list[str], str]:
    """A new buyer who checked out these add-ons and has not paid: the buyer, the add-on subscriptions' ids (in the
    order given) and the invoice's."""
    buyer = register_buyer(api, "race")
    bought = buy(api, buyer, addons=addons)
    return buyer, [a["id"] for a in bought["add_ons"]], bought["invoice"]["id"]


def addon_events(kind: str, addon_subscription_id: str) -> int:
    """How many `addon.<kind>` events the add-on subscription has in the outbox."""
    return len(events_about(f"addon.{kind}", "addon_subscription_id", addon_subscription_id))


def voided(invoice_id: str) -> int:
    """How many `invoice.voided` events the invoice has in the outbox."""
    return len(events_about("invoice.voided", "invoice_id", invoice_id))


@pytest.fixture
def between_read_and_commit(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[[], Any]], list[Any]]:
    """`between_read_and_commit(other)`: the next cancel runs `other` to its end (on its own thread, as another
    request would) after it read and decided, before it commits. Returns what `other` returned."""
    results: list[Any] = []
    pending: list[Callable[[], Any]] = []
    write = repository.update_addon_subscription

    def interleaved(tx: Any, addon: Any, *rest: Any) -> None:
        if pending:
            other = pending.pop()
            results.extend(at_once(1, lambda _: other()))
        write(tx, addon, *rest)

    monkeypatch.setattr(repository, "update_addon_subscription", interleaved)

    def arrange(other: Callable[[], Any]) -> list[Any]:
        pending.append(other)
        return results

    return arrange


# --- cancel vs. pay of the add-on's invoice ------------------------------------------------------------------


def test_an_add_on_paid_between_the_cancels_read_and_its_commit_is_scheduled(fresh_api, between_read_and_commit):
    buyer, [addon_sub_id], invoice_id = checked_out(fresh_api, "extra-storage-50gb")
    paid_meanwhile = between_read_and_commit(lambda: pay(fresh_api, buyer.token, invoice_id))

    answer = cancel(fresh_api, buyer, addon_sub_id)

    [payment] = paid_meanwhile
    assert payment.status == 200, payment.json
    assert answer.status == 200, answer.json  # read again: now ACTIVE and recurring, so it runs to its period end
    result = answer.json["addon_subscription"]
    assert (result["status"], result["cancel_at_period_end"], result["is_valid"]) == ("ACTIVE", True, True)
    assert invoice_of(fresh_api, buyer.token, invoice_id)["status"] == "PAID"
    assert addon_of(fresh_api, buyer, addon_sub_id)["cancel_at_period_end"] is True
    assert (addon_events("cancellation_scheduled", addon_sub_id), addon_events("cancelled", addon_sub_id)) == (1, 0)
    assert voided(invoice_id) == 0


def test_a_one_time_add_on_paid_between_the_cancels_read_and_its_commit_ends_now(fresh_api, between_read_and_commit):
    buyer, [addon_sub_id], invoice_id = checked_out(fresh_api, "dedicated-onboarding")
    paid_meanwhile = between_read_and_commit(lambda: pay(fresh_api, buyer.token, invoice_id))

    answer = cancel(fresh_api, buyer, addon_sub_id)

    assert [p.status for p in paid_meanwhile] == [200]
    assert answer.status == 200, answer.json
    assert answer.json["addon_subscription"]["status"] == "CANCELLED"
    assert invoice_of(fresh_api, buyer.token, invoice_id)["status"] == "PAID"  # a paid invoice is never voided
    assert voided(invoice_id) == 0
    assert addon_events("cancelled", addon_sub_id) == 1


def test_cancels_racing_a_pay_give_one_cancel_and_a_consistent_invoice(fresh_api, atomic_dynamodb):
    for _ in range(ROUNDS):
        race_two_cancels_and_a_pay(fresh_api)


def race_two_cancels_and_a_pay(api: Api) -> None:
    buyer, [addon_sub_id], invoice_id = checked_out(api, "extra-storage-50gb")
    calls: list[Callable[[], Answer]] = [
        lambda: cancel(api, buyer, addon_sub_id),
        lambda: pay(api, buyer.token, invoice_id),
        lambda: cancel(api, buyer, addon_sub_id),
    ]

    cancel_one, payment, cancel_two = at_once(len(calls), lambda i: calls[i]())

    cancels = [cancel_one, cancel_two]
    assert Counter(a.status for a in cancels) == {200: 1, 400: 1}, [(a.status, a.json) for a in cancels]
    assert [a.json for a in cancels if a.status == 400] == [CANNOT_CANCEL]
    assert payment.status in (200, 400, 409), payment.json
    invoice = invoice_of(api, buyer.token, invoice_id)
    addon = addon_of(api, buyer, addon_sub_id)
    if payment.status == 200:  # paid first: the add-on runs to its period end
        assert invoice["status"] == "PAID"
        assert (addon["status"], addon["cancel_at_period_end"]) == ("ACTIVE", True)
        assert (addon_events("cancellation_scheduled", addon_sub_id), voided(invoice_id)) == (1, 0)
    else:  # cancelled first: the invoice billed nothing else, so it is void and cannot be paid
        assert invoice["status"] == "CANCELLED"
        assert (addon["status"], addon["cancel_at_period_end"]) == ("CANCELLED", False)
        assert (addon_events("cancelled", addon_sub_id), voided(invoice_id)) == (1, 1)


# --- cancel vs. cancel of another line of the same invoice -------------------------------------------------


def test_the_other_line_cancelled_between_the_cancels_read_and_its_commit_voids_the_invoice(
    fresh_api, between_read_and_commit
):
    buyer, [storage, onboarding], invoice_id = checked_out(fresh_api, "extra-storage-50gb", "dedicated-onboarding")
    other_cancel = between_read_and_commit(lambda: cancel(fresh_api, buyer, onboarding))

    answer = cancel(fresh_api, buyer, storage)

    assert [a.status for a in other_cancel] == [200]
    assert answer.status == 200, answer.json
    # Each cancel read the other line as still wanted; the later one must notice it no longer is.
    assert invoice_of(fresh_api, buyer.token, invoice_id)["status"] == "CANCELLED"
    assert voided(invoice_id) == 1


def test_both_lines_of_an_invoice_cancelled_at_once_void_it_once(fresh_api, atomic_dynamodb):
    for _ in range(ROUNDS):
        race_the_cancels_of_two_lines(fresh_api)


def race_the_cancels_of_two_lines(api: Api) -> None:
    buyer, lines, invoice_id = checked_out(api, "extra-storage-50gb", "dedicated-onboarding")

    answers = at_once(len(lines), lambda i: cancel(api, buyer, lines[i]))

    assert [a.status for a in answers] == [200, 200], [a.json for a in answers]
    assert [addon_of(api, buyer, line)["status"] for line in lines] == ["CANCELLED", "CANCELLED"]
    assert invoice_of(api, buyer.token, invoice_id)["status"] == "CANCELLED"
    assert voided(invoice_id) == 1
