"""Integration fixtures: requests go through chalice.test.Client to the real app on moto."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from chalice.test import Client

from tests.schema_check import check_answer


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class Api:
    """A small HTTP helper over chalice.test.Client: JSON in, `Answer` out."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | str | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        sent = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body)
            sent.setdefault("Content-Type", "application/json")
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        response = self.client.http.request(method, path, headers=sent, body=body or b"")
        answer = Answer(response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.body)
        check_answer(method, path, answer.status, answer.headers.get("content-type", ""), answer.body)
        return answer

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json_body: Any = None, **kwargs: Any) -> Answer:
        return self.request("POST", path, json_body=json_body, **kwargs)

    def put(self, path: str, json_body: Any = None, **kwargs: Any) -> Answer:
        return self.request("PUT", path, json_body=json_body, **kwargs)

    def login(self, email: str, password: str) -> dict[str, Any]:
        answer = self.post("/api/v1/auth/login", {"email": email, "password": password})
        assert answer.status == 200, answer.json
        return answer.json  # type: ignore[no-any-return]

    def token(self, email: str, password: str) -> str:
        return str(self.login(email, password)["token"])


@pytest.fixture(scope="module")
def api(stack: dict[str, object]) -> Iterator[Api]:
    """The app on the module's shared seeded account."""
    from app import app

    with Client(app, stage_name="local") as client:
        yield Api(client)


@pytest.fixture
def fresh_api(seeded: dict[str, object]) -> Iterator[Api]:
    """The app on a seeded account of its own (tests that change shared state)."""
    from app import app

    with Client(app, stage_name="local") as client:
        yield Api(client)


@pytest.fixture
def empty_api(aws: None) -> Iterator[Api]:
    """The app on an account with tables but no seed data."""
    from app import app

    with Client(app, stage_name="local") as client:
        yield Api(client)


def drain_events() -> dict[str, int]:
    """Run what the worker does once: relay the outbox, then every consumer over its queue."""
    from infra.worker import drain_once

    return drain_once()


def publish_while_the_bus_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the relay while EventBridge refuses every call (the crash between commit and publish)."""
    from chalicelib.events import relay

    def bus_down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("EventBridge unreachable")

    monkeypatch.setattr(relay, "_put_events", bus_down)
    with pytest.raises(ConnectionError):
        relay.publish_pending()
    monkeypatch.undo()


def password_change_notice(user_id: str, email: str, via: str) -> str:
    """Assert the one `user.password_changed` event of the user and the one notice mailed for it; its body."""
    events = [e["data"] for e in outbox_events("user.password_changed")]
    assert [e for e in events if e["user_id"] == user_id] == [{"user_id": user_id, "via": via}]
    drain_events()
    notices = [m for m in sent_mail() if m["to"] == [email] and m["subject"] == "Your password was changed"]
    assert len(notices) == 1
    return str(notices[0]["body"])


def outbox_events(event_type: str | None = None) -> list[dict[str, Any]]:
    """Every event envelope written to the outbox (of one type when given), oldest first."""
    from chalicelib.store.outbox import OutboxItem

    items = sorted((i for i in OutboxItem.scan() if isinstance(i, OutboxItem)), key=lambda i: i.created_at)
    envelopes = [envelope for item in items for envelope in item.envelopes]
    return [e for e in envelopes if event_type is None or e["type"] == event_type]


def sent_mail() -> list[dict[str, Any]]:
    """Every message SES accepted in this moto account, oldest first."""
    from moto.backends import get_backend

    backend = get_backend("ses")["123456789012"]["us-east-1"]
    return [_mail(message) for message in backend.sent_messages]


def _mail(message: Any) -> dict[str, Any]:
    """A sent message as `{to, subject, body, attachments: {filename: bytes}}` (plain or raw MIME)."""
    if not hasattr(message, "raw_data"):
        to = list(message.destinations.get("ToAddresses", []))
        return {"to": to, "subject": message.subject, "body": message.body, "attachments": {}}
    from email import message_from_string, policy

    parsed = message_from_string(message.raw_data, policy=policy.default)
    body = parsed.get_body(preferencelist=("plain",))
    attachments = {part.get_filename(): part.get_content() for part in parsed.iter_attachments()}
    return {
        "to": list(dict.fromkeys(message.destinations)),  # moto lists the recipients of header and envelope
        "subject": str(parsed["Subject"]),
        "body": body.get_content() if body else "",
        "attachments": attachments,
    }


USER = ("test@example.com", "TestPass123@")
ADMIN = ("admin@example.com", "AdminPass123@")


@pytest.fixture
def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make each emulated DynamoDB call atomic, as the real service is (for tests that race threads).

    moto applies a TransactWriteItems item by item and rolls a failed one back by restoring deep copies of whole
    tables, so transactions of concurrent threads interleave, undo each other's writes or crash while copying —
    none of which DynamoDB does. Serializing moto's DynamoDB calls restores per-call atomicity; the races of the
    application itself (a read, then a conditional write, from many threads) are untouched.
    """
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()
    original = DynamoHandler.call_action

    def call_action(self: DynamoHandler) -> Any:
        with lock:
            return original(self)

    monkeypatch.setattr(DynamoHandler, "call_action", call_action)


def at_once(count: int, call: Callable[[int], Any]) -> list[Any]:
    """Run `call(0)` … `call(count - 1)` on as many threads at once.

    chalice.test swaps `os.environ` for a copy holding the Chalice stage's variables during each request and puts
    back whatever it found; overlapping requests can put back another request's copy, so the process environment
    we started with is restored afterwards.
    """
    environ = os.environ
    try:
        with ThreadPoolExecutor(max_workers=count) as pool:
            return list(pool.map(call, range(count)))
    finally:
        os.environ = environ  # noqa: B003 — undo the swap chalice.test made; the object is the original one


@pytest.fixture(scope="module")
def provider_emulators(api: Api) -> Iterator[dict[str, Any]]:
    """The Stripe, PayPal and YooKassa emulators of a module, their webhooks delivered to its app."""
    from tests.integration.hosted import emulators

    with emulators(api) as running:
        yield running


@pytest.fixture
def providers(provider_emulators: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The app's providers pointed at the module's emulators, each emulator back to accepting everything."""
    from tests.integration.hosted import configure, outage, set_declining

    configure(monkeypatch, provider_emulators)
    for emulated in provider_emulators.values():
        emulated.emulator.flush()  # nothing left over from another test
        set_declining(emulated, False)
        outage(emulated, 0)
    return provider_emulators
