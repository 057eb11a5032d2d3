"""The `access-levels` consumer (events.md §1; subscriptions.md §5.3). Delivery is at least once: the consumer
receipt (`chalicelib.events.dispatch`) makes a redelivery a no-op, and the decision is made from the state found
now, so events handled out of order still leave the levels the subscriptions call for."""

from __future__ import annotations

from typing import Any

from chalicelib.access import service


def handle_event(envelope: dict[str, Any]) -> None:
    service.apply(str(envelope["type"]), dict(envelope.get("data") or {}))
