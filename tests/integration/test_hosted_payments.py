"""Paying through Stripe, PayPal and YooKassa end to end through the API, with the real SDKs against the local
emulators (checkout-and-payments.md §5.4, §6, §9, §10): the pay's redirect, the hosted page, the webhook stored and
applied once, session-status reconciliation, the route errors, and a renewal charged to the saved method.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.invoices.models import InvoiceItem
from chalicelib.payments import repository
from infra.emulators.providers import Emulated
from tests.integration.buyers import Buyer, basket, checkout, pay, read, register_buyer, set_plugin
from tests.integration.conftest import Api, drain_events, outbox_events
from tests.integration.hosted import (
    HOSTED,
    configure,
    deliver_webhooks,
    outage,
    press,
    set_declining,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def bought(api: Api, tag: str, code: str, plan: str = "basic") -> tuple[Buyer, dict[str, Any]]:
    buyer = register_buyer(api, f"{code}-{tag}", country="DE")
    return buyer, checkout(api, buyer.token, basket(plan, method=code))


def stored_invoice(invoice_id: str) -> InvoiceItem:
    return InvoiceItem.get(*InvoiceItem.key(invoice_id), consistent_read=True)


def paid_events(invoice_id: str) -> list[dict[str, Any]]:
    return [e for e in outbox_events("invoice.paid") if e["data"]["invoice_id"] == invoice_id]


@pytest.mark.parametrize("code", HOSTED)
def test_a_pay_redirects_to_the_hosted_page_and_the_webhook_captures_once(
    api: Api, providers: dict[str, Emulated], code: str
) -> None:
    buyer, order = bought(api, "webhook", code)
    invoice_id = order["invoice"]["id"]
    answer = pay(api, buyer.token, invoice_id, {"payment_method_code": code})
    assert answer.status == 202, answer.json
    assert answer.json["message"] == "Redirect to complete payment"
    payment = answer.json["payment"]
    assert (payment["provider"], payment["status"]) == (code, "requires_action")
    assert payment["redirect_url"] == payment["session_url"]
    assert payment["session_url"].startswith(providers[code].emulator.base_url)
    assert answer.json["invoice"]["status"] == "PENDING"

    back = press(payment["session_url"], "pay")
    assert back.status_code == 303
    assert "/pay/" + code + "/success" in back.headers["location"]
    assert deliver_webhooks(providers) >= 1
    invoice = stored_invoice(invoice_id)
    assert (invoice.status, invoice.payment_method, int(invoice.capture_count)) == ("PAID", code, 1)
    sub = read(api, f"/api/v1/user/subscriptions/{order['subscription']['id']}", buyer.token)["subscription"]
    assert sub["status"] == "ACTIVE"
    assert (sub["payment_method_code"], sub["has_saved_payment_method"]) == (code, True)

    # The provider delivers everything again: stored once, applied once.
    for delivery in providers[code].emulator.delivered:
        providers[code].emulator.enqueue(delivery.headers, delivery.body)
    deliver_webhooks(providers)
    assert int(stored_invoice(invoice_id).capture_count) == 1
    assert len(paid_events(invoice_id)) == 1


@pytest.mark.parametrize("code", HOSTED)
def test_the_session_status_captures_a_paid_session_before_its_webhook(
    api: Api, providers: dict[str, Emulated], code: str
) -> None:
    buyer, order = bought(api, "status", code)
    invoice_id = order["invoice"]["id"]
    opened = api.post(f"/api/v1/plugins/{code}/create-session", {"invoice_id": invoice_id}, token=buyer.token)
    assert opened.status == 200, opened.json
    session_id = opened.json["session_id"]
    status_path = f"/api/v1/plugins/{code}/session-status/{session_id}"
    before = api.get(status_path, token=buyer.token)
    assert before.status == 200, before.json
    assert (before.json["status"], before.json["invoice_status"]) == ("unpaid", "PENDING")
    assert before.json["invoice_id"] == invoice_id and before.json["currency"] == "EUR"
    assert before.json["amount_total"] == 1189  # 9.99 + 19 % VAT, in cents

    press(opened.json["session_url"], "pay")
    after = api.get(status_path, token=buyer.token)
    assert (after.json["status"], after.json["invoice_status"]) == ("paid", "PAID")
    drain_events()
    deliver_webhooks(providers)  # the webhook that follows is a replay of the same payment
    invoice = stored_invoice(invoice_id)
    assert (invoice.status, int(invoice.capture_count)) == ("PAID", 1)
    assert len(paid_events(invoice_id)) == 1


@pytest.mark.parametrize("code", HOSTED)
def test_a_declined_payment_leaves_the_invoice_payable(api: Api, providers: dict[str, Emulated], code: str) -> None:
    buyer, order = bought(api, "decline", code)
    invoice_id = order["invoice"]["id"]
    answer = pay(api, buyer.token, invoice_id, {"payment_method_code": code})
    back = press(answer.json["payment"]["session_url"], "decline")
    assert back.status_code == 303
    deliver_webhooks(providers)
    assert stored_invoice(invoice_id).status == "PENDING"
    again = pay(api, buyer.token, invoice_id, {"payment_method_code": code})
    assert again.status == 202 and again.json["payment"]["session_id"] != answer.json["payment"]["session_id"]


@pytest.mark.parametrize("code", HOSTED)
def test_create_session_refuses_what_the_contract_lists(api: Api, providers: dict[str, Emulated], code: str) -> None:
    buyer, order = bought(api, "errors", code)
    other = register_buyer(api, f"{code}-other")
    path = f"/api/v1/plugins/{code}/create-session"
    cases = [
        ({}, buyer.token, 400, "invoice_id is required"),
        ({"invoice_id": "nope"}, buyer.token, 400, "Invalid invoice_id format"),
        ({"invoice_id": "00000000-0000-4000-8000-000000000000"}, buyer.token, 404, "Invoice not found"),
        ({"invoice_id": order["invoice"]["id"]}, other.token, 403, "Invoice does not belong to this user"),
    ]
    for body, token, status, error in cases:
        answer = api.post(path, body, token=token)
        assert (answer.status, answer.json) == (status, {"error": error}), body
    assert api.post(path, {"invoice_id": order["invoice"]["id"]}).status == 401
    status = api.get(f"/api/v1/plugins/{code}/session-status/unknown-session", token=buyer.token)
    assert (status.status, status.json) == (404, {"error": "Session not found"})
    opened = api.post(path, {"invoice_id": order["invoice"]["id"]}, token=buyer.token)
    foreign = api.get(f"/api/v1/plugins/{code}/session-status/{opened.json['session_id']}", token=other.token)
    assert (foreign.status, foreign.json) == (403, {"error": "Access denied"})


@pytest.mark.parametrize("code", HOSTED)
def test_a_paid_invoice_gets_no_new_session(api: Api, providers: dict[str, Emulated], code: str) -> None:
    buyer, order = bought(api, "paid", code)
    invoice_id = order["invoice"]["id"]
    press(pay(api, buyer.token, invoice_id, {"payment_method_code": code}).json["payment"]["session_url"], "pay")
    deliver_webhooks(providers)
    answer = api.post(f"/api/v1/plugins/{code}/create-session", {"invoice_id": invoice_id}, token=buyer.token)
    assert (answer.status, answer.json) == (400, {"error": "Invoice is PAID, expected PENDING"})


@pytest.mark.parametrize("code", HOSTED)
def test_an_unconfigured_provider_is_503_and_a_disabled_one_404(
    api: Api, provider_emulators: dict[str, Emulated], monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    configure(monkeypatch, provider_emulators)
    buyer, order = bought(api, "unconfigured", code)
    configure(monkeypatch, provider_emulators, code)
    path = f"/api/v1/plugins/{code}/create-session"
    answer = api.post(path, {"invoice_id": order["invoice"]["id"]}, token=buyer.token)
    assert (answer.status, answer.json) == (503, {"error": "Payment provider not configured"})
    webhook = api.request("POST", f"/api/v1/plugins/{code}/webhook", body=b"{}")
    assert (webhook.status, webhook.json) == (503, {"error": "Payment provider not configured"})
    listed = api.get("/api/v1/settings/payment-methods").json
    assert code not in {m["code"] for m in listed.get("methods", listed.get("payment_methods", []))}
    set_plugin(code, False)
    try:
        disabled = api.post(path, {"invoice_id": order["invoice"]["id"]}, token=buyer.token)
        assert (disabled.status, disabled.json) == (404, {"error": "Plugin not enabled"})
        hook = api.request("POST", f"/api/v1/plugins/{code}/webhook", body=b"{}")
        assert (hook.status, hook.json) == (404, {"error": "Plugin not enabled"})
    finally:
        set_plugin(code, True)


@pytest.mark.parametrize("code", HOSTED)
def test_a_provider_outage_is_502_without_a_secret(api: Api, providers: dict[str, Emulated], code: str) -> None:
    buyer, order = bought(api, "outage", code)
    outage(providers[code], 5)
    try:
        answer = api.post(
            f"/api/v1/plugins/{code}/create-session", {"invoice_id": order["invoice"]["id"]}, token=buyer.token
        )
    finally:
        outage(providers[code], 0)
    assert answer.status == 502, answer.json
    assert answer.json["error"].startswith("Payment provider error: ")
    for secret in providers[code].environment.values():
        if "SECRET" in secret.upper() or secret.startswith(("sk_", "whsec_")):
            assert secret not in answer.json["error"]
    assert stored_invoice(order["invoice"]["id"]).status == "PENDING"


@pytest.mark.parametrize("code", ["stripe", "paypal"])
def test_a_forged_webhook_is_refused_and_nothing_is_stored(api: Api, providers: dict[str, Emulated], code: str) -> None:
    buyer, order = bought(api, "forged", code)
    press(
        pay(api, buyer.token, order["invoice"]["id"], {"payment_method_code": code}).json["payment"]["session_url"],
        "pay",
    )
    (queued, *_) = providers[code].emulator.pending()
    tampered = queued.body.rstrip()[:-1] + b', "tampered": true}'  # valid JSON, not what the provider signed
    answer = api.request("POST", f"/api/v1/plugins/{code}/webhook", body=tampered, headers=queued.headers)
    assert (answer.status, answer.json) == (400, {"error": "Invalid signature"})
    assert repository.stored_webhook(code, json.loads(tampered)["id"]) is None
    assert stored_invoice(order["invoice"]["id"]).status == "PENDING"
    deliver_webhooks(providers)  # the genuine delivery still pays it
    assert stored_invoice(order["invoice"]["id"]).status == "PAID"


def test_a_yookassa_notification_from_an_untrusted_address_is_refused(
    api: Api, providers: dict[str, Emulated], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.core.config import reload_settings

    buyer, order = bought(api, "source", "yookassa")
    invoice_id = order["invoice"]["id"]
    press(pay(api, buyer.token, invoice_id, {"payment_method_code": "yookassa"}).json["payment"]["session_url"], "pay")
    (queued, *_) = providers["yookassa"].emulator.pending()
    monkeypatch.setenv("YOOKASSA_ALLOWED_IPS", "185.71.76.0/27,77.75.156.11")  # YooKassa's, not this machine
    reload_settings()
    answer = api.request("POST", "/api/v1/plugins/yookassa/webhook", body=queued.body, headers=queued.headers)
    assert (answer.status, answer.json) == (400, {"error": "Untrusted notification source"})
    drain_events()
    assert stored_invoice(invoice_id).status == "PENDING"
    monkeypatch.setenv("YOOKASSA_ALLOWED_IPS", "127.0.0.1")
    reload_settings()
    deliver_webhooks(providers)
    assert stored_invoice(invoice_id).status == "PAID"


def renewal_of(api: Api, buyer: Buyer) -> InvoiceItem:
    from tests.integration.buyers import relogin

    listed = read(api, "/api/v1/user/invoices", relogin(api, buyer).token)["invoices"]
    (renewal,) = [stored_invoice(i["id"]) for i in listed if stored_invoice(i["id"]).billing_reason == "RENEWAL"]
    return renewal


@pytest.mark.parametrize("code", HOSTED)
@pytest.mark.parametrize("declined", [False, True], ids=["charged", "declined"])
def test_a_renewal_charges_the_saved_method_and_a_decline_starts_dunning(
    api: Api, providers: dict[str, Emulated], manual_clock: Any, code: str, declined: bool
) -> None:
    from datetime import UTC, datetime

    from chalicelib.jobs import run
    from tests.integration.buyers import relogin

    manual_clock.set(datetime(2026, 5, 1, 9, 0, tzinfo=UTC))
    buyer, order = bought(api, "renewal", code)
    press(
        pay(api, buyer.token, order["invoice"]["id"], {"payment_method_code": code}).json["payment"]["session_url"],
        "pay",
    )
    deliver_webhooks(providers)
    assert stored_invoice(order["invoice"]["id"]).status == "PAID"
    set_declining(providers[code], declined)
    manual_clock.set(datetime(2026, 5, 31, 9, 0, tzinfo=UTC))
    run("subscription-lifecycle")
    drain_events()
    deliver_webhooks(providers)
    renewal = renewal_of(api, buyer)
    assert renewal.payment_method == code and int(renewal.payment_attempts) == 1
    sub = read(api, f"/api/v1/user/subscriptions/{order['subscription']['id']}", relogin(api, buyer).token)[
        "subscription"
    ]
    if declined:
        assert renewal.status == "PENDING" and renewal.last_payment_error
        failed = [e for e in outbox_events("subscription.payment_failed") if e["data"]["invoice_id"] == renewal.id]
        assert len(failed) == 1 and failed[0]["data"]["next_retry_at"]
        assert sub["status"] == "PAST_DUE"
        # The card works again by the dunning retry: charged with the next attempt's key, and recovered.
        set_declining(providers[code], False)
        manual_clock.set(datetime.fromisoformat(failed[0]["data"]["next_retry_at"].replace("Z", "+00:00")))
        run("subscription-lifecycle")
        drain_events()
        deliver_webhooks(providers)
        retried = stored_invoice(renewal.id)
        assert (retried.status, int(retried.payment_attempts), int(retried.capture_count)) == ("PAID", 2, 1)
        recovered = read(api, f"/api/v1/user/subscriptions/{order['subscription']['id']}", relogin(api, buyer).token)[
            "subscription"
        ]
        assert recovered["status"] == "ACTIVE" and recovered["expires_at"].startswith("2026-07-01")
    else:
        assert (renewal.status, int(renewal.capture_count)) == ("PAID", 1)
        assert sub["status"] == "ACTIVE" and sub["expires_at"].startswith("2026-07-01")


@pytest.mark.parametrize("code", HOSTED)
def test_an_upgrade_is_charged_at_once_to_the_saved_method(
    api: Api, providers: dict[str, Emulated], manual_clock: Any, code: str
) -> None:
    from datetime import UTC, datetime, timedelta

    from tests.contract import PRO
    from tests.integration.buyers import relogin

    manual_clock.set(datetime(2026, 5, 1, 9, 0, tzinfo=UTC))
    buyer, order = bought(api, "upgrade", code)
    press(
        pay(api, buyer.token, order["invoice"]["id"], {"payment_method_code": code}).json["payment"]["session_url"],
        "pay",
    )
    deliver_webhooks(providers)
    manual_clock.advance(timedelta(days=16))
    token = relogin(api, buyer).token
    answer = api.post(
        f"/api/v1/user/subscriptions/{order['subscription']['id']}/upgrade", {"plan_id": PRO}, token=token
    )
    assert answer.status == 200, answer.json
    invoice = stored_invoice(answer.json["invoice"]["id"])
    assert (invoice.billing_reason, invoice.status, invoice.payment_method) == ("UPGRADE", "PAID", code)
    assert answer.json["subscription"]["tarif_plan_id"] == PRO
    deliver_webhooks(providers)  # the provider's word on the off-session charge: a replay
    assert int(stored_invoice(invoice.id).capture_count) == 1
