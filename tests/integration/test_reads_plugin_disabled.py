"""Subscription and add-on reads while the `subscription` plugin is disabled (contract README §1.1, §1.4;
subscriptions.md preamble: subscription and add-on routes belong to the plugin, token routes are core; invoices are
core, checkout-and-payments.md preamble).

Each test gets a seeded account of its own (`fresh_api`) and flips the plugin in the store, as an admin would.
"""

from __future__ import annotations

import pytest

from chalicelib.core.ids import seed_id
from tests.contract import PLUGIN_NOT_ENABLED
from tests.integration.buyers import set_plugin

SUBSCRIPTION_ID = seed_id("subscription", "test@example.com")
INVOICE_ID = seed_id("invoice", "test@example.com")
UNKNOWN_ADDON = "5f0c1d2e-0000-4000-8000-000000000001"  # fixed: xdist needs the same ids on every worker
PLUGIN_ROUTES = [
    ("GET", "/api/v1/user/subscriptions"),
    ("GET", "/api/v1/user/subscriptions?status=active"),
    ("GET", "/api/v1/user/subscriptions/active"),
    ("GET", "/api/v1/user/subscriptions/active-all"),
    ("GET", f"/api/v1/user/subscriptions/{SUBSCRIPTION_ID}"),
    ("GET", "/api/v1/user/addons"),
    ("GET", f"/api/v1/user/addons/{UNKNOWN_ADDON}"),
    ("POST", f"/api/v1/user/addons/{UNKNOWN_ADDON}/cancel"),
]


@pytest.fixture
def token(fresh_api) -> str:
    return fresh_api.token("test@example.com", "TestPass123@")


@pytest.mark.parametrize(("method", "path"), PLUGIN_ROUTES)
def test_subscription_and_addon_routes_answer_plugin_not_enabled(fresh_api, token, method, path):
    assert fresh_api.request(method, path, token=token).json != PLUGIN_NOT_ENABLED
    set_plugin("subscription", False)
    answer = fresh_api.request(method, path, token=token)
    assert answer.status == 404
    assert answer.json == PLUGIN_NOT_ENABLED
    assert answer.headers["content-type"].startswith("application/json")


def test_the_routes_answer_again_once_the_plugin_is_enabled(fresh_api, token):
    set_plugin("subscription", False)
    assert fresh_api.get("/api/v1/user/subscriptions", token=token).json == PLUGIN_NOT_ENABLED
    set_plugin("subscription", True)
    answer = fresh_api.get("/api/v1/user/subscriptions", token=token)
    assert answer.status == 200
    assert [s["id"] for s in answer.json["subscriptions"]] == [SUBSCRIPTION_ID]
    assert fresh_api.get("/api/v1/user/subscriptions/active", token=token).json["subscription"]["id"] == SUBSCRIPTION_ID


def test_invoice_and_token_routes_are_core_and_keep_answering(fresh_api, token):
    set_plugin("subscription", False)
    invoices = fresh_api.get("/api/v1/user/invoices", token=token)
    assert invoices.status == 200
    assert [i["id"] for i in invoices.json["invoices"]] == [INVOICE_ID]
    assert fresh_api.get(f"/api/v1/user/invoices/{INVOICE_ID}", token=token).status == 200
    pdf = fresh_api.get(f"/api/v1/user/invoices/{INVOICE_ID}/pdf", token=token, headers={"Accept": "application/pdf"})
    assert pdf.status == 200
    assert pdf.body.startswith(b"%PDF")
    assert fresh_api.get("/api/v1/user/tokens/balance", token=token).json == {"balance": 0}
    assert fresh_api.get("/api/v1/user/tokens/transactions", token=token).status == 200
    consume = fresh_api.post("/api/v1/user/tokens/consume", {"amount": 1}, token=token)
    assert consume.status == 402
    assert consume.json == {"error": "Insufficient token balance", "balance": 0}
