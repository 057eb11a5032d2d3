"""Delivering what the queues hold on this machine: what EventBridge, SQS triggers and the outbox stream do for
Lambda in AWS, done by a process of the local stack.

The local worker (`infra/worker.py`) runs `drain_once` in a loop; the local stage's `POST /admin/dev/jobs/<job>/run`
runs a job and then `settle`s, so its answer comes after the consumers it set going have finished. Each round relays
pending outbox events to the bus, then drains every consumer queue — event consumers and task consumers — through
the same partial-batch processing the Lambda SQS handlers run (`chalicelib.events.batch.consume_batch`). Messages
reported as failed are not deleted: they come back after the queue's visibility timeout, and after the consumer's
`max_receive_count` receives SQS moves them to the dead-letter queue.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from chalicelib.core.aws import aws_client
from chalicelib.core.config import get_settings
from chalicelib.core.logging import logger
from chalicelib.events.consumers import BY_NAME, CONSUMERS

_queues: dict[str, tuple[str, str]] = {}
IN_QUEUE = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


def queue_url(consumer: str) -> str:
    return _queue(consumer)[0]


def _queue(consumer: str) -> tuple[str, str]:
    """The URL and ARN of a consumer's queue."""
    if consumer not in _queues:
        sqs = aws_client("sqs")
        url = sqs.get_queue_url(QueueName=BY_NAME[consumer].queue_name(get_settings()))["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        _queues[consumer] = (url, arn)
    return _queues[consumer]


def forget_queue_urls() -> None:
    _queues.clear()


def drain_queue(consumer: str, max_messages: int = 10) -> int:
    """Consume what the queue holds, a batch at a time, as Lambda would; returns how many messages were deleted."""
    from chalicelib.events.batch import consume_batch, failed_message_ids, sqs_event

    sqs = aws_client("sqs")
    url, arn = _queue(consumer)
    deleted = 0
    while True:
        response = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=max_messages, WaitTimeSeconds=0, AttributeNames=["All"]
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        if not messages:
            return deleted
        failed = failed_message_ids(consume_batch(consumer, sqs_event(messages, arn, get_settings().aws_region)))
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)]
            result = sqs.delete_message_batch(QueueUrl=url, Entries=entries)
            for failure in result.get("Failed", []):
                logger.warning("message not deleted", consumer=consumer, error=failure.get("Code"))
            deleted += len(done) - len(result.get("Failed", []))


def drain_once() -> dict[str, int]:
    """Relay the outbox, then run every consumer over what its queue holds. Returns what was done."""
    from chalicelib.events.relay import publish_pending

    result = {"published": publish_pending()["published"]}
    for consumer in CONSUMERS:
        result[consumer.name] = drain_queue(consumer.name)
    return result


def in_queues() -> int:
    """Messages still waiting in, or taken from and not yet deleted from, any consumer queue (SQS's approximate
    counts: exact on the local emulators)."""
    sqs = aws_client("sqs")
    waiting = 0
    for consumer in CONSUMERS:
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url(consumer.name), AttributeNames=list(IN_QUEUE))
        waiting += sum(int(attributes["Attributes"].get(name, 0)) for name in IN_QUEUE)
    return waiting


def settle(timeout_seconds: float = 20.0, pause_seconds: float = 0.1) -> dict[str, int]:
    """Drain until nothing is left to do: no outbox event to relay, and no message in a consumer queue — neither
    waiting nor in the hands of another drainer (the local worker runs beside the API and may hold some). What the
    consumers do can emit events or tasks of its own; they are delivered too. Returns the counts of every round
    together; `unsettled` (the messages still in the queues) is there when `timeout_seconds` passed first, e.g.
    because a failing message waits out its visibility timeout."""
    totals: Counter[str] = Counter()
    deadline = time.monotonic() + timeout_seconds
    while True:
        done = drain_once()
        totals.update(done)
        if not any(done.values()):
            waiting = in_queues()
            if not waiting:
                break
            if time.monotonic() >= deadline:
                totals["unsettled"] = waiting
                break
            time.sleep(pause_seconds)
        elif time.monotonic() >= deadline:
            totals["unsettled"] = in_queues()
            break
    return {name: totals[name] for name in ("published", *(c.name for c in CONSUMERS), "unsettled") if name in totals}
