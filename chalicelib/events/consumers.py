"""Which consumer hears which events (contract events.md §2).

Each consumer gets an EventBridge rule on the bus and its own SQS queue with a dead-letter queue (built by
`infra/` from this table); the same handler runs under Lambda (`app.on_sqs_message`) and in the local worker.
Handlers are named by dotted path so that importing this table stays cheap on a cold start.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Handler = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Consumer:
    name: str
    event_types: tuple[str, ...]
    handler: str
    max_receive_count: int = 5
    visibility_timeout_seconds: int = 60

    def load(self) -> Handler:
        module_name, function_name = self.handler.split(":")
        handler: Handler = getattr(importlib.import_module(module_name), function_name)
        return handler


CONSUMERS: tuple[Consumer, ...] = (
    Consumer(
        name="mail",
        event_types=(
            "user.registered",
            "user.password_reset_requested",
            "user.password_changed",
            "auth.locked",
            "auth.refresh_reuse_detected",
            "invoice.paid",
            "invoice.created",
        ),
        handler="chalicelib.notifications.consumer:handle_event",
    ),
)

BY_NAME = {consumer.name: consumer for consumer in CONSUMERS}
