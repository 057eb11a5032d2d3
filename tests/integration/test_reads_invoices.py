"""The user's invoice reads and PDF (contract checkout-and-payments.md §2.1–§2.2, §4.3, §5.3; README §1.4, §1.6–§1.8,
§1.11, §1.14; seed-data.md §11).

Shared seeded account: every test registers its own buyers and only reads the seeded ones.
"""

from __future__ import annotations

import re
import uuid
import zlib
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.core.ids import seed_id
from tests.contract import (
    ACCESS_DENIED,
    INVALID_ID,
    INVALID_PAGING,
    INVOICE_FIELDS,
    LINE_ITEM_FIELDS,
    NO_CREDENTIAL,
)
from tests.integration.buyers import Buyer, assert_page, buy, ids, invoice_of, paid, read, register_buyer, relogin

INVOICES = "/api/v1/user/invoices"
NOT_FOUND = {"error": "Invoice not found"}
PDF_HEADERS = {"Accept": "application/pdf"}
TEST_USER_INVOICE = seed_id("invoice", "test@example.com")
PRO_USER_INVOICE = seed_id("invoice", "user.pro@demo.local")


def seeded(api, email: str, password: str) -> Buyer:
    return Buyer(email, seed_id("user", email), api.token(email, password))


def pay(api, buyer: Buyer, invoice_id: str, **body: Any) -> dict[str, Any]:
    """Pay with the invoice's method (or `body`'s); the invoice the answer carries."""
    return paid(api, buyer.token, invoice_id, **body)["invoice"]  # type: ignore[no-any-return]


def pdf_text(document: bytes) -> bytes:
    """The PDF's bytes with every Flate stream inflated (enough to find the strings it prints)."""
    parts = [document]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", document, re.S):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(parts)


# --- the seeded invoice ----------------------------------------------------------------------------------------


