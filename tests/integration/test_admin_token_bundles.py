"""Admin token bundles (admin.md §7): paged list, CRUD with every rule, activate/deactivate; purchases keep their
snapshot when the bundle changes or goes."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.ids import seed_id
from tests.integration.admin_catalog import ADMIN_API, admin_token, delete, observer_token, refusal, unique
from tests.integration.buyers import german_buyer, invoice_of
from tests.integration.conftest import Api

BUNDLES = f"{ADMIN_API}/token-bundles"
HUNDRED = seed_id("bundle", "100 Tokens")
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def token(api: Api) -> str:
    return admin_token(api)


@pytest.fixture(scope="module")
def observer(api: Api) -> str:
    return observer_token(api)


def new_bundle(api: Api, token: str, **fields: Any) -> dict[str, Any]:
    body = {"name": unique("Tokens"), "token_amount": 250, "price": "20", **fields}
    answer = api.post(f"{BUNDLES}/", body, token=token)
    assert answer.status == 201, answer.json
    assert answer.json["message"] == "Token bundle created successfully"
    return answer.json["bundle"]  # type: ignore[no-any-return]


def test_a_created_bundle_has_its_defaults_and_is_offered(api: Api, token: str) -> None:
    bundle = new_bundle(api, token)
    assert (bundle["token_amount"], bundle["price"], bundle["currency"]) == (250, "20.00", "EUR")
    assert (bundle["is_active"], bundle["sort_order"], bundle["description"]) == (True, 0, None)
    assert api.get(f"{BUNDLES}/{bundle['id']}", token=token).json == {"bundle": bundle}
    assert bundle["id"] in [b["id"] for b in api.get("/api/v1/token-bundles").json["bundles"]]
    given = new_bundle(api, token, currency="usd", description="d", is_active=False, sort_order=4)
    assert (given["currency"], given["description"], given["is_active"], given["sort_order"]) == ("USD", "d", False, 4)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"token_amount": 1, "price": 1}, "Name is required"),
        ({"name": " ", "token_amount": 1, "price": 1}, "Name is required"),
        ({"name": "B", "price": 1}, "Token amount is required"),
        ({"name": "B", "token_amount": None, "price": 1}, "Token amount is required"),
        ({"name": "B", "token_amount": 1}, "Price is required"),
        ({"name": "B", "token_amount": 0, "price": 1}, "Token amount must be positive"),
        ({"name": "B", "token_amount": -5, "price": 1}, "Token amount must be positive"),
        ({"name": "B", "token_amount": "many", "price": 1}, "Invalid token amount"),
        ({"name": "B", "token_amount": 2.5, "price": 1}, "Invalid token amount"),
        ({"name": "B", "token_amount": 1, "price": -1}, "Price cannot be negative"),
        ({"name": "B", "token_amount": 1, "price": "x"}, "Invalid price"),
        ({"name": "B", "token_amount": 1, "price": 1, "currency": "ABC"}, "Unknown currency: ABC"),
    ],
)
def test_a_bundle_breaking_a_rule_is_refused(api: Api, token: str, body: dict[str, Any], message: str) -> None:
    assert refusal(api.post(f"{BUNDLES}/", body, token=token)) == (400, message)


def test_the_list_is_paged_and_leaves_inactive_ones_out_unless_asked(api: Api, token: str) -> None:
    hidden = new_bundle(api, token, is_active=False)
    first = api.get(f"{BUNDLES}/", token=token).json
    everything = api.get(f"{BUNDLES}/?include_inactive=true&per_page=100", token=token).json

    assert (first["page"], first["per_page"]) == (1, 20)
    assert hidden["id"] not in [b["id"] for b in first["items"]]
    assert hidden["id"] in [b["id"] for b in everything["items"]] and everything["total"] == len(everything["items"])
    order = [(b["sort_order"], b["name"]) for b in everything["items"]]
    assert order == sorted(order)


def test_an_update_changes_what_was_sent(api: Api, token: str) -> None:
    bundle = new_bundle(api, token, description="kept")
    answer = api.put(f"{BUNDLES}/{bundle['id']}", {"token_amount": 300, "price": 25.5, "name": "Renamed"}, token=token)
    assert answer.status == 200
    changed = answer.json["bundle"]
    assert (changed["token_amount"], changed["price"], changed["name"], changed["description"]) == (
        300,
        "25.50",
        "Renamed",
        "kept",
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, "Name cannot be empty"),
        ({"token_amount": 0}, "Token amount must be positive"),
        ({"token_amount": "1"}, "Invalid token amount"),
        ({"price": -2}, "Price cannot be negative"),
        ({"price": [1]}, "Invalid price"),
        ({"currency": "NOPE"}, "Unknown currency: NOPE"),
    ],
)
def test_an_update_breaking_a_rule_is_refused(api: Api, token: str, body: dict[str, Any], message: str) -> None:
    bundle = new_bundle(api, token)
    assert refusal(api.put(f"{BUNDLES}/{bundle['id']}", body, token=token)) == (400, message)


def test_activate_deactivate_and_404s(api: Api, token: str) -> None:
    bundle = new_bundle(api, token)
    off = api.post(f"{BUNDLES}/{bundle['id']}/deactivate", token=token)
    assert (off.status, off.json["message"], off.json["bundle"]["is_active"]) == (
        200,
        "Token bundle deactivated",
        False,
    )
    on = api.post(f"{BUNDLES}/{bundle['id']}/activate", token=token)
    assert (on.status, on.json["message"], on.json["bundle"]["is_active"]) == (200, "Token bundle activated", True)
    for method, path in [
        ("GET", f"{BUNDLES}/{MISSING}"),
        ("PUT", f"{BUNDLES}/{MISSING}"),
        ("DELETE", f"{BUNDLES}/{MISSING}"),
        ("POST", f"{BUNDLES}/{MISSING}/activate"),
        ("POST", f"{BUNDLES}/{MISSING}/deactivate"),
    ]:
        assert refusal(api.request(method, path, json_body={"name": "x"}, token=token)) == (
            404,
            "Token bundle not found",
        )


def test_a_deleted_bundle_leaves_its_purchases_as_they_were(api: Api, token: str) -> None:
    bundle = new_bundle(api, token, price="3.00", token_amount=30)
    buyer = german_buyer(api, "bundle-buyer")
    bought = api.post(
        "/api/v1/user/checkout",
        {"token_bundle_ids": [bundle["id"]], "payment_method_code": "sandbox"},
        token=buyer.token,
    )
    assert bought.status == 201, bought.json
    before = invoice_of(api, buyer.token, bought.json["invoice"]["id"])

    api.put(f"{BUNDLES}/{bundle['id']}", {"price": "9.00"}, token=token)
    answer = delete(api, f"{BUNDLES}/{bundle['id']}", token)

    assert (answer.status, answer.json) == (200, {"message": "Token bundle deleted successfully"})
    assert refusal(api.get(f"{BUNDLES}/{bundle['id']}", token=token)) == (404, "Token bundle not found")
    assert invoice_of(api, buyer.token, before["id"]) == before


READS = [("GET", f"{BUNDLES}/"), ("GET", f"{BUNDLES}/{HUNDRED}")]
WRITES = [
    ("POST", f"{BUNDLES}/"),
    ("PUT", f"{BUNDLES}/{HUNDRED}"),
    ("DELETE", f"{BUNDLES}/{HUNDRED}"),
    ("POST", f"{BUNDLES}/{HUNDRED}/activate"),
    ("POST", f"{BUNDLES}/{HUNDRED}/deactivate"),
]


@pytest.mark.parametrize(("method", "path"), READS)
def test_the_observer_reads_bundles(api: Api, observer: str, method: str, path: str) -> None:
    assert api.request(method, path, token=observer).status == 200


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_the_observer_is_refused_every_bundle_write(api: Api, observer: str, method: str, path: str) -> None:
    observed = api.request(method, path, json_body={"name": "x"}, token=observer)
    assert (observed.status, observed.json) == (403, {"error": "Permission denied", "required": "settings.manage"})
