"""The local worker: what EventBridge, SQS triggers and the outbox stream do for Lambda in AWS.

Each round relays pending outbox events to the bus, then drains every consumer queue through the same partial-batch
processing the Lambda SQS handlers run (`chalicelib.events.batch.consume_batch`). The messages it reports as
failed are not deleted: they come back after the queue's visibility timeout, and after the consumer's
`max_receive_count` receives SQS moves them to the dead-letter queue.
"""

from __future__ import annotations

import signal
import sys
import time
from typing import Any

from chalicelib.core.aws import aws_client
from chalicelib.core.config import get_settings
from chalicelib.core.logging import logger
from chalicelib.events.batch import consume_batch, failed_message_ids, sqs_event
from chalicelib.events.consumers import BY_NAME, CONSUMERS
from chalicelib.events.relay import publish_pending

_queues: dict[str, tuple[str, str]] = {}


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
    result = {"published": publish_pending()["published"]}
    for consumer in CONSUMERS:
        result[consumer.name] = drain_queue(consumer.name)
    return result


def run_forever(idle_sleep: float = 0.3) -> None:
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    logger.info("worker started", consumers=[c.name for c in CONSUMERS])
    while not stopping:
        try:
            done = drain_once()
        except Exception:
            logger.exception("worker round failed")
            done = {}
        if not any(done.values()):
            time.sleep(idle_sleep)
    logger.info("worker stopped")


if __name__ == "__main__":
    from infra.local_env import apply_local_environment

    apply_local_environment()
    run_forever()
    sys.exit(0)