def test_the_seeded_invoice_of_the_test_user(api):
    test = seeded(api, "test@example.com", "TestPass123@")
    body = read(api, INVOICES, test.token)
    assert set(body) == {"invoices", "total"}
    assert body["total"] == 1
    [invoice] = body["invoices"]
    assert set(invoice) == INVOICE_FIELDS
    year = invoice["invoiced_at"][:4]
    subscription_id = seed_id("subscription", "test@example.com")
    plan_id = seed_id("plan", "test-data-basic-plan")
    seeded_at = invoice["invoiced_at"]
    metadata = {
        "billing_reason": "SUBSCRIPTION_CREATE",
        "plan_id": plan_id,
        "plan_slug": "test-data-basic-plan",
        "billing_period": "MONTHLY",
        "period_start": seeded_at,
        "period_end": invoice["line_items"][0]["metadata"]["period_end"],
    }
    assert invoice == {
        "id": TEST_USER_INVOICE,
        "user_id": test.user_id,
        "tarif_plan_id": plan_id,
        "subscription_id": subscription_id,
        "invoice_number": f"INV-{year}-000001",
        "billing_reason": "SUBSCRIPTION_CREATE",
        "status": "PAID",
        "currency": "EUR",
        "subtotal": "9.99",
        "tax_amount": "0.00",
        "total_amount": "9.99",
        "amount": "9.99",
        "amount_refunded": "0.00",
        "tax_rate": None,
        "tax_code": None,
        "tax_country": None,
        "tax_inclusive": False,
        "billing_address": invoice["billing_address"],
        "payment_method": "invoice",
        "payment_ref": "SEED",
        "payment_intent_id": None,
        "is_payable": False,
        "is_capturable": False,
        "invoiced_at": seeded_at,
        "due_date": invoice["due_date"],
        "expires_at": invoice["due_date"],
        "paid_at": seeded_at,
        "created_at": seeded_at,
        "line_items": [
            {
                "id": invoice["line_items"][0]["id"],
                "invoice_id": TEST_USER_INVOICE,
                "type": "SUBSCRIPTION",
                "item_type": "SUBSCRIPTION",
                "item_id": subscription_id,
                "catalog_item_id": plan_id,
                "description": "TEST_DATA_Basic Plan",
                "quantity": 1,
                "unit_price": "9.99",
                "total_price": "9.99",
                "amount": "9.99",
                "net_amount": "9.99",
                "tax_amount": "0.00",
                "gross_amount": "9.99",
                "metadata": metadata,
                "extra_data": metadata,
            }
        ],
        "credit_notes": [],
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z", seeded_at)
    assert invoice["billing_address"] is None or invoice["billing_address"]["country"] is None  # no country: no tax
    assert invoice_of(api, test.token, TEST_USER_INVOICE) == invoice
    assert read(api, f"{INVOICES}?status=paid", test.token) == body


def test_a_user_without_invoices(api):
    test2 = seeded(api, "test2@example.com", "TestPass123@")
    assert read(api, INVOICES, test2.token) == {"invoices": [], "total": 0}
    paged = read(api, f"{INVOICES}?limit=10", test2.token)
    assert paged == {
        "invoices": [],
        "total": 0,
        "limit": 10,
        "offset": 0,
        "page": 1,
        "per_page": 10,
        "pages": 0,
        "next_cursor": None,
    }


# --- every field, exactly --------------------------------------------------------------------------------------


def test_a_pending_invoice_every_field_then_paid(api, manual_clock):
    buyer = register_buyer(api, "inv")
    answer = buy(api, buyer, "basic", bundles=("100 Tokens",))
    created = answer["invoice"]
    invoice_id, subscription_id = created["id"], answer["subscription"]["id"]
    [purchase] = answer["token_bundles"]
    plan_line, bundle_line = created["line_items"]
    plan_metadata = {
        "billing_reason": "SUBSCRIPTION_CREATE",
        "plan_id": seed_id("plan", "basic"),
        "plan_slug": "basic",
        "billing_period": "MONTHLY",
        "period_start": None,
        "period_end": None,
    }
    bundle_metadata = {"bundle_id": seed_id("bundle", "100 Tokens"), "token_amount": 100}
    expected = {
        "id": invoice_id,
        "user_id": buyer.user_id,
        "tarif_plan_id": seed_id("plan", "basic"),
        "subscription_id": subscription_id,
        "invoice_number": created["invoice_number"],
        "billing_reason": "SUBSCRIPTION_CREATE",
        "status": "PENDING",
        "currency": "EUR",
        "subtotal": "12.99",
        "tax_amount": "0.00",
        "total_amount": "12.99",
        "amount": "12.99",
        "amount_refunded": "0.00",
        "tax_rate": None,
        "tax_code": None,
        "tax_country": None,
        "tax_inclusive": False,
        "billing_address": None,
        "payment_method": "sandbox",
        "payment_ref": None,
        "payment_intent_id": None,
        "is_payable": True,
        "is_capturable": False,
        "invoiced_at": "2026-05-01T09:00:00Z",
        "due_date": "2026-05-31T09:00:00Z",
        "expires_at": "2026-05-31T09:00:00Z",
        "paid_at": None,
        "created_at": "2026-05-01T09:00:00Z",
        "line_items": [
            {
                "id": plan_line["id"],
                "invoice_id": invoice_id,
                "type": "SUBSCRIPTION",
                "item_type": "SUBSCRIPTION",
                "item_id": subscription_id,
                "catalog_item_id": seed_id("plan", "basic"),
                "description": "Basic",
                "quantity": 1,
                "unit_price": "9.99",
                "total_price": "9.99",
                "amount": "9.99",
                "net_amount": "9.99",
                "tax_amount": "0.00",
                "gross_amount": "9.99",
                "metadata": plan_metadata,
                "extra_data": plan_metadata,
            },
            {
                "id": bundle_line["id"],
                "invoice_id": invoice_id,
                "type": "TOKEN_BUNDLE",
                "item_type": "TOKEN_BUNDLE",
                "item_id": purchase["id"],
                "catalog_item_id": seed_id("bundle", "100 Tokens"),
                "description": "100 Tokens",
                "quantity": 1,
                "unit_price": "3.00",
                "total_price": "3.00",
                "amount": "3.00",
                "net_amount": "3.00",
                "tax_amount": "0.00",
                "gross_amount": "3.00",
                "metadata": bundle_metadata,
                "extra_data": bundle_metadata,
            },
        ],
        "credit_notes": [],
    }
    assert re.fullmatch(r"INV-2026-\d{6}", created["invoice_number"])
    assert invoice_of(api, buyer.token, invoice_id) == expected
    assert read(api, INVOICES, buyer.token) == {"invoices": [expected], "total": 1}
    assert created == expected

    manual_clock.advance(timedelta(minutes=1))
    buyer = relogin(api, buyer)
    pay(api, buyer, invoice_id)
    paid = invoice_of(api, buyer.token, invoice_id)
    assert re.fullmatch(r"sandbox_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", paid["payment_ref"])
    assert paid == {
        **expected,
        "status": "PAID",
        "is_payable": False,
        "paid_at": "2026-05-01T09:01:00Z",
        "payment_ref": paid["payment_ref"],
    }


def test_a_taxed_invoice_carries_its_rate_code_country_and_address(api):
    buyer = register_buyer(api, "inv")
    details = {
        "first_name": "Ada",
        "last_name": "Byron",
        "address_line_1": "Unter den Linden 1",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "de",
    }
    assert api.put("/api/v1/user/details", details, token=buyer.token).status == 200
    invoice_id = buy(api, buyer, "basic", bundles=("100 Tokens",))["invoice"]["id"]
    invoice = invoice_of(api, buyer.token, invoice_id)
    assert {k: invoice[k] for k in ("subtotal", "tax_amount", "total_amount", "amount")} == {
        "subtotal": "12.99",
        "tax_amount": "2.47",
        "total_amount": "15.46",
        "amount": "15.46",
    }
    assert (invoice["tax_rate"], invoice["tax_code"], invoice["tax_country"], invoice["tax_inclusive"]) == (
        "19.00",
        "VAT_DE",
        "DE",
        False,
    )
    assert invoice["billing_address"] == {
        "name": "Ada Byron",
        "company": None,
        "tax_number": None,
        "address_line_1": "Unter den Linden 1",
        "address_line_2": None,
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
    }
    assert [(ln["net_amount"], ln["tax_amount"], ln["gross_amount"]) for ln in invoice["line_items"]] == [
        ("9.99", "1.90", "11.89"),
        ("3.00", "0.57", "3.57"),
    ]
    # a later edit of the details does not change the snapshot
    assert api.put("/api/v1/user/details", {"city": "Potsdam"}, token=buyer.token).status == 200
    assert invoice_of(api, buyer.token, invoice_id)["billing_address"]["city"] == "Berlin"


# --- is_payable / is_capturable --------------------------------------------------------------------------------


def test_is_payable_until_the_due_date(api, manual_clock):
    buyer = register_buyer(api, "inv")
    invoice_id = buy(api, buyer, bundles=("100 Tokens",))["invoice"]["id"]
    invoice = invoice_of(api, buyer.token, invoice_id)
    assert (invoice["status"], invoice["is_payable"], invoice["due_date"]) == ("PENDING", True, "2026-05-31T09:00:00Z")
    assert invoice["billing_reason"] == "PURCHASE"
    assert (invoice["tarif_plan_id"], invoice["subscription_id"]) == (None, None)
    manual_clock.advance(timedelta(days=30, seconds=-1))
    buyer = relogin(api, buyer)
    assert invoice_of(api, buyer.token, invoice_id)["is_payable"] is True
    manual_clock.advance(timedelta(seconds=1))  # the due date itself is no longer "in the future"
    buyer = relogin(api, buyer)
    invoice = invoice_of(api, buyer.token, invoice_id)
    assert (invoice["status"], invoice["is_payable"], invoice["is_capturable"]) == ("PENDING", False, False)
    [listed] = read(api, INVOICES, buyer.token)["invoices"]
    assert listed["is_payable"] is False


def test_a_trial_invoice_is_due_at_the_trial_end(api, manual_clock):
    buyer = register_buyer(api, "inv")
    answer = buy(api, buyer, "pro")
    invoice = invoice_of(api, buyer.token, answer["invoice"]["id"])
    assert invoice["due_date"] == invoice["expires_at"] == "2026-05-04T09:00:00Z"
    assert invoice["line_items"][0]["metadata"]["trial_end_at"] == "2026-05-04T09:00:00Z"
    assert invoice["is_payable"] is True


def test_an_authorized_invoice_is_capturable_not_payable(api):
    buyer = register_buyer(api, "inv")
    invoice_id = buy(api, buyer, bundles=("100 Tokens",))["invoice"]["id"]
    assert pay(api, buyer, invoice_id, sandbox_outcome="authorize")["status"] == "AUTHORIZED"
    invoice = invoice_of(api, buyer.token, invoice_id)
    assert (invoice["status"], invoice["is_payable"], invoice["is_capturable"]) == ("AUTHORIZED", False, True)
    assert invoice["payment_intent_id"] is not None
    assert invoice["paid_at"] is None


# --- list, order, filter, paging -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed(api) -> tuple[Buyer, dict[str, str]]:
    """A buyer with four invoices, oldest first: PAID, PENDING, CANCELLED, AUTHORIZED."""
    buyer = register_buyer(api, "inv")
    paid = buy(api, buyer, "basic")["invoice"]["id"]
    pay(api, buyer, paid)
    pending = buy(api, buyer, bundles=("100 Tokens",))["invoice"]["id"]
    voided = buy(api, buyer, addons=("dedicated-onboarding",))
    cancel = api.post(f"/api/v1/user/addons/{voided['add_ons'][0]['id']}/cancel", token=buyer.token)
    assert cancel.status == 200, cancel.json
    authorized = buy(api, buyer, bundles=("500 Tokens",))["invoice"]["id"]
    pay(api, buyer, authorized, sandbox_outcome="authorize")
    return buyer, {"paid": paid, "pending": pending, "cancelled": voided["invoice"]["id"], "authorized": authorized}


def test_the_list_is_newest_first_with_its_total(api, mixed):
    buyer, invoices = mixed
    body = read(api, INVOICES, buyer.token)
    assert set(body) == {"invoices", "total"}
    assert ids(body["invoices"]) == [invoices[k] for k in ("authorized", "cancelled", "pending", "paid")]
    assert body["total"] == 4
    assert [i["status"] for i in body["invoices"]] == ["AUTHORIZED", "CANCELLED", "PENDING", "PAID"]
    assert [i["is_payable"] for i in body["invoices"]] == [False, False, True, False]
    assert [i["is_capturable"] for i in body["invoices"]] == [True, False, False, False]
    invoiced = [i["invoiced_at"] for i in body["invoices"]]
    assert invoiced == sorted(invoiced, reverse=True)
    numbers = [int(i["invoice_number"][-6:]) for i in body["invoices"]]
    assert numbers == sorted(numbers, reverse=True)
    for invoice in body["invoices"]:
        assert set(invoice) == INVOICE_FIELDS
        assert invoice["credit_notes"] == []
        assert all(set(line) == LINE_ITEM_FIELDS for line in invoice["line_items"])
        assert invoice_of(api, buyer.token, invoice["id"]) == invoice


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("PAID", ["paid"]),
        ("paid", ["paid"]),
        ("Pending", ["pending"]),
        ("cancelled", ["cancelled"]),
        ("authorized", ["authorized"]),
        ("FAILED", []),
        ("refunded", []),
    ],
)
def test_the_status_filter_is_case_insensitive(api, mixed, status, expected):
    buyer, invoices = mixed
    body = read(api, f"{INVOICES}?status={status}", buyer.token)
    assert body == {"invoices": body["invoices"], "total": len(expected)}
    assert ids(body["invoices"]) == [invoices[name] for name in expected]


