"""Consumer receipts (docs/data-model.md § idempotency): a delivered event is applied once per consumer, even when
deliveries overlap, and a claim whose handler died is taken over once its lease has run out."""

from __future__ import annotations

import json
from datetime import timedelta

from chalicelib.events.dispatch import deliver
from chalicelib.store import receipts
from tests.integration.conftest import Api, at_once, sent_mail

DELIVERIES = 8


def registered_event(email: str) -> str:
    """A `user.registered` message body as the mail consumer's queue would carry it."""
    envelope = {"id": f"evt-{email}", "type": "user.registered", "data": {"email": email, "user_id": "u-1"}}
    return json.dumps({"detail": envelope})


def test_overlapping_deliveries_of_one_event_send_one_mail(fresh_api: Api, atomic_dynamodb: None) -> None:
    message = registered_event("ada@example.com")

    handled = at_once(DELIVERIES, lambda _: deliver("mail", message))

    assert handled.count(True) == 1, handled
    assert [m["to"] for m in sent_mail()] == [["ada@example.com"]]
    assert deliver("mail", message) is False  # done: a later redelivery is a no-op


def test_a_claim_whose_handler_died_is_taken_over_after_its_lease(fresh_api: Api, manual_clock) -> None:
    message = registered_event("grace@example.com")
    died = receipts.claim("mail", "evt-grace@example.com", manual_clock.now())  # claimed, then never completed
    assert died is not None

    assert deliver("mail", message) is False  # the claim is live: someone may still be running the handler
    assert sent_mail() == []
    manual_clock.advance(receipts.CLAIM_LEASE - timedelta(seconds=1))
    assert deliver("mail", message) is False
    manual_clock.advance(timedelta(seconds=2))

    assert deliver("mail", message) is True
    assert [m["to"] for m in sent_mail()] == [["grace@example.com"]]
    assert deliver("mail", message) is False
    assert receipts.claim("mail", "evt-grace@example.com", manual_clock.now() + timedelta(days=1)) is None
