"""Creates a stage's tables, event bus, rules, queues and mail identity on an AWS endpoint (idempotent).

Used by `make run` against the moto server, by `make bootstrap` against LocalStack, and by the tests against
moto's in-process mock.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from chalicelib.core.config import Settings, get_settings
from infra import resources


def _client(service: str, settings: Settings) -> Any:
    return boto3.client(service, region_name=settings.aws_region, endpoint_url=settings.endpoint_for(service))


def ensure_tables(settings: Settings) -> list[str]:
    dynamodb = _client("dynamodb", settings)
    existing = set(_all_tables(dynamodb))
    created = []
    for table in resources.tables(settings):
        name = table.create_args["TableName"]
        if name not in existing:
            dynamodb.create_table(**table.create_args)
            created.append(name)
    for table in resources.tables(settings):
        name = table.create_args["TableName"]
        dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        if table.ttl_attribute:
            current = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
                dynamodb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
                )
    return created


def _all_tables(dynamodb: Any) -> list[str]:
    names: list[str] = []
    for page in dynamodb.get_paginator("list_tables").paginate():
        names.extend(page["TableNames"])
    return names


def ensure_messaging(settings: Settings) -> None:
    events = _client("events", settings)
    sqs = _client("sqs", settings)
    bus = settings.event_bus_name
    try:
        events.describe_event_bus(Name=bus)
    except events.exceptions.ResourceNotFoundException:
        events.create_event_bus(Name=bus)
    for definition in resources.queues(settings):
        fifo = {"FifoQueue": "true"} if definition.fifo else {}
        dlq_url = sqs.create_queue(QueueName=definition.dlq_name, Attributes=fifo)["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue_url = sqs.create_queue(
            QueueName=definition.queue_name,
            Attributes={
                **fifo,
                "VisibilityTimeout": str(definition.consumer.visibility_timeout_seconds),
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": definition.consumer.max_receive_count}
                ),
            },
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        if definition.rule_name is None:
            continue  # a task queue: the jobs that sweep for due work send to it
        events.put_rule(Name=definition.rule_name, EventBusName=bus, EventPattern=json.dumps(definition.event_pattern))
        events.put_targets(Rule=definition.rule_name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])


def ensure_mail_identity(settings: Settings) -> None:
    """SES only sends from verified identities; the emulators need the sender verified too."""
    _client("ses", settings).verify_email_identity(EmailAddress=settings.mail_from)


def bootstrap(settings: Settings | None = None) -> dict[str, Any]:
    settings = settings or get_settings()
    created = ensure_tables(settings)
    ensure_messaging(settings)
    ensure_mail_identity(settings)
    return {"created_tables": created}


if __name__ == "__main__":
    from infra.local_env import apply_local_environment

    apply_local_environment()
    result = bootstrap(get_settings())
    print(f"Bootstrapped {get_settings().prefix}: {len(result['created_tables'])} tables created")
