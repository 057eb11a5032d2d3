"""The resources of a stage, derived from the code that uses them.

Tables come from the PynamoDB base models (`chalicelib.store.base.TABLES`: keys, GSIs, TTL, streams), the bus
and its rules and queues from the consumer table (`chalicelib.events.consumers`), schedules from the job table
(`chalicelib.jobs`). The local bootstrap, the tests and the deployment template all read this module, so a
resource is declared once, next to the code that needs it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib.core.config import Settings
from chalicelib.events.consumers import CONSUMERS, Consumer
from chalicelib.jobs import JOBS, Job
from chalicelib.store.base import TABLES


@dataclass(frozen=True)
class TableDefinition:
    logical_name: str
    create_args: dict[str, Any]
    ttl_attribute: str | None


@dataclass(frozen=True)
class QueueDefinition:
    consumer: Consumer
    queue_name: str
    dlq_name: str
    rule_name: str | None  # None for task queues: jobs send to them directly, no rule routes events there
    event_pattern: dict[str, Any] | None

    @property
    def fifo(self) -> bool:
        return self.consumer.fifo


def tables(settings: Settings) -> list[TableDefinition]:
    definitions = []
    for spec in TABLES.values():
        schema = spec.model._get_schema()
        attributes = {a["AttributeName"]: a for a in schema["attribute_definitions"]}
        indexes = []
        for index in schema["global_secondary_indexes"]:
            for attribute in index["attribute_definitions"]:
                attributes[attribute["AttributeName"]] = attribute
            indexes.append(
                {
                    "IndexName": index["index_name"],
                    "KeySchema": index["key_schema"],
                    "Projection": index["projection"],
                }
            )
        args: dict[str, Any] = {
            "TableName": settings.table_name(spec.logical_name),
            "KeySchema": schema["key_schema"],
            "AttributeDefinitions": list(attributes.values()),
            "BillingMode": "PAY_PER_REQUEST",
        }
        if indexes:
            args["GlobalSecondaryIndexes"] = indexes
        local_indexes = []
        for index in schema.get("local_secondary_indexes", []):
            for attribute in index["attribute_definitions"]:
                attributes[attribute["AttributeName"]] = attribute
            local_indexes.append(
                {
                    "IndexName": index["index_name"],
                    # DynamoDB wants the partition key first.
                    "KeySchema": sorted(index["key_schema"], key=lambda key: key["KeyType"] != "HASH"),
                    "Projection": index["projection"],
                }
            )
        if local_indexes:
            args["LocalSecondaryIndexes"] = local_indexes
            args["AttributeDefinitions"] = list(attributes.values())
        if spec.stream_view_type:
            args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": spec.stream_view_type}
        definitions.append(TableDefinition(spec.logical_name, args, spec.ttl_attribute))
    return definitions


def queues(settings: Settings) -> list[QueueDefinition]:
    return [
        QueueDefinition(
            consumer=consumer,
            queue_name=consumer.queue_name(settings),
            dlq_name=consumer.dlq_name(settings),
            rule_name=f"{settings.prefix}-to-{consumer.name}" if consumer.fed_by_bus else None,
            event_pattern={"detail-type": list(consumer.event_types)} if consumer.fed_by_bus else None,
        )
        for consumer in CONSUMERS
    ]


def schedules() -> list[Job]:
    return list(JOBS)


def describe(settings: Settings) -> dict[str, Any]:
    """A summary of every resource of the stage (printed by `python -m infra.resources`)."""
    return {
        "tables": [t.create_args["TableName"] for t in tables(settings)],
        "event_bus": settings.event_bus_name,
        "queues": [
            {
                "queue": q.queue_name,
                "dlq": q.dlq_name,
                "rule": q.rule_name,
                "events": list(q.consumer.event_types),
            }
            for q in queues(settings)
        ],
        "schedules": [{"job": j.name, "every_minutes": j.every_minutes} for j in schedules()],
    }


if __name__ == "__main__":
    from chalicelib.core.config import get_settings

    print(json.dumps(describe(get_settings()), indent=2))
