"""A message whose handler keeps failing is retried alone; the rest of its batch is consumed once and deleted.

The same partial-batch processing serves the Lambda SQS handlers (`batchItemFailures`) and the local worker (which
deletes what succeeded and leaves the rest for SQS to redeliver); after the consumer's `max_receive_count` receives,
SQS moves the message to the queue's dead-letter queue.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.core.aws import aws_client
from chalicelib.core.config import get_settings
from chalicelib.events.catalog import UserRegistered
from chalicelib.events.consumers import BY_NAME
from chalicelib.events.dispatch import envelope_of
from chalicelib.events.envelope import Actor, Event
from chalicelib.store.receipts import ReceiptItem
from infra import resources
from infra.worker import drain_queue, queue_url
from tests.integration.conftest import sent_mail

MAIL = BY_NAME["mail"]


@dataclass
class Spy:
    """Counts deliveries per event id, in order, and makes the handler fail for the poisoned ids."""

    poisoned: set[str] = field(default_factory=set)
    deliveries: list[str] = field(default_factory=list)

    def count(self, event_id: str) -> int:
        return self.deliveries.count(event_id)


@pytest.fixture
def spy(aws: None, monkeypatch: pytest.MonkeyPatch) -> Spy:
    from chalicelib.events import dispatch
    from chalicelib.notifications import consumer

    spy = Spy()
    real_deliver, real_handler = dispatch.deliver, consumer.handle_event

    def deliver(consumer_name: str, message_body: str) -> bool:
        try:
            spy.deliveries.append(str(envelope_of(message_body)["id"]))
        except ValueError:
            spy.deliveries.append("<not an event>")
        return real_deliver(consumer_name, message_body)

    def handle_event(envelope: dict[str, Any]) -> None:
        if envelope["id"] in spy.poisoned:
            raise RuntimeError("this message can never be handled")
        real_handler(envelope)

    monkeypatch.setattr(dispatch, "deliver", deliver)
    monkeypatch.setattr(consumer, "handle_event", handle_event)
    return spy


def registrations(count: int) -> list[dict[str, Any]]:
    return [
        Event(
            UserRegistered(user_id=f"u-{n}", email=f"user{n}@example.com", source="self"), Actor.user(f"u-{n}")
        ).envelope()
        for n in range(count)
    ]


def publish(envelopes: list[dict[str, Any]]) -> None:
    """Put the events on the stage's bus; its rule routes them to the mail queue, as in AWS."""
    bus = get_settings().event_bus_name
    entries = [
        {"Source": e["source"], "DetailType": e["type"], "Detail": json.dumps(e), "EventBusName": bus}
        for e in envelopes
    ]
    assert aws_client("events").put_events(Entries=entries)["FailedEntryCount"] == 0


def queue_depth(url: str) -> tuple[int, int]:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = aws_client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return int(attributes[names[0]]), int(attributes[names[1]])


