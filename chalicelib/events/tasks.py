"""Work items for task consumers: what a sweep found due, one message per item (issue: sweeps fan out).

A job that finds due work (the subscriptions whose renewal is due, the invoices past their due date) does not do
the work itself: it sends each item as its own task to a task consumer's FIFO queue, so in AWS the work scales with
the consumers and a sweep that crashes half-way loses nothing — what it did not send is still due at the next
sweep. A task is an envelope like an event's (`{"id", "type", "data", …}`): its id names the item *and the due
moment* (`subscription:<id>:<due at>`), which is the queue's deduplication id (a second sweep within five minutes
sends nothing) and the consumer's receipt (a redelivery is applied once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.core import clock
from chalicelib.core.aws import aws_client
from chalicelib.core.config import get_settings
from chalicelib.core.jsontext import dumps
from chalicelib.core.times import iso

SEND_BATCH = 10  # SendMessageBatch's limit


@dataclass(frozen=True)
class Task:
    type: str
    id: str
    group: str  # the FIFO message group: tasks of one item are handled in order, items in parallel
    data: dict[str, Any] = field(default_factory=dict)

    def envelope(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "version": 1,
            "occurred_at": iso(clock.now()),
            "source": "vbwd.tasks",
            "tenant": None,
            "actor": {"type": "system", "id": None},
            "correlation_id": None,
            "data": self.data,
        }


_urls: dict[str, str] = {}


def _queue_url(consumer_name: str) -> str:
    if consumer_name not in _urls:
        # A task consumer's queue is FIFO (`Consumer.fifo`); naming it here keeps the consumer table, whose
        # handlers send tasks, out of this module's imports.
        name = get_settings().queue_name(consumer_name, fifo=True)
        _urls[consumer_name] = aws_client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
    return _urls[consumer_name]


def forget_queue_urls() -> None:
    _urls.clear()


def enqueue(consumer_name: str, tasks: list[Task]) -> int:
    """Send the tasks to the consumer's queue, ten per call; returns how many SQS accepted (a refused one is sent
    again by the next sweep, since its item is still due)."""
    sqs = aws_client("sqs")
    url = _queue_url(consumer_name)
    accepted = 0
    for start in range(0, len(tasks), SEND_BATCH):
        chunk = tasks[start : start + SEND_BATCH]
        entries = [
            {
                "Id": str(n),
                "MessageBody": dumps(task.envelope()),
                "MessageGroupId": task.group,
                "MessageDeduplicationId": task.id[-128:],
            }
            for n, task in enumerate(chunk)
        ]
        response = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        accepted += len(response.get("Successful", []))
    return accepted
