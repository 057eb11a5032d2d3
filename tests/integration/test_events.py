"""Events are written with the state they describe, published at least once, and consumed once per consumer."""

from __future__ import annotations

import json

import pytest

from chalicelib.core.aws import aws_client
from chalicelib.events import relay
from chalicelib.events.dispatch import deliver
from chalicelib.store.outbox import OutboxItem
from infra.worker import drain_queue, queue_url
from tests.integration.conftest import Api, drain_events, publish_while_the_bus_is_down, sent_mail


def outbox_items() -> list[OutboxItem]:
    return [item for item in OutboxItem.scan() if isinstance(item, OutboxItem)]


def register(api: Api, email: str) -> dict:
    answer = api.post("/api/v1/auth/register", {"email": email, "password": "Abcdef1!"})
    assert answer.status == 200, answer.json
    return answer.json


def test_the_event_is_committed_with_the_state_and_has_the_contract_envelope(fresh_api: Api) -> None:
    body = register(fresh_api, "ada@example.com")
    [item] = [i for i in outbox_items() if "user.registered" in i.event_types]
    [envelope] = item.envelopes
    assert set(envelope) == {
        "id",
        "type",
        "version",
        "occurred_at",
        "source",
        "tenant",
        "actor",
        "correlation_id",
        "data",
    }
    assert envelope["type"] == "user.registered" and envelope["source"] == "vbwd.users" and envelope["version"] == 1
    assert envelope["actor"] == {"type": "user", "id": body["user_id"]}
    assert envelope["data"] == {"user_id": body["user_id"], "email": "ada@example.com", "source": "self"}
    assert envelope["occurred_at"].endswith("Z") and envelope["tenant"] is None
    assert envelope["correlation_id"]  # the request id of the request that caused it
    assert item.published_at is None and item.gsi1pk.startswith("PENDING#")


def test_a_refused_transaction_emits_nothing(fresh_api: Api) -> None:
    register(fresh_api, "ada@example.com")
    answer = fresh_api.post("/api/v1/auth/register", {"email": "ADA@example.com", "password": "Abcdef1!"})
    assert answer.status == 400
    assert len([i for i in outbox_items() if "user.registered" in i.event_types]) == 1


def test_a_crash_between_commit_and_publish_loses_nothing(fresh_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    register(fresh_api, "ada@example.com")
    publish_while_the_bus_is_down(monkeypatch)
    assert all(item.published_at is None for item in outbox_items())
    assert drain_events()["mail"] == 1
    assert [m["subject"] for m in sent_mail()] == ["Welcome to VBWD"]
    assert all(item.published_at is not None for item in outbox_items())
    assert relay.publish_pending() == {"pending": 0, "published": 0}


def test_a_duplicate_delivery_sends_one_mail(fresh_api: Api) -> None:
    register(fresh_api, "ada@example.com")
    relay.publish_pending()
    sqs = aws_client("sqs")
    [message] = sqs.receive_message(QueueUrl=queue_url("mail"), MaxNumberOfMessages=10)["Messages"]
    assert deliver("mail", message["Body"]) is True
    assert deliver("mail", message["Body"]) is False
    assert len(sent_mail()) == 1


def test_events_a_consumer_does_not_want_are_ignored(fresh_api: Api) -> None:
    envelope = {"id": "e-1", "type": "user.updated", "data": {}}
    assert deliver("mail", json.dumps({"detail": envelope})) is False
    assert sent_mail() == []


def test_a_failing_consumer_releases_its_claim_so_redelivery_retries(
    fresh_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(fresh_api, "ada@example.com")
    relay.publish_pending()
    from chalicelib.notifications import consumer

    def ses_down(*args: object, **kwargs: object) -> None:
        raise RuntimeError("SES throttled")

    monkeypatch.setattr(consumer, "send_email", ses_down)
    sqs = aws_client("sqs")
    # Received with no visibility timeout, as if the first attempt's timeout had already run out.
    [message] = sqs.receive_message(QueueUrl=queue_url("mail"), VisibilityTimeout=0)["Messages"]
    with pytest.raises(RuntimeError, match="SES throttled"):
        deliver("mail", message["Body"])
    monkeypatch.undo()
    assert drain_queue("mail") == 1
    assert [m["subject"] for m in sent_mail()] == ["Welcome to VBWD"]
