"""No input reaches a 500 on the money routes (issue 6 §5): numbers with fractions, objects, huge strings and lone
surrogates where ids and codes go, on checkout, `POST /subscriptions`, pay, mark-paid and the payment webhook.

Shared seeded account: every test buys as a user it registered itself.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.contract import BASIC, TOKENS_100
from tests.integration.buyers import (
    CHECKOUT,
    SUBSCRIBE,
    buy_basic_and_tokens,
    deliver,
    german_buyer,
    invoice_of,
    notification,
    register_buyer,
)
from tests.integration.conftest import ADMIN, Api

INVALID_JSON = {"error": "Invalid JSON body"}
HUGE = "x" * 100_000


def raw(value: dict[str, Any]) -> bytes:
    """The body as a client would send it, `\\ud800` escapes and all."""
    return json.dumps(value).encode()


def post_raw(api: Api, path: str, body: bytes, token: str | None = None) -> Any:
    return api.request("POST", path, body=body, token=token, headers={"Content-Type": "application/json"})


# --- checkout and POST /subscriptions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"token_bundle_ids": [1.5]}, "Invalid token_bundle_id: 1.5"),
        ({"token_bundle_ids": [TOKENS_100, {"id": 1.5}]}, 'Invalid token_bundle_id: {"id": 1.5}'),
        ({"add_on_ids": [2.25]}, "Invalid add_on_id: 2.25"),
        ({"add_on_ids": [[1.5]]}, "Invalid add_on_id: [1.5]"),
        ({"plan_id": 1.5}, "Invalid plan_id format"),
        ({"plan_id": {"id": BASIC}}, "Invalid plan_id format"),
        ({"plan_id": BASIC, "currency": 1.5}, "Unknown currency: 1.5"),
        ({"plan_id": BASIC, "currency": {"code": 1.5}}, 'Unknown currency: {"CODE": 1.5}'),
        ({"plan_id": BASIC, "currency": HUGE}, f"Unknown currency: {HUGE.upper()}"),
        ({"plan_id": BASIC, "payment_method_code": 1.5}, "Payment method not available: 1.5"),
        (
            {"plan_id": BASIC, "payment_method_code": {"code": "sandbox"}},
            'Payment method not available: {"code": "sandbox"}',
        ),
        ({"plan_id": BASIC, "payment_method_code": HUGE}, f"Payment method not available: {HUGE}"),
        ({"token_bundle_ids": [HUGE]}, f"Invalid token_bundle_id: {HUGE}"),
    ],
)
def test_checkout_names_what_it_refuses(api: Api, body: dict[str, Any], message: str) -> None:
    buyer = register_buyer(api, "hostile")
    answer = api.post(CHECKOUT, body, token=buyer.token)
    assert (answer.status, answer.json) == (400, {"error": message})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"plan_id": BASIC, "add_on_ids": [1.5]}, "Invalid add_on_id: 1.5"),
        ({"plan_id": BASIC, "currency": 0.5}, "Unknown currency: 0.5"),
        ({"plan_id": BASIC, "payment_method_code": [7.5]}, "Payment method not available: [7.5]"),
        ({"plan_id": 1.5}, "Invalid plan_id format"),
    ],
)
def test_subscribe_names_what_it_refuses(api: Api, body: dict[str, Any], message: str) -> None:
    buyer = register_buyer(api, "hostile")
    answer = api.post(SUBSCRIBE, body, token=buyer.token)
    assert (answer.status, answer.json) == (400, {"error": message})


@pytest.mark.parametrize("path", [CHECKOUT, SUBSCRIBE])
@pytest.mark.parametrize(
    "body",
    [
        {"plan_id": BASIC, "currency": "\ud800"},
        {"plan_id": BASIC, "currency": "EU\udfffR"},
        {"plan_id": BASIC, "payment_method_code": "sandbox\ud800"},
        {"plan_id": BASIC, "add_on_ids": ["\udc00"]},
        {"plan_id": BASIC, "\ud800": "key"},
    ],
)
def test_a_lone_surrogate_is_invalid_json(api: Api, path: str, body: dict[str, Any]) -> None:
    buyer = register_buyer(api, "hostile")
    answer = post_raw(api, path, raw(body), buyer.token)
    assert (answer.status, answer.json) == (400, INVALID_JSON)


# --- pay ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"payment_method_code": 1.5}, "Payment method not available: 1.5"),
        ({"payment_method_code": {"code": "sandbox"}}, 'Payment method not available: {"code": "sandbox"}'),
        ({"payment_method_code": [1, 2]}, "Payment method not available: [1, 2]"),
        ({"payment_method_code": True}, "Payment method not available: true"),
        ({"payment_method_code": HUGE}, f"Payment method not available: {HUGE}"),
        ({"sandbox_outcome": 1.5}, "Invalid sandbox_outcome: 1.5"),
        ({"sandbox_outcome": {"outcome": "fail"}}, 'Invalid sandbox_outcome: {"outcome": "fail"}'),
        ({"sandbox_outcome": ["succeed"]}, 'Invalid sandbox_outcome: ["succeed"]'),
        ({"sandbox_outcome": ""}, "Invalid sandbox_outcome: "),
        ({"sandbox_outcome": HUGE}, f"Invalid sandbox_outcome: {HUGE}"),
    ],
)
def test_pay_names_what_it_refuses_and_changes_nothing(api: Api, body: dict[str, Any], message: str) -> None:
    token = german_buyer(api, "hostile-pay").token
    invoice_id = buy_basic_and_tokens(api, token, payment_method_code="sandbox")["invoice"]["id"]

    answer = api.post(f"/api/v1/user/invoices/{invoice_id}/pay", body, token=token)

    assert (answer.status, answer.json) == (400, {"error": message})
    invoice = invoice_of(api, token, invoice_id)
    assert (invoice["status"], invoice["payment_method"]) == ("PENDING", "sandbox")


def test_pay_trims_the_method_code(api: Api) -> None:
    token = german_buyer(api, "hostile-pay").token
    invoice_id = buy_basic_and_tokens(api, token, payment_method_code="sandbox")["invoice"]["id"]

    answer = api.post(f"/api/v1/user/invoices/{invoice_id}/pay", {"payment_method_code": " invoice "}, token=token)

    assert answer.status == 202, answer.json
    assert invoice_of(api, token, invoice_id)["payment_method"] == "invoice"


@pytest.mark.parametrize(
    "body", [{"payment_method_code": "\ud800"}, {"sandbox_outcome": "fa\udbffil"}, {"payment_method_code": ["\udfff"]}]
)
def test_pay_with_a_lone_surrogate_is_invalid_json(api: Api, body: dict[str, Any]) -> None:
    token = german_buyer(api, "hostile-pay").token
    invoice_id = buy_basic_and_tokens(api, token, payment_method_code="sandbox")["invoice"]["id"]

    answer = post_raw(api, f"/api/v1/user/invoices/{invoice_id}/pay", raw(body), token)

    assert (answer.status, answer.json) == (400, INVALID_JSON)
    assert invoice_of(api, token, invoice_id)["status"] == "PENDING"


# --- mark-paid ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"payment_reference": 1.5}, "payment_reference must be 1-255 characters"),
        ({"payment_reference": {"ref": "x"}}, "payment_reference must be 1-255 characters"),
        ({"payment_reference": None}, "payment_reference must be 1-255 characters"),
        ({"payment_method": 2.5}, "payment_method must be 1-50 characters"),
        ({"payment_method": ["manual"]}, "payment_method must be 1-50 characters"),
        ({"payment_method": "m" * 51}, "payment_method must be 1-50 characters"),
        ({"payment_reference": 0.5, "payment_method": 0.5}, "payment_reference must be 1-255 characters"),
    ],
)
def test_mark_paid_names_what_it_refuses(api: Api, body: dict[str, Any], message: str) -> None:
    token = german_buyer(api, "hostile-mark").token
    invoice_id = buy_basic_and_tokens(api, token)["invoice"]["id"]

    answer = api.post(f"/api/v1/admin/invoices/{invoice_id}/mark-paid", body, token=api.token(*ADMIN))

    assert (answer.status, answer.json) == (400, {"error": message})
    assert invoice_of(api, token, invoice_id)["status"] == "PENDING"


def test_mark_paid_with_a_lone_surrogate_is_invalid_json(api: Api) -> None:
    token = german_buyer(api, "hostile-mark").token
    invoice_id = buy_basic_and_tokens(api, token)["invoice"]["id"]

    body = raw({"payment_reference": "BANK-\ud800"})
    answer = post_raw(api, f"/api/v1/admin/invoices/{invoice_id}/mark-paid", body, api.token(*ADMIN))

    assert (answer.status, answer.json) == (400, INVALID_JSON)


# --- the payment webhook (after a valid signature) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"invoice_id": 1.5}, "Invalid invoice_id format"),
        ({"payment_reference": 1.5}, "payment_reference must be a string of at most 255 characters"),
        ({"payment_reference": {"ref": 1}}, "payment_reference must be a string of at most 255 characters"),
        ({"payment_reference": HUGE}, "payment_reference must be a string of at most 255 characters"),
        ({"currency": 1.5}, "currency must be a string"),
        ({"amount": {"value": 1.5}}, "Invalid amount"),
        ({"amount": True}, "Invalid amount"),
        ({"event_id": 1.5}, "event_id must be a string of 1 to 255 characters"),
        ({"event_id": HUGE}, "event_id must be a string of 1 to 255 characters"),
        ({"provider": 2.5}, "provider must be a string of at most 50 characters"),
        ({"provider": {"name": "bank"}}, "provider must be a string of at most 50 characters"),
    ],
)
def test_the_webhook_names_what_it_refuses(api: Api, fields: dict[str, Any], message: str) -> None:
    token = german_buyer(api, "hostile-hook").token
    invoice = buy_basic_and_tokens(api, token)["invoice"]

    answer = deliver(api, notification(invoice, **fields))

    assert (answer.status, answer.json) == (400, {"error": message})
    assert invoice_of(api, token, invoice["id"])["status"] == "PENDING"


@pytest.mark.parametrize("field", ["payment_reference", "currency", "event_id", "provider"])
def test_the_webhook_with_a_lone_surrogate_is_invalid_json(api: Api, field: str) -> None:
    token = german_buyer(api, "hostile-hook").token
    invoice = buy_basic_and_tokens(api, token)["invoice"]

    answer = deliver(api, raw(notification(invoice, **{field: "x\ud800"})))

    assert (answer.status, answer.json) == (400, INVALID_JSON)
    assert invoice_of(api, token, invoice["id"])["status"] == "PENDING"
