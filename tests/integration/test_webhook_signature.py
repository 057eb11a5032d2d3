"""The signature of the generic payment webhook and its test endpoint (checkout-and-payments.md §8.1, §8.2).

`X-VBWD-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`; ±300 s; any one `v1` may match; the
secrets come from PAYMENT_WEBHOOK_SECRETS (seed-data.md §10: `whsec_local_payment_webhook` in `local`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.core import clock
from chalicelib.core.clock import ManualClock
from chalicelib.core.config import reload_settings
from chalicelib.core.times import unix
from chalicelib.payments import signatures
from tests.contract import BASIC
from tests.integration.buyers import (
    PAYMENT_WEBHOOK,
    WEBHOOK_SECRET,
    checkout,
    invoice_of,
    notification,
    register_buyer,
)
from tests.integration.conftest import Answer, Api

TEST_PATH = "/api/v1/webhooks/payment/test"


@pytest.fixture
def webhook_secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Configure PAYMENT_WEBHOOK_SECRETS for one test; the module's settings are restored afterwards."""

    def configure(value: str) -> None:
        monkeypatch.setenv("PAYMENT_WEBHOOK_SECRETS", value)
        reload_settings()

    yield configure
    monkeypatch.undo()
    reload_settings()


def pending_invoice(api: Api, name: str) -> tuple[str, dict[str, Any]]:
    buyer = register_buyer(api, name)
    return buyer.token, checkout(api, buyer.token, {"plan_id": BASIC})["invoice"]


def payload(invoice: dict[str, Any]) -> bytes:
    return json.dumps(notification(invoice)).encode()


def post(api: Api, raw: bytes, signature: str | None, path: str = PAYMENT_WEBHOOK) -> Answer:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-VBWD-Signature"] = signature
    return api.request("POST", path, body=raw, headers=headers)


def now() -> int:
    return unix(clock.now())


def status_of(api: Api, token: str, invoice_id: str) -> str:
    return str(invoice_of(api, token, invoice_id)["status"])


INVALID = {"error": "Invalid signature"}


def test_a_correct_signature_is_accepted(api: Api) -> None:
    token, invoice = pending_invoice(api, "signed")
    raw = payload(invoice)

    answer = post(api, raw, signatures.header(WEBHOOK_SECRET, now(), raw))

    assert answer.status == 200, answer.json
    assert status_of(api, token, invoice["id"]) == "PAID"


def test_a_missing_header_400(api: Api) -> None:
    token, invoice = pending_invoice(api, "unsigned")

    answer = post(api, payload(invoice), None)

    assert (answer.status, answer.json) == (400, INVALID)
    assert status_of(api, token, invoice["id"]) == "PENDING"


@pytest.mark.parametrize(
    "make_header",
    [
        lambda raw, t: "",
        lambda raw, t: "garbage",
        lambda raw, t: f"v1={signatures.sign(WEBHOOK_SECRET, t, raw)}",  # no timestamp
        lambda raw, t: f"t={t}",  # no v1
        lambda raw, t: f"t={t},v1=",  # an empty v1
        lambda raw, t: f"t=yesterday,v1={signatures.sign(WEBHOOK_SECRET, t, raw)}",  # a timestamp that is no number
        lambda raw, t: f"t={t},v0={signatures.sign(WEBHOOK_SECRET, t, raw)}",  # another scheme
        lambda raw, t: f"t={t},v1={signatures.sign(WEBHOOK_SECRET, t, raw).upper()[:-1]}",
    ],
    ids=["empty", "garbage", "no-t", "no-v1", "empty-v1", "bad-t", "v0-only", "truncated"],
)
def test_a_malformed_header_400(api: Api, make_header: Any) -> None:
    token, invoice = pending_invoice(api, "malformed")
    raw = payload(invoice)

    answer = post(api, raw, make_header(raw, now()))

    assert (answer.status, answer.json) == (400, INVALID)
    assert status_of(api, token, invoice["id"]) == "PENDING"


def test_a_signature_made_with_another_secret_400(api: Api) -> None:
    token, invoice = pending_invoice(api, "wrong-secret")
    raw = payload(invoice)

    answer = post(api, raw, signatures.header("whsec_somebody_else", now(), raw))

    assert (answer.status, answer.json) == (400, INVALID)
    assert status_of(api, token, invoice["id"]) == "PENDING"


def test_a_body_changed_after_signing_400(api: Api) -> None:
    token, invoice = pending_invoice(api, "tampered")
    raw = payload(invoice)
    signature = signatures.header(WEBHOOK_SECRET, now(), raw)
    tampered = raw.replace(b'"currency": "EUR"', b'"currency": "EUR" ')

    answer = post(api, tampered, signature)

    assert (answer.status, answer.json) == (400, INVALID)
    assert status_of(api, token, invoice["id"]) == "PENDING"


def test_a_signature_over_the_parsed_and_reserialized_body_does_not_match_the_raw_bytes(api: Api) -> None:
    _, invoice = pending_invoice(api, "raw-bytes")
    raw = payload(invoice)
    compact = json.dumps(json.loads(raw), separators=(",", ":")).encode()

    answer = post(api, raw, signatures.header(WEBHOOK_SECRET, now(), compact))

    assert (answer.status, answer.json) == (400, INVALID)


