"""POST /api/v1/user/checkout: the 201 answer, prices, currencies, tax and numbering.

Contract checkout-and-payments.md §2.1–§2.3 (objects), §3 (currency, conversion, tax, the worked examples of §3.4),
§4.1/§4.3 (numbers, due dates), §5.1 (answer, default payment method); README §1.7–§1.8 (datetimes, money).
Shared seeded account: tests buy as users they registered (user.de / user.th only where the seed is the point).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.core.ids import seed_id
from tests.contract import (
    ACCESS_DENIED,
    ADDON_SUBSCRIPTION_FIELDS,
    BASIC,
    BASIC_USD,
    EXTRA_STORAGE,
    INVOICE_FIELDS,
    INVOICE_NUMBER,
    LEGACY_ADDON,
    LEGACY_PLAN,
    LINE_ITEM_FIELDS,
    ONBOARDING,
    PASSWORD,
    PURCHASE_FIELDS,
    SUBSCRIPTION_FIELDS,
    TOKENS_100,
    TOKENS_500,
    UNTOUCHED_LIFECYCLE,
    UUID,
)
from tests.integration.buyers import CHECKOUT, SUBSCRIBE, checkout, register_buyer

INVOICES = "/api/v1/user/invoices"
NOW = "2026-05-01T09:00:00Z"
IN_30_DAYS = "2026-05-31T09:00:00Z"


def amounts(line: dict[str, Any]) -> tuple[str, str, str, str, str]:
    return line["unit_price"], line["total_price"], line["net_amount"], line["tax_amount"], line["gross_amount"]


def totals(invoice: dict[str, Any]) -> tuple[str, str, str, str]:
    return invoice["subtotal"], invoice["tax_amount"], invoice["total_amount"], invoice["amount"]


def sequence_number(invoice: dict[str, Any]) -> int:
    match = INVOICE_NUMBER.match(invoice["invoice_number"])
    assert match, invoice["invoice_number"]
    return int(match.group(2))


# --- the 201 answer (§2.1–§2.3, §5.1) -----------------------------------------------------------------------------


def test_answer_of_a_plan_and_bundle_checkout(api, manual_clock):
    token = api.token("user.de@demo.local", "DemoPass123!")
    user_id = seed_id("user", "user.de@demo.local")
    answer = api.post(CHECKOUT, {"plan_id": BASIC, "token_bundle_ids": [TOKENS_100]}, token=token)
    assert answer.status == 201, answer.json
    assert answer.headers["content-type"].startswith("application/json")
    assert "idempotent-replayed" not in answer.headers
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json
    assert set(body) == {"invoice", "subscription", "trial_applied", "token_bundles", "add_ons", "message"}
    assert body["message"] == "Checkout created. Awaiting payment."
    assert body["trial_applied"] is False
    assert body["add_ons"] == []

    invoice, subscription, (purchase,) = body["invoice"], body["subscription"], body["token_bundles"]
    assert set(invoice) == INVOICE_FIELDS
    assert UUID.match(invoice["id"])
    assert INVOICE_NUMBER.match(invoice["invoice_number"]).group(1) == "2026"
    assert {k: v for k, v in invoice.items() if k not in ("id", "invoice_number", "line_items")} == {
        "user_id": user_id,
        "tarif_plan_id": BASIC,
        "subscription_id": subscription["id"],
        "billing_reason": "SUBSCRIPTION_CREATE",
        "status": "PENDING",
        "currency": "EUR",
        "subtotal": "12.99",
        "tax_amount": "2.47",
        "total_amount": "15.46",
        "amount": "15.46",
        "amount_refunded": "0.00",
        "tax_rate": "19.00",
        "tax_code": "VAT_DE",
        "tax_country": "DE",
        "tax_inclusive": False,
        "billing_address": {
            "name": "Dieter Deutsch",
            "company": None,
            "tax_number": None,
            "address_line_1": "Unter den Linden 1",
            "address_line_2": None,
            "city": "Berlin",
            "postal_code": "10115",
            "country": "DE",
        },
        "payment_method": "invoice",
        "payment_ref": None,
        "payment_intent_id": None,
        "is_payable": True,
        "is_capturable": False,
        "invoiced_at": NOW,
        "due_date": IN_30_DAYS,
        "expires_at": IN_30_DAYS,
        "paid_at": None,
        "created_at": NOW,
        "credit_notes": [],
    }

    plan_line, bundle_line = invoice["line_items"]
    for line in (plan_line, bundle_line):
        assert set(line) == LINE_ITEM_FIELDS
        assert UUID.match(line["id"])
        assert line["invoice_id"] == invoice["id"]
        assert line["amount"] == line["total_price"]
        assert line["extra_data"] == line["metadata"]
        assert line["quantity"] == 1
    assert plan_line["id"] != bundle_line["id"]
    assert (plan_line["type"], plan_line["item_type"], plan_line["description"]) == (
        "SUBSCRIPTION",
        "SUBSCRIPTION",
        "Basic",
    )
    assert (plan_line["item_id"], plan_line["catalog_item_id"]) == (subscription["id"], BASIC)
    assert amounts(plan_line) == ("9.99", "9.99", "9.99", "1.90", "11.89")
    assert plan_line["metadata"] == {
        "billing_reason": "SUBSCRIPTION_CREATE",
        "plan_id": BASIC,
        "plan_slug": "basic",
        "billing_period": "MONTHLY",
        "period_start": None,
        "period_end": None,
    }
    assert (bundle_line["type"], bundle_line["item_type"], bundle_line["description"]) == (
        "TOKEN_BUNDLE",
        "TOKEN_BUNDLE",
        "100 Tokens",
    )
    assert (bundle_line["item_id"], bundle_line["catalog_item_id"]) == (purchase["id"], TOKENS_100)
    assert amounts(bundle_line) == ("3.00", "3.00", "3.00", "0.57", "3.57")
    assert bundle_line["metadata"] == {"bundle_id": TOKENS_100, "token_amount": 100}

    assert set(subscription) == SUBSCRIPTION_FIELDS | {"plan"}
    assert UUID.match(subscription["id"])
    assert {k: v for k, v in subscription.items() if k != "id"} == {
        "user_id": user_id,
        "tarif_plan_id": BASIC,
        "pending_plan_id": None,
        "status": "PENDING",
        "is_valid": False,
        "is_trialing": False,
        "days_remaining": None,
        "started_at": None,
        "current_period_start": None,
        "expires_at": None,
        **UNTOUCHED_LIFECYCLE,
        "currency": "EUR",
        "payment_method_code": "invoice",
        "has_saved_payment_method": False,
        "pending_invoice_id": invoice["id"],
        "provider_subscription_id": None,
        "created_at": NOW,
        "updated_at": NOW,
        "plan": {"id": BASIC, "name": "Basic", "slug": "basic"},
    }

    assert set(purchase) == PURCHASE_FIELDS
    assert UUID.match(purchase["id"])
    assert {k: v for k, v in purchase.items() if k != "id"} == {
        "user_id": user_id,
        "bundle_id": TOKENS_100,
        "invoice_id": invoice["id"],
        "status": "PENDING",
        "tokens_credited": False,
        "token_amount": 100,
        "price": "3.00",
        "currency": "EUR",
        "completed_at": None,
        "created_at": NOW,
    }

    # the stored invoice reads back exactly as answered
    read = api.get(f"{INVOICES}/{invoice['id']}", token=token)
    assert read.status == 200
    assert read.json == {"invoice": invoice}


def test_answer_of_a_bundle_and_add_on_purchase_has_no_subscription(api, manual_clock):
    buyer = register_buyer(api, "checkout-pricing")
    body = checkout(api, buyer.token, {"token_bundle_ids": [TOKENS_500], "add_on_ids": [EXTRA_STORAGE]})
    assert set(body) == {"invoice", "token_bundles", "add_ons", "message"}
    invoice = body["invoice"]
    assert (invoice["billing_reason"], invoice["tarif_plan_id"], invoice["subscription_id"]) == ("PURCHASE", None, None)
    assert invoice["currency"] == "EUR"  # the default currency
    bundle_line, addon_line = invoice["line_items"]
    assert amounts(bundle_line) == ("10.00", "10.00", "10.00", "0.00", "10.00")
    assert bundle_line["metadata"] == {"bundle_id": TOKENS_500, "token_amount": 500}
    (addon,) = body["add_ons"]
    assert set(addon) == ADDON_SUBSCRIPTION_FIELDS
    assert (addon_line["type"], addon_line["item_type"], addon_line["description"]) == (
        "ADD_ON",
        "ADD_ON",
        "Extra Storage 50 GB",
    )
    assert (addon_line["item_id"], addon_line["catalog_item_id"]) == (addon["id"], EXTRA_STORAGE)
    assert amounts(addon_line) == ("4.99", "4.99", "4.99", "0.00", "4.99")
    assert (
        addon_line["metadata"]
        == addon_line["extra_data"]
        == {
            "addon_id": EXTRA_STORAGE,
            "addon_slug": "extra-storage-50gb",
            "billing_period": "MONTHLY",
            "period_start": None,
            "period_end": None,
            "billing_reason": "PURCHASE",
        }
    )
    assert {k: v for k, v in addon.items() if k != "id"} == {
        "user_id": buyer.user_id,
        "addon_id": EXTRA_STORAGE,
        "subscription_id": None,
        "invoice_id": invoice["id"],
        "status": "PENDING",
        "is_valid": False,
        "starts_at": None,
        "expires_at": None,
        "cancel_at_period_end": False,
        "cancelled_at": None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    assert totals(invoice) == ("14.99", "0.00", "14.99", "14.99")
    assert invoice["billing_address"] is None  # a user without details
    assert (invoice["tax_rate"], invoice["tax_code"], invoice["tax_country"], invoice["tax_inclusive"]) == (
        None,
        None,
        None,
        False,
    )


def test_add_on_lines_bought_with_a_plan_carry_its_billing_reason(api):
    buyer = register_buyer(api, "checkout-pricing")
    body = checkout(api, buyer.token, {"plan_id": BASIC, "add_on_ids": [EXTRA_STORAGE, ONBOARDING]})
    _, storage_line, onboarding_line = body["invoice"]["line_items"]
    assert storage_line["metadata"]["billing_reason"] == "SUBSCRIPTION_CREATE"
    assert onboarding_line["metadata"] == {
        "addon_id": ONBOARDING,
        "addon_slug": "dedicated-onboarding",
        "billing_period": "ONE_TIME",
        "period_start": None,
        "period_end": None,
        "billing_reason": "SUBSCRIPTION_CREATE",
    }
    assert [a["subscription_id"] for a in body["add_ons"]] == [body["subscription"]["id"]] * 2
    assert [line["item_id"] for line in body["invoice"]["line_items"][1:]] == [a["id"] for a in body["add_ons"]]
    assert body["invoice"]["total_amount"] == "213.98"


def test_a_repeated_bundle_is_bought_once_per_entry(api):
    buyer = register_buyer(api, "checkout-pricing")
    body = checkout(api, buyer.token, {"token_bundle_ids": [TOKENS_100, TOKENS_500, TOKENS_100]})
    lines = body["invoice"]["line_items"]
    assert [line["catalog_item_id"] for line in lines] == [TOKENS_100, TOKENS_500, TOKENS_100]
    assert [p["bundle_id"] for p in body["token_bundles"]] == [TOKENS_100, TOKENS_500, TOKENS_100]
    assert [line["item_id"] for line in lines] == [p["id"] for p in body["token_bundles"]]
    assert len({p["id"] for p in body["token_bundles"]}) == 3
    assert totals(body["invoice"]) == ("16.00", "0.00", "16.00", "16.00")


def test_the_invoice_is_listed_for_its_owner_only(api):
    buyer = register_buyer(api, "checkout-pricing")
    body = checkout(api, buyer.token, {"plan_id": BASIC})
    listed = api.get(INVOICES, token=buyer.token).json
    assert listed["total"] == 1
    assert listed["invoices"] == [body["invoice"]]
    subscriptions = api.get("/api/v1/user/subscriptions", token=buyer.token).json
    assert [(s["id"], s["status"]) for s in subscriptions["subscriptions"]] == [(body["subscription"]["id"], "PENDING")]
    other = register_buyer(api, "checkout-pricing")
    assert api.get(f"{INVOICES}/{body['invoice']['id']}", token=other.token).json == ACCESS_DENIED


# --- tax (§3.3, §3.4) ---------------------------------------------------------------------------------------------


def test_worked_example_th_inclusive(api):
    token = api.token("user.th@demo.local", "DemoPass123!")
    invoice = checkout(api, token, {"plan_id": BASIC})["invoice"]
    (line,) = invoice["line_items"]
    assert amounts(line) == ("9.99", "9.99", "9.34", "0.65", "9.99")
    assert totals(invoice) == ("9.34", "0.65", "9.99", "9.99")
    assert (invoice["tax_rate"], invoice["tax_code"], invoice["tax_country"], invoice["tax_inclusive"]) == (
        "7.00",
        "VAT_TH",
        "TH",
        True,
    )
    assert invoice["billing_address"]["name"] == "Thanom Thai"
    assert invoice["billing_address"]["country"] == "TH"


def test_th_inclusive_basket_rounds_each_line(api):
    buyer = register_buyer(api, "checkout-pricing", country="TH")
    invoice = checkout(api, buyer.token, {"plan_id": BASIC, "token_bundle_ids": [TOKENS_100]})["invoice"]
    assert [amounts(line) for line in invoice["line_items"]] == [
        ("9.99", "9.99", "9.34", "0.65", "9.99"),
        ("3.00", "3.00", "2.80", "0.20", "3.00"),
    ]
    assert totals(invoice) == ("12.14", "0.85", "12.99", "12.99")


def test_worked_example_without_a_billing_country(api):
    token = api.token("test@example.com", "TestPass123@")  # details without a country
    invoice = checkout(api, token, {"plan_id": BASIC})["invoice"]
    assert amounts(invoice["line_items"][0]) == ("9.99", "9.99", "9.99", "0.00", "9.99")
    assert totals(invoice) == ("9.99", "0.00", "9.99", "9.99")
    assert (invoice["tax_rate"], invoice["tax_code"], invoice["tax_country"], invoice["tax_inclusive"]) == (
        None,
        None,
        None,
        False,
    )
    assert invoice["billing_address"]["name"] == "Test User"
    assert invoice["billing_address"]["country"] is None


def test_a_country_without_tax_pays_none(api):
    buyer = register_buyer(api, "checkout-pricing", country="US", first_name="Sam", last_name="Smith", city="Boston")
    invoice = checkout(api, buyer.token, {"plan_id": BASIC})["invoice"]
    assert totals(invoice) == ("9.99", "0.00", "9.99", "9.99")
    assert invoice["tax_rate"] is None
    assert invoice["billing_address"] == {
        "name": "Sam Smith",
        "company": None,
        "tax_number": None,
        "address_line_1": None,
        "address_line_2": None,
        "city": "Boston",
        "postal_code": None,
        "country": "US",
    }


def test_other_exclusive_rates(api):
    at = checkout(api, register_buyer(api, "checkout-pricing", country="AT").token, {"plan_id": BASIC})["invoice"]
    assert amounts(at["line_items"][0]) == ("9.99", "9.99", "9.99", "2.00", "11.99")
    assert (at["tax_rate"], at["tax_code"], at["tax_country"]) == ("20.00", "VAT_AT", "AT")
    ch = checkout(
        api,
        register_buyer(api, "checkout-pricing", country="CH").token,
        {"plan_id": BASIC, "token_bundle_ids": [seed_id("bundle", "2000 Tokens")]},
    )
    assert [amounts(line) for line in ch["invoice"]["line_items"]] == [
        ("9.99", "9.99", "9.99", "0.81", "10.80"),
        ("35.00", "35.00", "35.00", "2.84", "37.84"),  # 2.835 rounds half up
    ]
    assert totals(ch["invoice"]) == ("44.99", "3.65", "48.64", "48.64")
    assert ch["invoice"]["tax_rate"] == "8.10"


def test_the_billing_address_is_a_snapshot(api):
    buyer = register_buyer(api, "checkout-pricing", first_name="Ada", last_name="Byron", city="Berlin", country="DE")
    first = checkout(api, buyer.token, {"plan_id": BASIC})["invoice"]
    put = api.put(
        "/api/v1/user/details", {"country": "TH", "city": "Bangkok", "first_name": "Augusta"}, token=buyer.token
    )
    assert put.status == 200
    read = api.get(f"{INVOICES}/{first['id']}", token=buyer.token).json["invoice"]
    assert read == first
    assert read["billing_address"]["country"] == "DE"
    assert read["billing_address"]["name"] == "Ada Byron"
    assert (read["tax_code"], read["total_amount"]) == ("VAT_DE", "11.89")

    second = checkout(api, buyer.token, {"plan_id": BASIC})["invoice"]
    assert (second["tax_code"], second["tax_inclusive"], second["total_amount"]) == ("VAT_TH", True, "9.99")
    assert second["billing_address"]["name"] == "Augusta Byron"
    assert second["billing_address"]["city"] == "Bangkok"


# --- currency and conversion (§3.1, §3.2) -------------------------------------------------------------------------


def test_the_currency_comes_from_the_plan(api):
    buyer = register_buyer(api, "checkout-pricing")
    body = checkout(api, buyer.token, {"plan_id": BASIC_USD})
    invoice = body["invoice"]
    assert invoice["currency"] == "USD"
    (line,) = invoice["line_items"]
    assert amounts(line) == ("10.99", "10.99", "10.99", "0.00", "10.99")
    assert "original_currency" not in line["metadata"]
    assert body["subscription"]["currency"] == "USD"


def test_items_in_another_currency_are_converted_to_the_plan_currency(api):
    buyer = register_buyer(api, "checkout-pricing")
    body = checkout(api, buyer.token, {"plan_id": BASIC_USD, "token_bundle_ids": [TOKENS_100]})
    plan_line, bundle_line = body["invoice"]["line_items"]
    assert plan_line["unit_price"] == "10.99"
    assert amounts(bundle_line) == ("3.24", "3.24", "3.24", "0.00", "3.24")
    assert bundle_line["metadata"] == {
        "bundle_id": TOKENS_100,
        "token_amount": 100,
        "original_currency": "EUR",
        "original_unit_price": "3.00",
        "exchange_rate": "1.080000",
    }
    (purchase,) = body["token_bundles"]
    assert (purchase["price"], purchase["currency"]) == ("3.24", "USD")
    assert body["invoice"]["total_amount"] == "14.23"


def test_the_requested_currency_converts_the_plan(api):
    buyer = register_buyer(api, "checkout-pricing")
    body = checkout(api, buyer.token, {"plan_id": BASIC, "currency": "USD"})
    invoice = body["invoice"]
    assert invoice["currency"] == "USD"
    (line,) = invoice["line_items"]
    assert amounts(line) == ("10.79", "10.79", "10.79", "0.00", "10.79")
    assert (
        line["metadata"]
        == line["extra_data"]
        == {
            "billing_reason": "SUBSCRIPTION_CREATE",
            "plan_id": BASIC,
            "plan_slug": "basic",
            "billing_period": "MONTHLY",
            "period_start": None,
            "period_end": None,
            "original_currency": "EUR",
            "original_unit_price": "9.99",
            "exchange_rate": "1.080000",
        }
    )
    assert body["subscription"]["currency"] == "USD"


def test_converted_prices_are_taxed_after_conversion(api):
    buyer = register_buyer(api, "checkout-pricing", country="DE")
    invoice = checkout(api, buyer.token, {"plan_id": BASIC, "currency": "USD"})["invoice"]
    assert amounts(invoice["line_items"][0]) == ("10.79", "10.79", "10.79", "2.05", "12.84")
    assert totals(invoice) == ("10.79", "2.05", "12.84", "12.84")


def test_conversion_between_two_non_default_currencies(api):
    buyer = register_buyer(api, "checkout-pricing")
    invoice = checkout(api, buyer.token, {"plan_id": BASIC_USD, "currency": "GBP"})["invoice"]
    (line,) = invoice["line_items"]
    assert line["unit_price"] == "8.65"  # 10.99 / 1.08 × 0.85 = 8.6495…
    assert (
        line["metadata"]["original_currency"],
        line["metadata"]["original_unit_price"],
        line["metadata"]["exchange_rate"],
    ) == ("USD", "10.99", "0.787037")
    eur = checkout(api, buyer.token, {"plan_id": BASIC_USD, "currency": "EUR"})["invoice"]
    assert eur["line_items"][0]["unit_price"] == "10.18"
    assert eur["line_items"][0]["metadata"]["exchange_rate"] == "0.925926"


def test_yen_has_no_decimal_places(api):
    buyer = register_buyer(api, "checkout-pricing", country="DE")
    body = checkout(api, buyer.token, {"plan_id": BASIC, "token_bundle_ids": [TOKENS_100], "currency": "JPY"})
    invoice = body["invoice"]
    assert invoice["currency"] == "JPY"
    plan_line, bundle_line = invoice["line_items"]
    assert amounts(plan_line) == ("1598", "1598", "1598", "304", "1902")
    assert amounts(bundle_line) == ("480", "480", "480", "91", "571")
    assert plan_line["metadata"]["original_unit_price"] == "9.99"
    assert plan_line["metadata"]["exchange_rate"] == "160.000000"
    assert totals(invoice) == ("2078", "395", "2473", "2473")
    assert invoice["amount_refunded"] == "0"
    assert invoice["tax_rate"] == "19.00"
    assert body["token_bundles"][0]["price"] == "480"


def test_bundles_in_the_requested_currency(api):
    buyer = register_buyer(api, "checkout-pricing", country="TH")
    invoice = checkout(api, buyer.token, {"token_bundle_ids": [TOKENS_100], "currency": "thb"})["invoice"]
    assert invoice["currency"] == "THB"
    assert amounts(invoice["line_items"][0]) == ("115.50", "115.50", "107.94", "7.56", "115.50")


# --- payment method recorded (§5.1) -------------------------------------------------------------------------------


def test_without_a_payment_method_the_default_is_recorded(api):
    buyer = register_buyer(api, "checkout-pricing")
    body = checkout(api, buyer.token, {"plan_id": BASIC})
    assert body["invoice"]["payment_method"] == "invoice"
    assert body["subscription"]["payment_method_code"] == "invoice"


def test_the_chosen_payment_method_is_recorded(api):
    buyer = register_buyer(api, "checkout-pricing")
    body = checkout(api, buyer.token, {"plan_id": BASIC, "payment_method_code": "sandbox"})
    assert body["invoice"]["payment_method"] == "sandbox"
    assert body["subscription"]["payment_method_code"] == "sandbox"
    body = checkout(api, buyer.token, {"token_bundle_ids": [TOKENS_100], "payment_method_code": "invoice"})
    assert body["invoice"]["payment_method"] == "invoice"


# --- numbering and due dates (§4.1, §4.3) -------------------------------------------------------------------------


def test_consecutive_checkouts_take_consecutive_numbers(api):
    buyer = register_buyer(api, "checkout-pricing")
    other = register_buyer(api, "checkout-pricing")
    first = checkout(api, buyer.token, {"plan_id": BASIC})["invoice"]
    second = checkout(api, other.token, {"token_bundle_ids": [TOKENS_100]})["invoice"]
    third = checkout(api, buyer.token, {"plan_id": BASIC_USD}, path=SUBSCRIBE)["invoice"]
    start = sequence_number(first)
    assert [sequence_number(i) for i in (first, second, third)] == [start, start + 1, start + 2]
    year = first["invoiced_at"][:4]
    assert first["invoice_number"] == f"INV-{year}-{start:06d}"


def test_a_failed_checkout_takes_no_number(api):
    buyer = register_buyer(api, "checkout-pricing")
    first = checkout(api, buyer.token, {"plan_id": BASIC})["invoice"]
    refused = [
        (CHECKOUT, {}),
        (CHECKOUT, {"plan_id": "nope"}),
        (CHECKOUT, {"plan_id": BASIC, "currency": "XXX"}),
        (CHECKOUT, {"plan_id": LEGACY_PLAN}),
        (CHECKOUT, {"add_on_ids": [LEGACY_ADDON]}),
        (CHECKOUT, {"plan_id": BASIC, "payment_method_code": "nope"}),  # the last rule, checked while writing
        (SUBSCRIBE, {}),
    ]
    for path, body in refused:
        assert api.post(path, body, token=buyer.token).status == 400, body
    second = checkout(api, buyer.token, {"plan_id": BASIC})["invoice"]
    assert sequence_number(second) == sequence_number(first) + 1


def test_due_date_is_the_due_days_setting_after_issue(api, manual_clock):
    buyer = register_buyer(api, "checkout-pricing")
    invoice = checkout(api, buyer.token, {"token_bundle_ids": [TOKENS_100]})["invoice"]
    assert (invoice["invoiced_at"], invoice["due_date"], invoice["expires_at"]) == (NOW, IN_30_DAYS, IN_30_DAYS)
    assert invoice["is_payable"] is True
    manual_clock.advance(timedelta(days=30, seconds=1))
    token = api.token(buyer.email, PASSWORD)  # the first access token has lapsed
    read = api.get(f"{INVOICES}/{invoice['id']}", token=token).json["invoice"]
    assert (read["status"], read["is_payable"]) == ("PENDING", False)
