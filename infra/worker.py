"""The local worker: what EventBridge, SQS triggers and the outbox stream do for Lambda in AWS.

Each round relays pending outbox events to the bus, then drains every consumer queue into the same
`chalicelib.events.dispatch.deliver` the Lambda SQS handlers call. A message whose handler fails stays on its
queue and comes back after the visibility timeout; after `max_receive_count` tries SQS moves it to the DLQ.
"""

from __future__ import annotations

import signal
import sys
import time
from typing import Any

from chalicelib.core.aws import aws_client
from chalicelib.core.config import get_settings
from chalicelib.core.logging import logger
from chalicelib.events.consumers import CONSUMERS
from chalicelib.events.dispatch import deliver
from chalicelib.events.relay import publish_pending

_urls: dict[str, str] = {}


def queue_url(consumer: str) -> str:
    if consumer not in _urls:
        name = get_settings().queue_name(consumer)
        _urls[consumer] = aws_client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
    return _urls[consumer]


def forget_queue_urls() -> None:
    _urls.clear()


def drain_queue(consumer: str, max_messages: int = 10) -> int:
    sqs = aws_client("sqs")
    url = queue_url(consumer)
    handled = 0
    while True:
        response = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=max_messages, WaitTimeSeconds=0)
        messages: list[dict[str, Any]] = response.get("Messages", [])
        if not messages:
            return handled
        for message in messages:
            try:
                deliver(consumer, message["Body"])
            except Exception:
                logger.exception("consumer failed", consumer=consumer, message_id=message.get("MessageId"))
                continue
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            handled += 1


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
