"""VBWD Serverless — the Chalice app: blueprints, queue consumers and schedules. No logic lives here."""

from __future__ import annotations

import os
from typing import Any

from chalice import Rate

from chalicelib.admin_billing.routes import bp as admin_billing_routes
from chalicelib.admin_catalog.routes import bp as admin_catalog_routes
from chalicelib.admin_settings.routes import bp as admin_settings_routes
from chalicelib.admin_users.routes import bp as admin_user_routes
from chalicelib.analytics.routes import bp as analytics_routes
from chalicelib.apidocs.routes import bp as apidocs_routes
from chalicelib.auth.routes import bp as auth_routes
from chalicelib.catalog.routes import bp as catalog_routes
from chalicelib.checkout.routes import bp as checkout_routes
from chalicelib.core.config import get_settings
from chalicelib.dev.routes import bp as dev_routes
from chalicelib.email_templates.routes import bp as email_template_routes
from chalicelib.events.consumers import CONSUMERS
from chalicelib.health.routes import bp as health_routes
from chalicelib.health.routes import register_root
from chalicelib.http.platform import create_app
from chalicelib.invoices.routes import bp as invoice_routes
from chalicelib.jobs import JOBS
from chalicelib.payments.routes import bp as payment_routes
from chalicelib.subscriptions.routes import bp as subscription_routes
from chalicelib.tokens.routes import bp as token_routes
from chalicelib.usage.routes import bp as usage_routes
from chalicelib.users.routes import bp as user_routes

settings = get_settings()  # refuses to start (prod) with default secrets

app = create_app(
    "vbwd-serverless",
    [
        health_routes,
        auth_routes,
        user_routes,
        catalog_routes,
        checkout_routes,
        invoice_routes,
        subscription_routes,
        token_routes,
        usage_routes,
        payment_routes,
        email_template_routes,
        analytics_routes,
        admin_catalog_routes,
        admin_billing_routes,
        admin_user_routes,
        admin_settings_routes,
        dev_routes,
        apidocs_routes,
    ],
    root=register_root,
)


def _exported(name: str, function: Any) -> Any:
    """Named as Lambda will look it up: Chalice writes the handler as `app.<__name__>`, so `app.<name>` must exist."""
    function.__name__ = function.__qualname__ = name
    return function


def _consumer(name: str) -> Any:
    def consume(event: Any) -> Any:
        """One SQS batch; only the messages listed in `batchItemFailures` come back (ReportBatchItemFailures)."""
        from chalicelib.events.batch import consume_batch

        return consume_batch(name, event.to_dict())

    return _exported(f"consume_{name}", consume)


for _c in CONSUMERS:
    _handler = _consumer(_c.name)
    globals()[_handler.__name__] = app.on_sqs_message(
        queue=_c.queue_name(settings), batch_size=10, name=_handler.__name__
    )(_handler)


def _job(name: str) -> Any:
    def run_job(event: Any) -> dict[str, Any]:
        from chalicelib.jobs import run

        return run(name)

    return _exported(f"job_{name.replace('-', '_')}", run_job)


if settings_stream := os.environ.get("OUTBOX_STREAM_ARN"):
    # In AWS the outbox table's stream relays each event as soon as its transaction commits.
    @app.on_dynamodb_record(stream_arn=settings_stream, batch_size=100, name="outbox_stream_relay")
    def relay_outbox_stream(event: Any) -> None:
        from chalicelib.events.relay import publish_stream_records

        publish_stream_records(event)


for _j in JOBS:
    _handler = _job(_j.name)
    globals()[_handler.__name__] = app.schedule(Rate(_j.every_minutes, unit=Rate.MINUTES), name=_handler.__name__)(
        _handler
    )
