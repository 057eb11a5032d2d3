"""The pure parts of PayPal's wire format: the signed string of a webhook delivery, the raw span of a member of a
JSON object (what verification hashes), and how the provider reads PayPal's objects."""

from __future__ import annotations

import json
import zlib

from chalicelib.payments.paypal.provider import _off_session, _saved_method, _up_capture, _without_placeholder
from infra.emulators.paypal import member_spans, sign, signature_matches, signed_string


def test_the_signed_string_is_id_time_webhook_id_and_the_unsigned_crc32_of_the_raw_body() -> None:
    body = b'{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED"}'
    expected = f"t-1|2026-01-01T00:00:00Z|WH-9|{zlib.crc32(body) & 0xFFFFFFFF}".encode()
    assert signed_string("t-1", "2026-01-01T00:00:00Z", "WH-9", body) == expected


def test_an_rsa_signature_verifies_only_for_its_message() -> None:
    signature = sign(b"a|b|c|1")
    assert signature_matches(b"a|b|c|1", signature)
    assert not signature_matches(b"a|b|c|2", signature)
    assert not signature_matches(b"a|b|c|1", "not base64!")


def test_member_spans_are_the_exact_characters_sent() -> None:
    event = '{ "id" : "WH-1",\n  "resource": {"note": "a \\"}\\" b", "n": [1, {"x": null}]} }'
    text = f'{{"auth_algo": "SHA256withRSA",  "webhook_event" :  {event} , "z": 1}}'
    spans = member_spans(text)
    start, end = spans["webhook_event"]
    assert text[start:end] == event
    assert json.loads(text[slice(*spans["z"])]) == 1
    assert set(spans) == {"auth_algo", "webhook_event", "z"}
    assert member_spans("{}") == {}


def test_the_success_url_loses_only_its_placeholder_parameter() -> None:
    url = "http://localhost:5173/pay/paypal/success?session_id={SESSION_ID}&lang=de"
    assert _without_placeholder(url) == "http://localhost:5173/pay/paypal/success?lang=de"
    assert _without_placeholder("http://x/pay/paypal/success") == "http://x/pay/paypal/success"


def test_an_off_session_capture_carries_the_attempt_key_as_paypal_invoice_id() -> None:
    assert _off_session({"custom_id": "inv-1", "invoice_id": "inv-1:3"})
    assert not _off_session({"custom_id": "inv-1", "invoice_id": "INV-2026-000001"})
    assert not _off_session({"invoice_id": ":1"})


def test_the_saved_method_is_the_vault_of_the_order() -> None:
    order = {
        "payment_source": {
            "paypal": {
                "email_address": "b@example.com",
                "attributes": {"vault": {"id": "v1", "status": "VAULTED", "customer": {"id": "c1"}}},
            }
        }
    }
    assert _saved_method(order) == {
        "provider": "paypal",
        "reference": "v1",
        "customer": "c1",
        "label": "PayPal b@example.com",
    }
    assert _saved_method({"payment_source": {"paypal": {"email_address": "b@example.com"}}}) is None
    assert _saved_method({}) is None


def test_a_refund_names_its_capture_by_its_up_link() -> None:
    refund = {"links": [{"rel": "self", "href": "http://h/v2/payments/refunds/R1"},
                        {"rel": "up", "href": "http://h/v2/payments/captures/C1"}]}  # fmt: skip
    assert _up_capture(refund) == "C1"
    assert _up_capture({"links": []}) is None
