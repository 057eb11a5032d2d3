"""Idempotency-Key on POST /api/v1/user/checkout and POST /api/v1/subscriptions (contract README §1.10).

Replay of the stored answer (2xx and 4xx) with `Idempotent-Replayed: true`, 422 on reuse with other parameters, 409
while the first request runs, per-user scope, malformed keys, release on 5xx, and expiry after 24 h.
Shared seeded account: every test buys as users it registered.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.core import clock
from chalicelib.store.idempotency import IdempotencyRecordItem
from tests.contract import BASIC, FREE, INVALID_TOKEN, PASSWORD, PRIORITY_SUPPORT, PRO, TOKENS_100
from tests.integration.buyers import CHECKOUT, SUBSCRIBE, register_buyer
from tests.integration.conftest import outbox_events

REUSED = "Idempotency key reused with different parameters"
IN_PROGRESS = "A request with this Idempotency-Key is in progress"
INVALID_KEY = "Invalid Idempotency-Key"


def new_key() -> str:
    return f"key-{uuid.uuid4()}"


def post(api, token: str, body: Any, key: str | None, path: str = CHECKOUT):
    headers = {"Idempotency-Key": key} if key is not None else None
    return api.post(path, body, token=token, headers=headers)


def assert_replay_of(replay, first) -> None:
    assert replay.status == first.status
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.headers["content-type"].startswith("application/json")
    assert replay.headers["cache-control"] == "no-store"
    assert replay.body == first.body


def invoice_count(api, token: str) -> int:
    answer = api.get("/api/v1/user/invoices", token=token)
    assert answer.status == 200
    return int(answer.json["total"])


def subscription_count(api, token: str) -> int:
    answer = api.get("/api/v1/user/subscriptions", token=token)
    assert answer.status == 200
    return int(answer.json["total"])


def created_events(user_id: str, event_type: str) -> list[dict[str, Any]]:
    return [e for e in outbox_events(event_type) if e["data"].get("user_id") == user_id]


def number_of(body: dict[str, Any]) -> int:
    return int(body["invoice"]["invoice_number"].rsplit("-", 1)[1])


# --- replay -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (CHECKOUT, {"plan_id": BASIC, "token_bundle_ids": [TOKENS_100]}),
        (SUBSCRIBE, {"plan_id": BASIC}),
    ],
)
def test_the_same_key_and_body_replay_the_first_answer(api, path, body):
    buyer = register_buyer(api, "checkout-idem", country="DE")
    key = new_key()
    first = post(api, buyer.token, body, key, path)
    assert first.status == 201, first.json
    assert "idempotent-replayed" not in first.headers

    for _ in range(2):
        replay = post(api, buyer.token, body, key, path)
        assert_replay_of(replay, first)
        assert replay.json["invoice"]["id"] == first.json["invoice"]["id"]

    assert invoice_count(api, buyer.token) == 1
    assert subscription_count(api, buyer.token) == 1
    assert len(created_events(buyer.user_id, "invoice.created")) == 1
    assert len(created_events(buyer.user_id, "subscription.created")) == 1
    # a replay takes no number: the next new checkout gets the next one
    after = post(api, buyer.token, body, None, path)
    assert number_of(after.json) == number_of(first.json) + 1


def test_a_replay_is_not_recomputed_after_the_state_changed(api):
    buyer = register_buyer(api, "checkout-idem", country="DE")
    key = new_key()
    first = post(api, buyer.token, {"plan_id": PRO}, key)
    assert (first.status, first.json["trial_applied"], first.json["invoice"]["tax_code"]) == (201, True, "VAT_DE")
    assert api.put("/api/v1/user/details", {"country": "TH"}, token=buyer.token).status == 200
    replay = post(api, buyer.token, {"plan_id": PRO}, key)
    assert_replay_of(replay, first)
    assert replay.json["trial_applied"] is True  # a re-execution would have no trial left and tax VAT_TH


def test_the_body_is_compared_as_canonical_json(api):
    buyer = register_buyer(api, "checkout-idem")
    key = new_key()
    sent = {"token_bundle_ids": [TOKENS_100], "plan_id": BASIC, "currency": "EUR"}
    first = post(api, buyer.token, sent, key)
    assert first.status == 201
    reordered = f'{{ "currency":"EUR",\n  "plan_id": "{BASIC}", "token_bundle_ids": ["{TOKENS_100}"] }}'
    replay = api.request(
        "POST",
        CHECKOUT,
        body=reordered,
        token=buyer.token,
        headers={"Idempotency-Key": key, "Content-Type": "application/json"},
    )
    assert_replay_of(replay, first)
    assert invoice_count(api, buyer.token) == 1


def test_a_zero_total_is_captured_once(api):
    buyer = register_buyer(api, "checkout-idem")
    key = new_key()
    first = post(api, buyer.token, {"plan_id": FREE}, key)
    assert (first.status, first.json["invoice"]["status"]) == (201, "PAID")
    replay = post(api, buyer.token, {"plan_id": FREE}, key)
    assert_replay_of(replay, first)
    assert len(created_events(buyer.user_id, "invoice.paid")) == 1
    assert len(created_events(buyer.user_id, "subscription.activated")) == 1
    assert subscription_count(api, buyer.token) == 1


def test_a_400_answer_is_stored_and_replayed(api):
    buyer = register_buyer(api, "checkout-idem")
    key = new_key()
    first = post(api, buyer.token, {"add_on_ids": [PRIORITY_SUPPORT]}, key)
    assert (first.status, first.json) == (400, {"error": "Add-on Priority Support is not available for your plan"})
    # the user becomes eligible (a trialing `pro`), but the key answers what it answered first
    assert post(api, buyer.token, {"plan_id": PRO}, None).status == 201
    replay = post(api, buyer.token, {"add_on_ids": [PRIORITY_SUPPORT]}, key)
    assert_replay_of(replay, first)
    assert invoice_count(api, buyer.token) == 1
    # without the key the same request is executed again, and now succeeds
    assert post(api, buyer.token, {"add_on_ids": [PRIORITY_SUPPORT]}, None).status == 201


def test_a_format_error_is_stored_and_replayed(api):
    buyer = register_buyer(api, "checkout-idem")
    key = new_key()
    first = post(api, buyer.token, {}, key)
    assert first.status == 400
    assert_replay_of(post(api, buyer.token, {}, key), first)
    # the key is used: another body with it is a mismatch, not a new request
    answer = post(api, buyer.token, {"plan_id": BASIC}, key)
    assert (answer.status, answer.json) == (422, {"error": REUSED})


# --- reuse with other parameters ----------------------------------------------------------------------------------


def test_the_same_key_with_another_body_is_422(api):
    buyer = register_buyer(api, "checkout-idem")
    key = new_key()
    first = post(api, buyer.token, {"plan_id": BASIC}, key)
    assert first.status == 201
    for other in ({"plan_id": PRO}, {"plan_id": BASIC, "currency": "USD"}, {"plan_id": BASIC, "extra": None}, {}):
        answer = post(api, buyer.token, other, key)
        assert (answer.status, answer.json) == (422, {"error": REUSED}), other
        assert "idempotent-replayed" not in answer.headers
    assert invoice_count(api, buyer.token) == 1
    # the 422s stored nothing: the key still replays the first answer
    assert_replay_of(post(api, buyer.token, {"plan_id": BASIC}, key), first)


def test_the_same_key_on_another_route_or_query_is_422(api):
    buyer = register_buyer(api, "checkout-idem")
    key = new_key()
    assert post(api, buyer.token, {"plan_id": BASIC}, key).status == 201
    answer = post(api, buyer.token, {"plan_id": BASIC}, key, SUBSCRIBE)
    assert (answer.status, answer.json) == (422, {"error": REUSED})
    answer = post(api, buyer.token, {"plan_id": BASIC}, key, CHECKOUT + "?source=web")
    assert (answer.status, answer.json) == (422, {"error": REUSED})
    assert invoice_count(api, buyer.token) == 1


# --- scope --------------------------------------------------------------------------------------------------------


def test_keys_are_scoped_to_the_user(api):
    first_buyer, second_buyer = register_buyer(api, "checkout-idem"), register_buyer(api, "checkout-idem")
    key = new_key()
    first = post(api, first_buyer.token, {"plan_id": BASIC}, key)
    second = post(api, second_buyer.token, {"plan_id": BASIC}, key)
    assert (first.status, second.status) == (201, 201)
    assert "idempotent-replayed" not in second.headers
    assert first.json["invoice"]["id"] != second.json["invoice"]["id"]
    assert second.json["invoice"]["user_id"] == second_buyer.user_id
    # and each user's key replays their own answer
    assert_replay_of(post(api, first_buyer.token, {"plan_id": BASIC}, key), first)
    assert_replay_of(post(api, second_buyer.token, {"plan_id": BASIC}, key), second)


def test_an_unauthenticated_request_leaves_the_key_unused(api):
    buyer = register_buyer(api, "checkout-idem")
    key = new_key()
    answer = api.post(CHECKOUT, {"plan_id": BASIC}, token="expired-or-forged", headers={"Idempotency-Key": key})
    assert (answer.status, answer.json) == (401, INVALID_TOKEN)
    first = post(api, buyer.token, {"plan_id": BASIC}, key)
    assert first.status == 201
    assert "idempotent-replayed" not in first.headers


def test_answers_that_are_not_stored_leave_the_key_unused(api):
    buyer = register_buyer(api, "checkout-idem")
    key = new_key()
    unsupported = api.request(
        "POST",
        CHECKOUT,
        body=f'{{"plan_id": "{BASIC}"}}',
        token=buyer.token,
        headers={"Idempotency-Key": key, "Content-Type": "text/plain"},
    )
    assert (unsupported.status, unsupported.json) == (415, {"error": "Unsupported media type"})
    too_large = post(api, buyer.token, {"plan_id": BASIC, "padding": "x" * 1_048_576}, key)
    assert (too_large.status, too_large.json) == (413, {"error": "Request body too large", "max_bytes": 1048576})
    first = post(api, buyer.token, {"plan_id": BASIC}, key)
    assert first.status == 201
    assert "idempotent-replayed" not in first.headers


# --- malformed keys -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "k" * 256, "abc\x01def", "tab\tkey", "del\x7f", "with space"])
def test_a_malformed_key_is_400(api, key):
    buyer = register_buyer(api, "checkout-idem")
    answer = post(api, buyer.token, {"plan_id": BASIC}, key)
    assert (answer.status, answer.json) == (400, {"error": INVALID_KEY})
    assert invoice_count(api, buyer.token) == 0


@pytest.mark.parametrize("key", ["k" * 255, "a", "!~#$%&'*+-.^_`|0123456789"])
def test_keys_of_1_to_255_visible_characters_are_accepted(api, key):
    buyer = register_buyer(api, "checkout-idem")
    first = post(api, buyer.token, {"plan_id": BASIC}, key)
    assert first.status == 201
    assert_replay_of(post(api, buyer.token, {"plan_id": BASIC}, key), first)


def test_the_key_is_checked_before_the_body_rules(api):
    buyer = register_buyer(api, "checkout-idem")
    answer = post(api, buyer.token, {}, "k" * 256)
    assert (answer.status, answer.json) == (400, {"error": INVALID_KEY})


# --- in flight ----------------------------------------------------------------------------------------------------


def test_a_duplicate_while_the_first_runs_is_409(api):
    buyer = register_buyer(api, "checkout-idem")
    body = {"plan_id": BASIC}
    done = new_key()
    assert post(api, buyer.token, body, done).status == 201
    fingerprint = IdempotencyRecordItem.get(*IdempotencyRecordItem.key(buyer.user_id, done)).fingerprint

    running = new_key()
    now = clock.now()
    pk, sk = IdempotencyRecordItem.key(buyer.user_id, running)
    IdempotencyRecordItem(
        pk,
        sk,
        fingerprint=fingerprint,
        status="IN_PROGRESS",
        owner="another-request",
        created_at=now,
        ttl=now + timedelta(hours=24),
    ).save()

    answer = post(api, buyer.token, body, running)
    assert (answer.status, answer.json) == (409, {"error": IN_PROGRESS})
    assert "idempotent-replayed" not in answer.headers
    assert invoice_count(api, buyer.token) == 1
    # the 409 neither took nor released the key
    stored = IdempotencyRecordItem.get(pk, sk, consistent_read=True)
    assert (stored.status, stored.owner) == ("IN_PROGRESS", "another-request")


# --- 5xx and expiry -----------------------------------------------------------------------------------------------


def test_a_server_error_releases_the_key(api, monkeypatch):
    import chalicelib.checkout.service as service

    buyer = register_buyer(api, "checkout-idem")
    key = new_key()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "_validate", broken)
    failed = post(api, buyer.token, {"plan_id": BASIC}, key)
    assert failed.status == 500
    assert set(failed.json) == {"error", "request_id"}
    assert failed.json["error"] == "Internal server error"
    monkeypatch.undo()

    retried = post(api, buyer.token, {"plan_id": BASIC}, key)
    assert retried.status == 201
    assert "idempotent-replayed" not in retried.headers
    assert invoice_count(api, buyer.token) == 1


def test_a_key_expires_after_24_hours(api, manual_clock):
    buyer = register_buyer(api, "checkout-idem")
    key = new_key()
    first = post(api, buyer.token, {"plan_id": BASIC}, key)
    assert first.status == 201

    manual_clock.advance(timedelta(hours=24) - timedelta(seconds=1))
    token = api.token(buyer.email, PASSWORD)
    assert_replay_of(post(api, token, {"plan_id": BASIC}, key), first)

    manual_clock.advance(timedelta(seconds=2))
    token = api.token(buyer.email, PASSWORD)
    again = post(api, token, {"plan_id": BASIC}, key)
    assert again.status == 201
    assert "idempotent-replayed" not in again.headers
    assert again.json["invoice"]["id"] != first.json["invoice"]["id"]
    assert invoice_count(api, token) == 2
    # the key now holds the new answer
    assert_replay_of(post(api, token, {"plan_id": BASIC}, key), again)


def test_an_expired_key_may_be_used_with_other_parameters(api, manual_clock):
    buyer = register_buyer(api, "checkout-idem")
    key = new_key()
    assert post(api, buyer.token, {"plan_id": BASIC}, key).status == 201
    manual_clock.advance(timedelta(hours=24, seconds=1))
    token = api.token(buyer.email, PASSWORD)
    answer = post(api, token, {"token_bundle_ids": [TOKENS_100]}, key)
    assert answer.status == 201
    assert json.loads(answer.body)["invoice"]["billing_reason"] == "PURCHASE"
