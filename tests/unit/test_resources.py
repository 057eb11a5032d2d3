"""The stage's resources are derived from the code; these tests keep the derivation honest."""

from chalicelib.core.config import Settings
from chalicelib.events import catalog as event_catalog
from chalicelib.events.consumers import CONSUMERS
from chalicelib.events.envelope import EventData
from chalicelib.jobs import JOBS
from chalicelib.notifications.consumer import MAILS
from infra import resources

SETTINGS = Settings.from_environ({"VBWD_STAGE": "dev", "JWT_SECRET": "d" * 40, "PAYMENT_WEBHOOK_SECRETS": "w" * 40})


def test_every_table_of_the_data_model_is_created_with_string_keys_and_on_demand_billing() -> None:
    tables = {t.logical_name: t.create_args for t in resources.tables(SETTINGS)}
    assert set(tables) == {
        "users",
        "auth",
        "catalog",
        "subscriptions",
        "invoices",
        "ledger",
        "counters",
        "idempotency",
        "provider-events",
        "outbox",
        "webhooks",
        "analytics",
        "booking",
        "ratelimits",
        "notifications",
    }
    for name, args in tables.items():
        assert args["TableName"] == f"vbwd-dev-{name}"
        assert args["KeySchema"] == [
            {"KeyType": "HASH", "AttributeName": "pk"},
            {"KeyType": "RANGE", "AttributeName": "sk"},
        ]
        assert args["BillingMode"] == "PAY_PER_REQUEST"
        names = {a["AttributeName"] for a in args["AttributeDefinitions"]}
        for index in args.get("GlobalSecondaryIndexes", []):
            assert {k["AttributeName"] for k in index["KeySchema"]} <= names


def test_ephemeral_tables_expire_items_and_the_outbox_streams() -> None:
    ttl = {t.logical_name for t in resources.tables(SETTINGS) if t.ttl_attribute == "ttl"}
    assert {"auth", "idempotency", "ratelimits", "outbox", "provider-events", "notifications"} <= ttl
    assert "ledger" not in ttl and "invoices" not in ttl
    outbox = next(t for t in resources.tables(SETTINGS) if t.logical_name == "outbox")
    assert outbox.create_args["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}


def test_each_consumer_has_a_queue_a_dead_letter_queue_and_a_rule() -> None:
    queues = resources.queues(SETTINGS)
    assert [q.consumer.name for q in queues] == [c.name for c in CONSUMERS]
    for queue in queues:
        if not queue.consumer.fed_by_bus:  # a task queue: FIFO, fed by its sweep, no rule on the bus
            assert (queue.queue_name, queue.dlq_name) == (
                f"vbwd-dev-{queue.consumer.name}.fifo",
                f"vbwd-dev-{queue.consumer.name}-dlq.fifo",
            )
            assert (queue.rule_name, queue.event_pattern) == (None, None)
            continue
        assert queue.queue_name == f"vbwd-dev-{queue.consumer.name}"
        assert queue.dlq_name == f"{queue.queue_name}-dlq"
        assert queue.event_pattern == {"detail-type": list(queue.consumer.event_types)}


def test_consumers_only_listen_to_events_that_exist_and_the_mail_consumer_can_render_them() -> None:
    known = {
        cls.TYPE
        for cls in vars(event_catalog).values()
        if isinstance(cls, type) and issubclass(cls, EventData) and "TYPE" in vars(cls)
    }
    for consumer in CONSUMERS:
        if consumer.fed_by_bus:  # task consumers hear the task types their sweeps send, not domain events
            assert set(consumer.event_types) <= known
        consumer.load()
    mail = next(c for c in CONSUMERS if c.name == "mail")
    assert set(mail.event_types) == set(MAILS)


def test_jobs_resolve_to_functions() -> None:
    for job in JOBS:
        assert callable(job.load())
    assert resources.describe(SETTINGS)["schedules"] == [
        {"job": "outbox-relay", "every_minutes": 1},
        {"job": "subscription-lifecycle", "every_minutes": 1},
        {"job": "invoice-housekeeping", "every_minutes": 60},
        {"job": "analytics-snapshot", "every_minutes": 1440},
    ]


def test_events_that_carry_secrets_are_not_for_outbound_webhooks() -> None:
    assert event_catalog.PasswordResetRequested.WEBHOOK is False
    assert event_catalog.UserRegistered.WEBHOOK is True