@pytest.mark.parametrize("status", ["foo", "PAYED", "void"])
def test_an_unknown_status_filter_is_400(api, mixed, status):
    buyer, _ = mixed
    answer = api.get(f"{INVOICES}?status={status}", token=buyer.token)
    assert answer.status == 400
    assert answer.json == {"error": f"Invalid status: {status}"}


def test_paging_by_limit_and_offset(api, mixed):
    buyer, invoices = mixed
    newest_first = [invoices[k] for k in ("authorized", "cancelled", "pending", "paid")]
    first = read(api, f"{INVOICES}?limit=3", buyer.token)
    assert_page(first, "invoices", newest_first[:3], total=4, limit=3, offset=0, page=1, per_page=3, pages=2)
    assert isinstance(first["next_cursor"], str)
    rest = read(api, f"{INVOICES}?limit=3&offset=3", buyer.token)
    assert ids(rest["invoices"]) == newest_first[3:]
    assert (rest["offset"], rest["page"], rest["next_cursor"]) == (3, 2, None)
    by_cursor = read(api, f"{INVOICES}?limit=3&cursor={first['next_cursor']}", buyer.token)
    assert ids(by_cursor["invoices"]) == newest_first[3:]
    assert by_cursor["next_cursor"] is None
    middle = read(api, f"{INVOICES}?limit=2&offset=1", buyer.token)
    assert ids(middle["invoices"]) == newest_first[1:3]
    assert (middle["page"], middle["per_page"], middle["pages"]) == (1, 2, 2)
    beyond = read(api, f"{INVOICES}?limit=2&offset=10", buyer.token)
    assert (beyond["invoices"], beyond["total"], beyond["next_cursor"]) == ([], 4, None)


