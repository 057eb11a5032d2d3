"""POST /api/v1/user/invoices/<id>/pay — refusals in the contract's order (checkout-and-payments.md §5.4, README §1.4).

Order: 401 (no credential) → 400 `Invalid id` → 404 → 403 → 400 `Invoice already paid` → 400 `Invoice is <STATUS>,
expected PENDING` → 400 past due → 400 `Payment method not available: <code>` → 409 payment in progress.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from chalicelib.core import clock
from chalicelib.core.clock import ManualClock
from chalicelib.payments.models import PayLockItem
from tests.contract import ACCESS_DENIED, EXTRA_STORAGE, INVALID_ID, INVALID_TOKEN, NO_CREDENTIAL
from tests.integration.buyers import buy_basic_and_tokens, german_buyer, invoice_of, pay, relogin
from tests.integration.conftest import Api, outbox_events


def checkout(api: Api, token: str, **body: Any) -> dict[str, Any]:
    """Basic and 100 tokens, paid with the sandbox unless `body` names another method."""
    return buy_basic_and_tokens(api, token, **{"payment_method_code": "sandbox", **body})


def hold_lock(invoice_id: str, until: timedelta) -> None:
    """Another pay of this invoice is executing (or was, when `until` is negative)."""
    now = clock.now()
    PayLockItem(
        *PayLockItem.key(invoice_id), owner="another-request", until=now + until, ttl=now + timedelta(minutes=10)
    ).save()


def status_of(api: Api, token: str, invoice_id: str) -> str:
    return str(invoice_of(api, token, invoice_id)["status"])


# --- authentication and the path --------------------------------------------------------------------------------


def test_without_a_token_401(api: Api) -> None:
    token = german_buyer(api, "anonymous").token
    invoice_id = checkout(api, token)["invoice"]["id"]

    answer = pay(api, None, invoice_id)

    assert answer.status == 401
    assert answer.json == NO_CREDENTIAL
    assert status_of(api, token, invoice_id) == "PENDING"


def test_with_a_malformed_or_bad_token_401(api: Api) -> None:
    token = german_buyer(api, "bad-token").token
    invoice_id = checkout(api, token)["invoice"]["id"]

    malformed = pay(api, None, invoice_id, headers={"Authorization": "Token abc"})
    invalid = pay(api, "not-a-jwt", invoice_id)

    assert (malformed.status, malformed.json) == (401, {"error": "Invalid Authorization header format"})
    assert (invalid.status, invalid.json) == (401, INVALID_TOKEN)


def test_a_malformed_id_400_invalid_id(api: Api) -> None:
    token = german_buyer(api, "bad-id").token

    answer = pay(api, token, "not-a-uuid")

    assert answer.status == 400
    assert answer.json == INVALID_ID


def test_an_upper_case_id_is_the_same_invoice(api: Api) -> None:
    token = german_buyer(api, "upper-id").token
    invoice_id = checkout(api, token)["invoice"]["id"]

    answer = pay(api, token, invoice_id.upper())

    assert answer.status == 200, answer.json
    assert answer.json["invoice"]["id"] == invoice_id


def test_an_unknown_invoice_404(api: Api) -> None:
    token = german_buyer(api, "unknown").token

    answer = pay(api, token, str(uuid.uuid4()))

    assert answer.status == 404
    assert answer.json == {"error": "Invoice not found"}


def test_another_users_invoice_403_and_it_stays_unpaid(api: Api) -> None:
    owner = german_buyer(api, "owner").token
    intruder = german_buyer(api, "intruder").token
    invoice_id = checkout(api, owner)["invoice"]["id"]

    answer = pay(api, intruder, invoice_id)

    assert answer.status == 403
    assert answer.json == ACCESS_DENIED
    assert status_of(api, owner, invoice_id) == "PENDING"
    assert api.get("/api/v1/user/tokens/balance", token=intruder).json == {"balance": 0}


def test_ownership_is_checked_before_the_status(api: Api) -> None:
    owner = german_buyer(api, "paid-owner").token
    intruder = german_buyer(api, "paid-intruder").token
    invoice_id = checkout(api, owner)["invoice"]["id"]
    assert pay(api, owner, invoice_id).status == 200

    answer = pay(api, intruder, invoice_id)

    assert (answer.status, answer.json) == (403, ACCESS_DENIED)


# --- the invoice's state -----------------------------------------------------------------------------------------


def test_paying_twice_400_invoice_already_paid_and_nothing_is_credited_twice(api: Api) -> None:
    token = german_buyer(api, "twice").token
    bought = checkout(api, token)
    invoice_id = bought["invoice"]["id"]
    first = pay(api, token, invoice_id)
    assert first.status == 200

    second = pay(api, token, invoice_id)

    assert second.status == 400
    assert second.json == {"error": "Invoice already paid"}
    assert api.get("/api/v1/user/tokens/balance", token=token).json == {"balance": 150}
    assert api.get("/api/v1/user/tokens/transactions", token=token).json["total"] == 2
    assert len([e for e in outbox_events("invoice.paid") if e["data"]["invoice_id"] == invoice_id]) == 1
    stored = api.get(f"/api/v1/user/invoices/{invoice_id}", token=token).json["invoice"]
    assert stored["payment_ref"] == first.json["payment"]["reference"]


def test_already_paid_wins_over_an_unavailable_method(api: Api) -> None:
    token = german_buyer(api, "paid-method").token
    invoice_id = checkout(api, token)["invoice"]["id"]
    assert pay(api, token, invoice_id).status == 200

    answer = pay(api, token, invoice_id, {"payment_method_code": "stripe"})

    assert (answer.status, answer.json) == (400, {"error": "Invoice already paid"})


def test_an_authorized_invoice_400_expected_pending(api: Api) -> None:
    token = german_buyer(api, "authorized").token
    invoice_id = checkout(api, token)["invoice"]["id"]
    assert pay(api, token, invoice_id, {"sandbox_outcome": "authorize"}).status == 200

    answer = pay(api, token, invoice_id)

    assert answer.status == 400
    assert answer.json == {"error": "Invoice is AUTHORIZED, expected PENDING"}
    assert status_of(api, token, invoice_id) == "AUTHORIZED"


def test_a_cancelled_invoice_400_expected_pending(api: Api) -> None:
    token = german_buyer(api, "cancelled").token
    bought = checkout(api, token, plan_id=None, token_bundle_ids=None, add_on_ids=[EXTRA_STORAGE])
    [addon] = bought["add_ons"]
    cancelled = api.post(f"/api/v1/user/addons/{addon['id']}/cancel", {}, token=token)
    assert cancelled.status == 200, cancelled.json
    assert status_of(api, token, bought["invoice"]["id"]) == "CANCELLED"

    answer = pay(api, token, bought["invoice"]["id"])

    assert answer.status == 400
    assert answer.json == {"error": "Invoice is CANCELLED, expected PENDING"}


def test_an_invoice_past_its_due_date_400(api: Api, manual_clock: ManualClock) -> None:
    shopper = german_buyer(api, "overdue")
    token = shopper.token
    invoice = checkout(api, token)["invoice"]
    assert invoice["due_date"] == "2026-05-31T09:00:00Z"
    manual_clock.set(clock.now() + timedelta(days=30, seconds=1))
    token = relogin(api, shopper).token

    answer = pay(api, token, invoice["id"])

    assert answer.status == 400
    assert answer.json == {"error": "Invoice is past its due date"}
    assert status_of(api, token, invoice["id"]) == "PENDING"


def test_an_invoice_can_be_paid_just_before_its_due_date(api: Api, manual_clock: ManualClock) -> None:
    shopper = german_buyer(api, "just-in-time")
    token = shopper.token
    invoice = checkout(api, token)["invoice"]
    manual_clock.set(clock.now() + timedelta(days=30, seconds=-1))
    token = relogin(api, shopper).token

    answer = pay(api, token, invoice["id"])

    assert answer.status == 200, answer.json
    assert answer.json["invoice"]["paid_at"] == "2026-05-31T08:59:59Z"


def test_past_due_is_checked_before_the_payment_method(api: Api, manual_clock: ManualClock) -> None:
    shopper = german_buyer(api, "overdue-method")
    token = shopper.token
    invoice = checkout(api, token)["invoice"]
    manual_clock.advance(timedelta(days=31))
    token = relogin(api, shopper).token

    answer = pay(api, token, invoice["id"], {"payment_method_code": "bitcoin"})

    assert (answer.status, answer.json) == (400, {"error": "Invoice is past its due date"})


# --- the payment method ------------------------------------------------------------------------------------------


def test_stripe_without_keys_is_not_available(api: Api) -> None:
    token = german_buyer(api, "stripe").token
    invoice_id = checkout(api, token)["invoice"]["id"]

    answer = pay(api, token, invoice_id, {"payment_method_code": "stripe"})

    assert answer.status == 400
    assert answer.json == {"error": "Payment method not available: stripe"}
    stored = api.get(f"/api/v1/user/invoices/{invoice_id}", token=token).json["invoice"]
    assert stored["status"] == "PENDING" and stored["payment_method"] == "sandbox"  # not switched


def test_an_unknown_payment_method_is_not_available(api: Api) -> None:
    token = german_buyer(api, "unknown-method").token
    invoice_id = checkout(api, token)["invoice"]["id"]

    answer = pay(api, token, invoice_id, {"payment_method_code": "bitcoin"})

    assert answer.status == 400
    assert answer.json == {"error": "Payment method not available: bitcoin"}


def test_an_inactive_provider_method_is_not_available(api: Api) -> None:
    token = german_buyer(api, "yookassa").token
    invoice_id = checkout(api, token)["invoice"]["id"]

    answer = pay(api, token, invoice_id, {"payment_method_code": "yookassa"})

    assert (answer.status, answer.json) == (400, {"error": "Payment method not available: yookassa"})


def test_payment_method_code_switches_the_invoice_before_paying(api: Api) -> None:
    token = german_buyer(api, "switch").token
    invoice = checkout(api, token, payment_method_code="invoice")["invoice"]
    assert invoice["payment_method"] == "invoice"

    answer = pay(api, token, invoice["id"], {"payment_method_code": "sandbox"})

    assert answer.status == 200, answer.json
    assert answer.json["payment"]["provider"] == "sandbox"
    assert answer.json["invoice"]["payment_method"] == "sandbox"


# --- a pay already in progress -----------------------------------------------------------------------------------


def test_a_pay_in_progress_409_and_nothing_changes(api: Api) -> None:
    token = german_buyer(api, "locked").token
    invoice_id = checkout(api, token)["invoice"]["id"]
    hold_lock(invoice_id, timedelta(seconds=20))

    answer = pay(api, token, invoice_id)

    assert answer.status == 409
    assert answer.json == {"error": "Payment already in progress for this invoice"}
    assert status_of(api, token, invoice_id) == "PENDING"
    assert api.get("/api/v1/user/tokens/balance", token=token).json == {"balance": 0}


def test_a_held_lock_does_not_hide_the_earlier_refusals(api: Api) -> None:
    token = german_buyer(api, "locked-method").token
    invoice_id = checkout(api, token)["invoice"]["id"]
    hold_lock(invoice_id, timedelta(seconds=20))

    answer = pay(api, token, invoice_id, {"payment_method_code": "bitcoin"})

    assert (answer.status, answer.json) == (400, {"error": "Payment method not available: bitcoin"})


def test_a_lapsed_lock_does_not_block_paying(api: Api) -> None:
    token = german_buyer(api, "lapsed").token
    invoice_id = checkout(api, token)["invoice"]["id"]
    hold_lock(invoice_id, timedelta(seconds=-1))

    answer = pay(api, token, invoice_id)

    assert answer.status == 200, answer.json
    assert answer.json["invoice"]["status"] == "PAID"


def test_the_lock_is_released_after_a_pay(api: Api) -> None:
    token = german_buyer(api, "released").token
    invoice_id = checkout(api, token)["invoice"]["id"]
    assert pay(api, token, invoice_id, {"sandbox_outcome": "fail"}).status == 402

    answer = pay(api, token, invoice_id)

    assert answer.status == 200, answer.json


# --- Idempotency-Key ---------------------------------------------------------------------------------------------


def test_an_idempotency_key_replays_the_first_answer_and_captures_once(api: Api) -> None:
    token = german_buyer(api, "idempotent").token
    invoice_id = checkout(api, token)["invoice"]["id"]
    key = {"Idempotency-Key": f"pay-{uuid.uuid4()}"}

    first = pay(api, token, invoice_id, headers=key)
    again = pay(api, token, invoice_id, headers=key)

    assert first.status == again.status == 200
    assert again.json == first.json
    assert again.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    assert api.get("/api/v1/user/tokens/balance", token=token).json == {"balance": 150}
    assert len([e for e in outbox_events("payment.captured") if e["data"]["invoice_id"] == invoice_id]) == 1


def test_an_idempotency_key_reused_with_other_parameters_422(api: Api) -> None:
    token = german_buyer(api, "idempotent-422").token
    invoice_id = checkout(api, token)["invoice"]["id"]
    key = {"Idempotency-Key": f"pay-{uuid.uuid4()}"}
    assert pay(api, token, invoice_id, {"sandbox_outcome": "fail"}, headers=key).status == 402

    answer = pay(api, token, invoice_id, {"sandbox_outcome": "succeed"}, headers=key)

    assert answer.status == 422
    assert answer.json == {"error": "Idempotency key reused with different parameters"}
    assert status_of(api, token, invoice_id) == "PENDING"
