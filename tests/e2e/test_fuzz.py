"""The fuzz tier: schemathesis generates requests from the published OpenAPI document and sends them to the running
`make run` stack.

Every answer must be a documented status with a body that matches its documented schema (errors: JSON
`{"error": …}`), and none may be a server error. Requests are sent with a customer's token on user routes and an
admin's on admin routes. The run is bounded: `FUZZ_EXAMPLES` examples per operation and generation mode
(default 12 over the ~270 operations, ≥ 3,000 requests in all; `make fuzz` raises it), and the last test asserts
how many requests were sent and that none answered 5xx.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis import checks as st_checks

from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
MINIMUM_REQUESTS = int(os.environ.get("FUZZ_MINIMUM_REQUESTS", "3000"))
CUSTOMER = ("user.pro@demo.local", "DemoPass123!")
ADMIN = ("admin@example.com", "AdminPass123@")
# Operations that would end the fuzzer's own session: sent without the session's token.
WITHOUT_OUR_TOKEN = {"/api/v1/auth/logout"}
# Operations that change the whole stack under every other request — moving its one clock expires the fuzzer's
# tokens, a reseed replaces all data — are left to tests/integration/test_dev_routes.py and tests/e2e/test_dev_clock.py.
NOT_FUZZED = {("POST", "/api/v1/admin/dev/clock"), ("POST", "/api/v1/admin/dev/reseed")}
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
    st_checks.response_headers_conformance,
]

SENT: Counter[int] = Counter()
SERVER_ERRORS: list[str] = []


def _login(stack: LocalStack, email: str, password: str) -> str:
    answer = requests.post(stack.url("/api/v1/auth/login"), json={"email": email, "password": password}, timeout=30)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


class Tokens:
    """A customer's and an admin's access tokens, renewed before they expire (a long `make fuzz` outlives them)."""

    RENEW_AFTER = 600.0

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.issued = 0.0
        self.tokens: Tokens = {}

    def __getitem__(self, role: str) -> str:
        if time.monotonic() - self.issued > self.RENEW_AFTER:
            self.tokens = {"user": _login(self.stack, *CUSTOMER), "admin": _login(self.stack, *ADMIN)}
            self.issued = time.monotonic()
        return self.tokens[role]


@pytest.fixture(scope="session")
def fuzz_tokens(local_stack: LocalStack) -> Tokens:
    return Tokens(local_stack)


def _send(case: Any, stack: LocalStack, tokens: Tokens) -> None:
    path = case.operation.path
    headers = dict(case.headers or {})
    if case.operation.definition.raw.get("security") and path not in WITHOUT_OUR_TOKEN:
        # Our own credential, so generated requests reach the route's logic instead of stopping at a 401.
        headers["Authorization"] = f"Bearer {tokens['admin' if path.startswith('/api/v1/admin') else 'user']}"
    case.headers = headers
    response = case.call(base_url=stack.api, timeout=30)
    SENT[response.status_code] += 1
    if response.status_code >= 500:
        SERVER_ERRORS.append(f"{case.method} {path} → {response.status_code}: {response.text[:200]}")
    if response.status_code >= 400:
        body = json.loads(response.content)
        assert isinstance(body, dict) and isinstance(body.get("error"), str), response.text[:300]
    case.validate_response(response, checks=CHECKS)


def test_generated_requests(local_stack: LocalStack, fuzz_tokens: Tokens) -> None:
    """Positive and negative cases for every operation; failures are collected per operation, then reported."""
    document = requests.get(local_stack.url("/api/v1/openapi.json"), timeout=30).json()
    api = schemathesis.openapi.from_dict(document)
    failures: list[str] = []
    for result in api.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in NOT_FUZZED:
            continue
        for mode in GenerationMode:
            strategy = operation.as_strategy(generation_mode=mode)

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate, Phase.target],
            )
            @given(case=strategy)
            def run(case: Any) -> None:
                _send(case, local_stack, fuzz_tokens)

            try:
                run()
            except Unsatisfiable:
                continue  # nothing in this operation can be made invalid (no parameters, no body)
            except Exception as exc:  # one operation's failure must not hide the others'
                failures.append(f"{operation.label} [{mode.value}]: {str(exc)[:600]}")
    assert not failures, "\n\n".join(failures)


def test_the_fuzz_run_was_big_enough_and_clean() -> None:
    total = sum(SENT.values())
    print(f"\nfuzz: {total} requests, by status {dict(sorted(SENT.items()))}, server errors {len(SERVER_ERRORS)}")
    assert not SERVER_ERRORS, SERVER_ERRORS[:10]
    assert total >= MINIMUM_REQUESTS, f"only {total} generated requests (expected at least {MINIMUM_REQUESTS})"