def test_paging_by_page_and_per_page(api, mixed):
    buyer, invoices = mixed
    newest_first = [invoices[k] for k in ("authorized", "cancelled", "pending", "paid")]
    second = read(api, f"{INVOICES}?page=2&per_page=3", buyer.token)
    assert_page(second, "invoices", newest_first[3:], total=4, limit=3, offset=3, page=2, per_page=3, pages=2)
    assert second["next_cursor"] is None
    first = read(api, f"{INVOICES}?page=1&per_page=2", buyer.token)
    assert ids(first["invoices"]) == newest_first[:2]
    assert (first["pages"], first["offset"]) == (2, 0)
    following = read(api, f"{INVOICES}?per_page=2&cursor={first['next_cursor']}", buyer.token)
    assert ids(following["invoices"]) == newest_first[2:]
    assert following["next_cursor"] is None
    # page/per_page win over offset/limit
    assert ids(read(api, f"{INVOICES}?page=2&per_page=2&limit=1&offset=0", buyer.token)["invoices"]) == newest_first[2:]


def test_paging_with_a_status_filter_counts_the_matches(api, mixed):
    buyer, invoices = mixed
    body = read(api, f"{INVOICES}?status=pending&limit=1", buyer.token)
    assert ids(body["invoices"]) == [invoices["pending"]]
    assert (body["total"], body["pages"], body["next_cursor"]) == (1, 1, None)


