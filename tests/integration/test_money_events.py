"""The money path's events survive a crash between commit and publish: the capture is committed with its
events, the bus is down when the relay runs, and the receipt still reaches the buyer once the bus is back."""

from __future__ import annotations

import pytest

from chalicelib.store.outbox import OutboxItem
from tests.integration.buyers import buy_basic_and_tokens, paid, register_buyer
from tests.integration.conftest import Api, drain_events, outbox_events, publish_while_the_bus_is_down, sent_mail


def unpublished_types() -> set[str]:
    items = [i for i in OutboxItem.scan() if isinstance(i, OutboxItem) and i.published_at is None]
    return {event_type for item in items for event_type in item.event_types}


def receipts() -> list[dict]:
    return [m for m in sent_mail() if m["subject"].startswith("Receipt for invoice")]


def test_the_receipt_arrives_after_the_bus_was_down_at_capture(fresh_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    buyer = register_buyer(fresh_api, "outage")
    bought = buy_basic_and_tokens(fresh_api, buyer.token, payment_method_code="sandbox")
    invoice = paid(fresh_api, buyer.token, bought["invoice"]["id"])["invoice"]

    publish_while_the_bus_is_down(monkeypatch)
    assert {"invoice.paid", "subscription.activated", "tokens.credited"} <= unpublished_types()
    assert sent_mail() == []

    drain_events()

    assert unpublished_types() == set()
    [receipt] = receipts()
    assert receipt["subject"] == f"Receipt for invoice {invoice['invoice_number']}"
    assert receipt["to"] == [buyer.email]
    assert list(receipt["attachments"]) == [f"invoice-{invoice['invoice_number']}.pdf"]
    assert len(outbox_events("invoice.paid")) == 1
    drain_events()  # a second pass delivers nothing again
    assert len(receipts()) == 1
