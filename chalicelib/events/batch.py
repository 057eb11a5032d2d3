"""One SQS batch for one consumer, with partial failures (Powertools' batch utilities).

Each message goes through `dispatch.deliver` on its own; the answer lists the messages that failed as
`{"batchItemFailures": [{"itemIdentifier": <messageId>}, …]}`. With `ReportBatchItemFailures` on the event source
mapping, Lambda deletes the rest of the batch and SQS delivers only the failed messages again, after their
visibility timeout; after the queue's `maxReceiveCount` receives SQS moves a message to the dead-letter queue. The
local worker feeds received messages through the same function and deletes what it did not list.

A batch that fails whole is reported message by message, not raised: the effect on the queue is the same, and the
worker and Lambda read one answer shape. This module is imported by the consumer functions when they first run,
never by `import app`, so Powertools' batch package stays off the API's cold start.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.core.logging import logger
from chalicelib.events import dispatch


def consume_batch(consumer_name: str, event: dict[str, Any]) -> PartialItemFailureResponse:
    """Deliver every record of an SQS event (`{"Records": [...]}`) to the consumer; the failed ones are listed."""

    def handle(record: SQSRecord) -> bool:
        try:
            return dispatch.deliver(consumer_name, record.body)
        except Exception:
            logger.exception(
                "consumer failed",
                consumer=consumer_name,
                message_id=record.message_id,
                receive_count=record.raw_event.get("attributes", {}).get("ApproximateReceiveCount"),
            )
            raise

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event, record_handler=handle, processor=processor)


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The Lambda SQS event for messages as `ReceiveMessage` returns them (with their system attributes)."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": message.get("MessageAttributes", {}),
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


def failed_message_ids(response: PartialItemFailureResponse) -> set[str]:
    return {str(failure["itemIdentifier"]) for failure in response["batchItemFailures"]}