@pytest.mark.parametrize(
    ("query", "limit", "offset", "page"),
    [("limit=500", 100, 0, 1), ("per_page=0", 1, 0, 1), ("page=0&per_page=2", 2, 0, 1), ("offset=-5&limit=2", 2, 0, 1)],
)
def test_out_of_range_paging_is_clamped(api, mixed, query, limit, offset, page):
    buyer, _ = mixed
    body = read(api, f"{INVOICES}?{query}", buyer.token)
    assert (body["limit"], body["per_page"], body["offset"], body["page"]) == (limit, limit, offset, page)
    assert len(body["invoices"]) == min(limit, 4)


@pytest.mark.parametrize("query", ["limit=abc", "offset=1.5", "page=x", "per_page=two", "cursor=!!"])
def test_malformed_paging_is_400(api, mixed, query):
    buyer, _ = mixed
    answer = api.get(f"{INVOICES}?{query}", token=buyer.token)
    assert answer.status == 400
    assert answer.json == INVALID_PAGING


# --- detail errors ---------------------------------------------------------------------------------------------


def test_another_users_invoice_is_403(api, mixed):
    buyer, invoices = mixed
    for invoice_id in (TEST_USER_INVOICE, PRO_USER_INVOICE):
        answer = api.get(f"{INVOICES}/{invoice_id}", token=buyer.token)
        assert answer.status == 403
        assert answer.json == ACCESS_DENIED
    stranger = register_buyer(api, "inv")
    answer = api.get(f"{INVOICES}/{invoices['paid']}", token=stranger.token)
    assert answer.status == 403
    assert answer.json == ACCESS_DENIED
    assert invoices["paid"] not in ids(read(api, INVOICES, stranger.token)["invoices"])


