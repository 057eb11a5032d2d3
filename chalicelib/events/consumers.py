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
    """A queue and the handler that drains it.

    Event consumers (`fed_by_bus`) hear the domain events of `event_types` through an EventBridge rule. Task
    consumers are fed directly by the jobs that sweep for due work (`chalicelib.events.tasks.enqueue`): their queue is
    FIFO, one message group per item and the task id as deduplication id, so a sweep that finds the same due item
    twice within five minutes sends it once; receipts (`chalicelib.store.receipts`) make a redelivery a no-op.
    """

    name: str
    event_types: tuple[str, ...]
    handler: str
    max_receive_count: int = 5
    visibility_timeout_seconds: int = 60
    fed_by_bus: bool = True

    @property
    def fifo(self) -> bool:
        return not self.fed_by_bus

    def queue_name(self, settings: Any) -> str:
        return str(settings.queue_name(self.name, fifo=self.fifo))

    def dlq_name(self, settings: Any) -> str:
        return str(settings.queue_name(f"{self.name}-dlq", fifo=self.fifo))

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
            "subscription.trial_will_end",
            "subscription.payment_failed",
            "subscription.expired",
            "refund.reversed",
            "payment.disputed",
            "payment.orphaned",
            "payment.amount_mismatch",
        ),
        handler="chalicelib.notifications.consumer:handle_event",
    ),
    Consumer(
        name="access-levels",
        event_types=(  # chalicelib.access.service.EVENT_TYPES (not imported: this table stays cheap to import)
            "subscription.activated",
            "subscription.cancelled",
            "subscription.downgraded",
            "subscription.expired",
            "subscription.plan_changed",
            "subscription.renewed",
            "subscription.upgraded",
        ),
        handler="chalicelib.access.consumer:handle_event",
    ),
    Consumer(
        name="analytics",
        event_types=(  # chalicelib.analytics.consumer.EVENT_TYPES (not imported: this table stays cheap to import)
            "user.registered",
            "invoice.created",
            "invoice.paid",
            "invoice.voided",
            "invoice.refunded",
            "credit_note.created",
            "subscription.created",
            "subscription.trial_started",
            "subscription.activated",
            "subscription.renewed",
            "subscription.upgraded",
            "subscription.downgraded",
            "subscription.plan_changed",
            "subscription.cancelled",
            "subscription.cancellation_scheduled",
            "subscription.reactivated",
            "subscription.expired",
            "subscription.paused",
            "subscription.resumed",
            "subscription.past_due",
            "subscription.extended",
            "addon.activated",
            "addon.cancelled",
            "addon.renewed",
            "addon.expired",
            "tokens.credited",
            "tokens.debited",
            "user.deleted",
            "invoice.released",
            "refund.reversed",
        ),
        handler="chalicelib.analytics.consumer:handle_event",
    ),
    Consumer(
        name="activity",
        event_types=(  # every event of chalicelib.events.catalog (a test holds the two lists together)
            "user.registered",
            "user.updated",
            "user.password_reset_requested",
            "user.password_changed",
            "auth.login_failed",
            "auth.locked",
            "auth.logout",
            "auth.refresh_reuse_detected",
            "tokens.credited",
            "tokens.debited",
            "invoice.created",
            "invoice.paid",
            "invoice.authorized",
            "invoice.voided",
            "invoice.payment_failed",
            "invoice.refunded",
            "credit_note.created",
            "payment.captured",
            "payment.authorized",
            "payment.refunded",
            "payment.failed",
            "payment.disputed",
            "payment.orphaned",
            "payment.amount_mismatch",
            "subscription.created",
            "subscription.trial_started",
            "subscription.activated",
            "subscription.cancelled",
            "subscription.trial_will_end",
            "subscription.renewal_upcoming",
            "subscription.renewed",
            "subscription.upgraded",
            "subscription.downgrade_scheduled",
            "subscription.downgraded",
            "subscription.plan_changed",
            "subscription.cancellation_scheduled",
            "subscription.reactivated",
            "subscription.expired",
            "subscription.paused",
            "subscription.resumed",
            "subscription.payment_failed",
            "subscription.past_due",
            "subscription.extended",
            "addon.activated",
            "addon.cancellation_scheduled",
            "addon.cancelled",
            "addon.renewed",
            "addon.expired",
            "admin.impersonation_started",
            "invoice.released",
            "invoice.resent",
            "plugin.disabled",
            "plugin.enabled",
            "refund.reversed",
            "settings.updated",
            "user.activated",
            "user.deleted",
            "user.suspended",
        ),
        handler="chalicelib.activity.consumer:handle_event",
    ),
    # Fed by the `subscription-lifecycle` sweep: one task per due item (chalicelib.lifecycle).
    Consumer(
        name="lifecycle-steps",
        event_types=("lifecycle.step_due",),
        handler="chalicelib.lifecycle.steps:handle",
        fed_by_bus=False,
    ),
    # Fed by the provider webhook routes: one task per stored provider webhook (chalicelib.payments.inbox).
    Consumer(
        name="provider-webhooks",
        event_types=("payment.webhook_received",),
        handler="chalicelib.payments.inbox:handle",
        fed_by_bus=False,
    ),
    # Fed by the `invoice-housekeeping` sweep: one task per overdue unpaid checkout (chalicelib.housekeeping).
    Consumer(
        name="invoice-expiry",
        event_types=("invoice.expiry_due",),
        handler="chalicelib.housekeeping.invoices:handle",
        fed_by_bus=False,
    ),
)

BY_NAME = {consumer.name: consumer for consumer in CONSUMERS}