def dead_letters() -> list[dict[str, Any]]:
    sqs = aws_client("sqs")
    [dlq] = [q.dlq_name for q in resources.queues(get_settings()) if q.consumer is MAIL]
    url = sqs.get_queue_url(QueueName=dlq)["QueueUrl"]
    return [envelope_of(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]


def done_receipts(envelopes: list[dict[str, Any]]) -> set[str]:
    keys = [(f"RECEIPT#{MAIL.name}#{e['id']}", "RECEIPT") for e in envelopes]
    return {r.pk.rsplit("#", 1)[1] for r in ReceiptItem.batch_get(keys) if r.status == "DONE"}


def test_the_worker_deletes_the_nine_and_leaves_the_poison_message_for_redelivery(spy: Spy) -> None:
    envelopes = registrations(10)
    poison = envelopes[3]
    spy.poisoned.add(poison["id"])
    publish(envelopes)

    assert drain_queue(MAIL.name) == 9

    good = [e for e in envelopes if e is not poison]
    assert [spy.count(e["id"]) for e in good] == [1] * 9
    assert spy.count(poison["id"]) == 1
    assert sorted(m["to"][0] for m in sent_mail()) == sorted(e["data"]["email"] for e in good)
    assert done_receipts(good) == {e["id"] for e in good}
    # Not deleted: in flight until its visibility timeout runs out, then SQS delivers it again.
    assert queue_depth(queue_url(MAIL.name)) == (0, 1)
    assert drain_queue(MAIL.name) == 0
    assert spy.count(poison["id"]) == 1


def test_a_poison_message_is_retried_alone_until_it_lands_in_the_dead_letter_queue(spy: Spy) -> None:
    # A visibility timeout of 0 makes a failed message visible again at once, so its retries need no waiting.
    aws_client("sqs").set_queue_attributes(QueueUrl=queue_url(MAIL.name), Attributes={"VisibilityTimeout": "0"})
    envelopes = registrations(10)
    poison = envelopes[6]
    spy.poisoned.add(poison["id"])
    publish(envelopes)

    assert drain_queue(MAIL.name) == 9

    assert sorted(spy.deliveries[:10]) == sorted(e["id"] for e in envelopes)  # the first batch: all ten
    assert spy.deliveries[10:] == [poison["id"]] * (MAIL.max_receive_count - 1)  # then the poison alone
    assert len(sent_mail()) == 9
    assert [e["id"] for e in dead_letters()] == [poison["id"]]
    assert queue_depth(queue_url(MAIL.name)) == (0, 0)
    with pytest.raises(ReceiptItem.DoesNotExist):  # its failed claims were released each time
        ReceiptItem.get(f"RECEIPT#{MAIL.name}#{poison['id']}", "RECEIPT")


def test_a_message_that_is_not_an_event_fails_alone(spy: Spy) -> None:
    envelopes = registrations(3)
    publish(envelopes)
    aws_client("sqs").send_message(QueueUrl=queue_url(MAIL.name), MessageBody="{not json")

    assert drain_queue(MAIL.name) == 3
    assert len(sent_mail()) == 3
    assert queue_depth(queue_url(MAIL.name)) == (0, 1)


def sqs_event(client: Client, envelopes: list[dict[str, Any]]) -> dict[str, Any]:
    bodies = [json.dumps({"detail-type": e["type"], "detail": e}) for e in envelopes]
    event = client.events.generate_sqs_event(message_bodies=bodies, queue_name=get_settings().queue_name(MAIL.name))
    for n, record in enumerate(event["Records"]):
        record["messageId"] = f"message-{n}"  # SQS gives every message its own id
    return event


def invoke(event: dict[str, Any], client: Client) -> Any:
    return client.lambda_.invoke(f"consume_{MAIL.name}", event).payload


@pytest.fixture
def lambda_client(spy: Spy) -> Iterator[Client]:
    from app import app

    with Client(app, stage_name="local") as client:
        yield client


def test_the_lambda_handler_reports_only_the_failed_message(spy: Spy, lambda_client: Client) -> None:
    envelopes = registrations(10)
    spy.poisoned.add(envelopes[4]["id"])

    answer = invoke(sqs_event(lambda_client, envelopes), lambda_client)

    assert answer == {"batchItemFailures": [{"itemIdentifier": "message-4"}]}
    assert [spy.count(e["id"]) for e in envelopes] == [1] * 10
    assert len(sent_mail()) == 9


def test_the_lambda_handler_reports_no_failures_and_a_redelivered_batch_mails_nothing_twice(
    spy: Spy, lambda_client: Client
) -> None:
    event = sqs_event(lambda_client, registrations(3))

    assert invoke(event, lambda_client) == {"batchItemFailures": []}
    assert invoke(event, lambda_client) == {"batchItemFailures": []}
    assert len(sent_mail()) == 3


def test_a_batch_that_fails_whole_is_reported_message_by_message(spy: Spy, lambda_client: Client) -> None:
    envelopes = registrations(2)
    spy.poisoned.update(e["id"] for e in envelopes)

    answer = invoke(sqs_event(lambda_client, envelopes), lambda_client)

    assert answer == {"batchItemFailures": [{"itemIdentifier": "message-0"}, {"itemIdentifier": "message-1"}]}
    assert sent_mail() == []
