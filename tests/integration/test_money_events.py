"""The money path's events survive a crash between commit and publish: the capture is committed with its
events, the bus is down when the relay runs, and the receipt still reaches the buyer once the bus is back."""

from __future__ import annotations

import pytest

from chalicelib.core.ids import seed_id
from chalicelib.events import relay
from chalicelib.events.outbox import OutboxItem
from tests.integration.conftest import Api, drain_events, outbox_events, sent_mail

EMAIL = "grace@example.com"


def paid_invoice(api: Api) -> dict:
    registered = api.post("/api/v1/auth/register", {"email": EMAIL, "password": "Abcdef1!"})
    assert registered.status == 200, registered.json
    token = registered.json["token"]
    body = {
        "plan_id": seed_id("plan", "basic"),
        "token_bundle_ids": [seed_id("bundle", "100 Tokens")],
        "payment_method_code": "sandbox",
    }
    bought = api.post("/api/v1/user/checkout", body, token=token)
    assert bought.status == 201, bought.json
    paid = api.post(f"/api/v1/user/invoices/{bought.json['invoice']['id']}/pay", {}, token=token)
    assert paid.status == 200, paid.json
    return paid.json["invoice"]  # type: ignore[no-any-return]


def unpublished_types() -> set[str]:
    items = [i for i in OutboxItem.scan() if isinstance(i, OutboxItem) and i.published_at is None]
    return {event_type for item in items for event_type in item.event_types}


def test_the_receipt_arrives_after_the_bus_was_down_at_capture(fresh_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    invoice = paid_invoice(fresh_api)

    def bus_down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("EventBridge unreachable")

    monkeypatch.setattr(relay, "_put_events", bus_down)
    with pytest.raises(ConnectionError):
        relay.publish_pending()
    monkeypatch.undo()
    assert {"invoice.paid", "subscription.activated", "tokens.credited"} <= unpublished_types()
    assert sent_mail() == []

    drain_events()

    assert unpublished_types() == set()
    receipts = [m for m in sent_mail() if m["subject"] == f"Receipt for invoice {invoice['invoice_number']}"]
    assert len(receipts) == 1
    assert receipts[0]["to"] == [EMAIL]
    assert list(receipts[0]["attachments"]) == [f"invoice-{invoice['invoice_number']}.pdf"]
    assert len(outbox_events("invoice.paid")) == 1
    drain_events()  # a second pass delivers nothing again
    assert len([m for m in sent_mail() if m["subject"].startswith("Receipt")]) == 1