def test_an_unknown_invoice_is_404(api, mixed):
    buyer, _ = mixed
    answer = api.get(f"{INVOICES}/{uuid.uuid4()}", token=buyer.token)
    assert answer.status == 404
    assert answer.json == NOT_FOUND


@pytest.mark.parametrize("bad", ["not-a-uuid", "INV-2026-000001", "1234"])
def test_a_malformed_id_is_400(api, mixed, bad):
    buyer, _ = mixed
    for path in (f"{INVOICES}/{bad}", f"{INVOICES}/{bad}/pdf"):
        answer = api.get(path, token=buyer.token)
        assert answer.status == 400
        assert answer.json == INVALID_ID


def test_an_upper_case_id_is_the_same_invoice(api, mixed):
    buyer, invoices = mixed
    assert invoice_of(api, buyer.token, invoices["paid"].upper())["id"] == invoices["paid"]


@pytest.mark.parametrize("path", [INVOICES, f"{INVOICES}/{TEST_USER_INVOICE}", f"{INVOICES}/{TEST_USER_INVOICE}/pdf"])
def test_reads_need_a_token(api, path):
    answer = api.get(path, headers=PDF_HEADERS if path.endswith("pdf") else None)
    assert answer.status == 401
    assert answer.json == NO_CREDENTIAL


def test_reads_are_not_cached(api, mixed):
    buyer, invoices = mixed
    for path in (INVOICES, f"{INVOICES}/{invoices['paid']}"):
        answer = api.get(path, token=buyer.token)
        assert answer.headers["cache-control"] == "no-store"


# --- PDF -------------------------------------------------------------------------------------------------------


def test_the_pdf_of_the_seeded_invoice(api):
    test = seeded(api, "test@example.com", "TestPass123@")
    number = invoice_of(api, test.token, TEST_USER_INVOICE)["invoice_number"]
    answer = api.get(f"{INVOICES}/{TEST_USER_INVOICE}/pdf", token=test.token, headers=PDF_HEADERS)
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == f'attachment; filename="invoice-{number}.pdf"'
    assert answer.headers["cache-control"] == "no-store"
    assert answer.body.startswith(b"%PDF")
    assert answer.body.rstrip().endswith(b"%%EOF")
    text = pdf_text(answer.body)
    for printed in (number.encode(), b"TEST_DATA_Basic Plan", b"9.99 EUR", b"SEED"):
        assert printed in text, printed


def test_the_pdf_of_a_fresh_invoice(api, mixed):
    buyer, invoices = mixed
    for invoice_id in invoices.values():
        number = invoice_of(api, buyer.token, invoice_id)["invoice_number"]
        answer = api.get(f"{INVOICES}/{invoice_id}/pdf", token=buyer.token, headers=PDF_HEADERS)
        assert answer.status == 200
        assert answer.headers["content-disposition"] == f'attachment; filename="invoice-{number}.pdf"'
        assert answer.body.startswith(b"%PDF")
        assert number.encode() in pdf_text(answer.body)


def test_the_pdf_with_a_browser_accept_header(api, mixed):
    buyer, invoices = mixed
    answer = api.get(f"{INVOICES}/{invoices['paid']}/pdf", token=buyer.token, headers={"Accept": "*/*"})
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.body.startswith(b"%PDF")


def test_the_pdf_without_an_accept_header(api, mixed):
    buyer, invoices = mixed
    answer = api.get(f"{INVOICES}/{invoices['paid']}/pdf", token=buyer.token)
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.body.startswith(b"%PDF")


def test_pdf_errors_are_json(api, mixed):
    buyer, _ = mixed
    denied = api.get(f"{INVOICES}/{TEST_USER_INVOICE}/pdf", token=buyer.token, headers=PDF_HEADERS)
    assert denied.status == 403
    assert denied.headers["content-type"].startswith("application/json")
    assert denied.json == ACCESS_DENIED
    missing = api.get(f"{INVOICES}/{uuid.uuid4()}/pdf", token=buyer.token, headers=PDF_HEADERS)
    assert missing.status == 404
    assert missing.headers["content-type"].startswith("application/json")
    assert missing.json == NOT_FOUND
