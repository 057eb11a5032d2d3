"""What a rate limit costs (contract README §1.9, docs/data-model.md § ratelimits): one UpdateItem per request,
whichever windows the request counts in, and nothing else of the `ratelimits` table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.core.config import get_settings
from tests.integration.conftest import Api


@pytest.fixture
def ratelimit_calls() -> Iterator[list[str]]:
    """The DynamoDB operations sent to the `ratelimits` table while the test runs, in order."""
    from chalicelib.store.connection import client

    table = get_settings().table_name("ratelimits")
    seen: list[str] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        if params.get("TableName") == table or table in (params.get("RequestItems") or {}):
            seen.append(model.name)

    events = client().meta.events
    events.register("provide-client-params.dynamodb.*", record, unique_id="ratelimit-calls")
    yield seen
    events.unregister("provide-client-params.dynamodb.*", unique_id="ratelimit-calls")


def test_a_default_limited_request_costs_one_update(api: Api, ratelimit_calls: list[str]) -> None:
    token = api.token("test@example.com", "TestPass123@")
    ratelimit_calls.clear()  # the login counted in its own window

    answer = api.get("/api/v1/user/tokens/balance", token=token)

    assert answer.status == 200
    assert ratelimit_calls == ["UpdateItem"]  # the hour and the day counted by the same write
    assert int(answer.headers["x-ratelimit-remaining"]) < int(answer.headers["x-ratelimit-limit"])


def test_an_auth_limited_request_costs_one_update(api: Api, ratelimit_calls: list[str]) -> None:
    answer = api.get("/api/v1/auth/check-email?email=test@example.com")

    assert answer.status == 200
    assert ratelimit_calls == ["UpdateItem"]
    assert answer.headers["x-ratelimit-limit"] == str(get_settings().auth_rate_limit_per_minute)


def test_consecutive_requests_count_up_in_the_same_window(api: Api, ratelimit_calls: list[str]) -> None:
    remaining = [
        int(api.get("/api/v1/tarif-plans").headers["x-ratelimit-remaining"]),
        int(api.get("/api/v1/tarif-plans").headers["x-ratelimit-remaining"]),
    ]

    assert remaining[1] == remaining[0] - 1
    assert ratelimit_calls == ["UpdateItem", "UpdateItem"]