def test_a_timestamp_301_seconds_old_400(api: Api, manual_clock: ManualClock) -> None:
    token, invoice = pending_invoice(api, "stale")
    raw = payload(invoice)
    signature = signatures.header(WEBHOOK_SECRET, now(), raw)
    manual_clock.advance(timedelta(seconds=301))

    answer = post(api, raw, signature)

    assert (answer.status, answer.json) == (400, INVALID)
    assert status_of(api, token, invoice["id"]) == "PENDING"


def test_a_timestamp_300_seconds_old_is_accepted(api: Api, manual_clock: ManualClock) -> None:
    _, invoice = pending_invoice(api, "just-fresh")
    raw = payload(invoice)
    signature = signatures.header(WEBHOOK_SECRET, now(), raw)
    manual_clock.advance(timedelta(seconds=300))

    answer = post(api, raw, signature)

    assert answer.status == 200, answer.json


def test_a_timestamp_301_seconds_in_the_future_400(api: Api) -> None:
    _, invoice = pending_invoice(api, "future")
    raw = payload(invoice)

    answer = post(api, raw, signatures.header(WEBHOOK_SECRET, now() + 301, raw))

    assert (answer.status, answer.json) == (400, INVALID)


def test_one_matching_v1_among_several_suffices(api: Api) -> None:
    """Secret rotation: the sender signs with the old and the new secret."""
    token, invoice = pending_invoice(api, "rotation")
    raw = payload(invoice)
    t = now()
    header = f"t={t},v1={signatures.sign('whsec_retired', t, raw)},v1={signatures.sign(WEBHOOK_SECRET, t, raw)}"

    answer = post(api, raw, header)

    assert answer.status == 200, answer.json
    assert status_of(api, token, invoice["id"]) == "PAID"


def test_several_configured_secrets_each_verify(api: Api, webhook_secrets: Any) -> None:
    webhook_secrets(f"whsec_next_secret,{WEBHOOK_SECRET}")
    _, first = pending_invoice(api, "rotate-server-a")
    _, second = pending_invoice(api, "rotate-server-b")
    raw_first, raw_second = payload(first), payload(second)

    by_new = post(api, raw_first, signatures.header("whsec_next_secret", now(), raw_first))
    by_old = post(api, raw_second, signatures.header(WEBHOOK_SECRET, now(), raw_second))

    assert by_new.status == 200, by_new.json
    assert by_old.status == 200, by_old.json


def test_the_signature_is_checked_before_the_body_is_parsed(api: Api) -> None:
    answer = post(api, b"{not json", signatures.header("whsec_somebody_else", now(), b"{not json"))

    assert (answer.status, answer.json) == (400, INVALID)


def test_without_a_configured_secret_503(api: Api, webhook_secrets: Any) -> None:
    token, invoice = pending_invoice(api, "no-secret")
    raw = payload(invoice)
    webhook_secrets("")

    answer = post(api, raw, signatures.header(WEBHOOK_SECRET, now(), raw))
    unsigned = post(api, raw, None)

    assert (answer.status, answer.json) == (503, {"error": "Webhook secret not configured"})
    assert (unsigned.status, unsigned.json) == (503, {"error": "Webhook secret not configured"})
    assert status_of(api, token, invoice["id"]) == "PENDING"


def test_the_secret_is_restored_after_the_previous_test(api: Api) -> None:
    _, invoice = pending_invoice(api, "restored")
    raw = payload(invoice)

    assert post(api, raw, signatures.header(WEBHOOK_SECRET, now(), raw)).status == 200


# --- POST /webhooks/payment/test (§8.2) ----------------------------------------------------------------------------


def test_the_test_endpoint_is_reachable_without_a_signature(api: Api) -> None:
    answer = post(api, b"{}", None, TEST_PATH)

    assert answer.status == 200
    assert answer.json == {"status": "ok", "message": "Webhook endpoint is reachable"}


def test_the_test_endpoint_reports_a_valid_signature(api: Api) -> None:
    raw = b'{"hello": "world"}'

    answer = post(api, raw, signatures.header(WEBHOOK_SECRET, now(), raw), TEST_PATH)

    assert answer.status == 200
    assert answer.json == {"status": "ok", "message": "Webhook endpoint is reachable", "signature_valid": True}


@pytest.mark.parametrize(
    "make_header",
    [
        lambda raw, t: signatures.header("whsec_somebody_else", t, raw),
        lambda raw, t: signatures.header(WEBHOOK_SECRET, t - 301, raw),
        lambda raw, t: signatures.header(WEBHOOK_SECRET, t, raw + b" "),
        lambda raw, t: "garbage",
    ],
    ids=["wrong-secret", "stale", "other-body", "garbage"],
)
def test_the_test_endpoint_reports_an_invalid_signature(api: Api, make_header: Any) -> None:
    raw = b'{"hello": "world"}'

    answer = post(api, raw, make_header(raw, now()), TEST_PATH)

    assert answer.status == 200
    assert answer.json == {"status": "ok", "message": "Webhook endpoint is reachable", "signature_valid": False}


def test_the_test_endpoint_accepts_a_body_that_is_not_json(api: Api) -> None:
    raw = b"plain text, not JSON"

    answer = post(api, raw, signatures.header(WEBHOOK_SECRET, now(), raw), TEST_PATH)

    assert answer.status == 200
    assert answer.json["signature_valid"] is True
