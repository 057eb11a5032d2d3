"""The totals of `GET /user/invoices` follow every change of an invoice (issue 6 §6): the user's counts — in all and
per status — move in the transactions that create an invoice (checkout), capture it, authorize it, void it, refund
it at capture, and delete it; a deleted invoice leaves every index. Each step is checked against the lists
themselves, read whole.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import clock
from chalicelib.invoices.models import InvoiceCountsItem, InvoiceItem
from chalicelib.invoices.repository import counts_of, invoice_records, soft_delete
from chalicelib.store.base import CountersTable, InvoicesTable
from chalicelib.store.transactions import Transaction
from tests.integration.buyers import Buyer, basket, checkout, deliver, german_buyer, notification, read
from tests.integration.conftest import Api

INVOICES = "/api/v1/user/invoices"
STATUSES = ("PENDING", "AUTHORIZED", "PAID", "FAILED", "CANCELLED", "REFUNDED")


def listed(api: Api, buyer: Buyer) -> dict[str, Any]:
    """Every list of the buyer: the whole one and one per status, as `{status or "all": (total, [ids])}`."""
    lists = {"all": read(api, INVOICES, buyer.token)}
    for status in STATUSES:
        lists[status] = read(api, f"{INVOICES}?status={status}", buyer.token)
    return {name: (body["total"], [i["id"] for i in body["invoices"]]) for name, body in lists.items()}


def assert_counts_match(api: Api, buyer: Buyer, expected: dict[str, list[str]]) -> None:
    """Each list holds exactly the expected invoices and its total says how many (the counts agree)."""
    everything = [invoice_id for ids in expected.values() for invoice_id in ids]
    found = listed(api, buyer)
    assert found["all"][0] == len(everything) and sorted(found["all"][1]) == sorted(everything)
    for status in STATUSES:
        ids = expected.get(status, [])
        assert found[status] == (len(ids), found[status][1]) and sorted(found[status][1]) == sorted(ids), status
    counts = counts_of(buyer.user_id)
    assert counts is not None
    assert isinstance(CountersTable.get(*InvoiceCountsItem.key(buyer.user_id)), InvoiceCountsItem)  # typed by `kind`
    assert {s: counts.count_of(s) for s in STATUSES} == {s: len(expected.get(s, [])) for s in STATUSES}


def pay(api: Api, buyer: Buyer, invoice_id: str, **body: Any) -> int:
    return api.post(f"/api/v1/user/invoices/{invoice_id}/pay", body, token=buyer.token).status


def test_every_status_change_moves_the_totals(api: Api) -> None:
    buyer = german_buyer(api, "counted")
    add_on = basket(addons=("dedicated-onboarding",))
    paid = checkout(api, buyer.token, basket(bundles=("100 Tokens",)))["invoice"]["id"]
    voided = checkout(api, buyer.token, add_on)
    refunded = checkout(api, buyer.token, add_on)
    pending = checkout(api, buyer.token, basket(bundles=("500 Tokens",)))["invoice"]["id"]
    voided_id, refunded_id = voided["invoice"]["id"], refunded["invoice"]["id"]
    assert_counts_match(api, buyer, {"PENDING": [paid, voided_id, refunded_id, pending]})

    assert pay(api, buyer, paid) == 200  # capture
    assert pay(api, buyer, refunded_id, sandbox_outcome="authorize") == 200  # authorization
    assert pay(api, buyer, pending, sandbox_outcome="fail") == 402  # a declined attempt changes no total
    cancel = api.post(f"/api/v1/user/addons/{voided['add_ons'][0]['id']}/cancel", token=buyer.token)
    assert cancel.status == 200  # its invoice bills nothing else: voided
    assert_counts_match(
        api, buyer, {"PAID": [paid], "AUTHORIZED": [refunded_id], "CANCELLED": [voided_id], "PENDING": [pending]}
    )

    # The authorized invoice's add-on is cancelled; its capture then refunds the whole invoice (§6.2).
    cancel = api.post(f"/api/v1/user/addons/{refunded['add_ons'][0]['id']}/cancel", token=buyer.token)
    assert cancel.status == 200
    invoice = read(api, f"{INVOICES}/{refunded_id}", buyer.token)["invoice"]
    captured = deliver(api, notification(invoice))
    assert captured.status == 200, captured.json
    assert read(api, f"{INVOICES}/{refunded_id}", buyer.token)["invoice"]["status"] == "REFUNDED"
    assert_counts_match(
        api, buyer, {"PAID": [paid], "REFUNDED": [refunded_id], "CANCELLED": [voided_id], "PENDING": [pending]}
    )


def test_a_deleted_invoice_leaves_every_index_and_every_total(api: Api) -> None:
    buyer = german_buyer(api, "deleted")
    kept = checkout(api, buyer.token, basket(bundles=("100 Tokens",)))["invoice"]["id"]
    voided = checkout(api, buyer.token, basket(addons=("dedicated-onboarding",)))
    assert api.post(f"/api/v1/user/addons/{voided['add_ons'][0]['id']}/cancel", token=buyer.token).status == 200
    deleted = voided["invoice"]["id"]
    assert_counts_match(api, buyer, {"PENDING": [kept], "CANCELLED": [deleted]})

    records = invoice_records(deleted)
    assert records is not None
    tx = Transaction()
    soft_delete(tx, records.invoice, clock.now())
    tx.commit()

    assert_counts_match(api, buyer, {"PENDING": [kept]})
    answer = api.get(f"{INVOICES}/{deleted}", token=buyer.token)
    assert (answer.status, answer.json) == (404, {"error": "Invoice not found"})
    [stored] = [i for i in InvoicesTable.query(InvoiceItem.key(deleted)[0]) if isinstance(i, InvoiceItem)]
    assert stored.deleted_at is not None and stored.invoice_number == voided["invoice"]["invoice_number"]
    indexes = (stored.gsi1pk, stored.gsi2pk, stored.gsi3pk, stored.gsi4pk)
    assert indexes == (None, None, None, None)
