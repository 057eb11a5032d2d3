"""Helpers of the admin catalog tests (admin.md §4–§7)."""

from __future__ import annotations

import itertools
from typing import Any

from tests.integration.conftest import ADMIN, Answer, Api

OBSERVER = ("observer@example.com", "ObserverPass123@")
ADMIN_API = "/api/v1/admin"
_serial = itertools.count(1)


def unique(tag: str) -> str:
    """A name no other test of the module uses."""
    return f"{tag} {next(_serial)}"


def admin_token(api: Api) -> str:
    return api.token(*ADMIN)


def observer_token(api: Api) -> str:
    return api.token(*OBSERVER)


def delete(api: Api, path: str, token: str) -> Answer:
    return api.request("DELETE", path, token=token)


def new_plan(api: Api, token: str, **fields: Any) -> dict[str, Any]:
    """A plan created through the API (name and price unless given); its admin object."""
    body = {"name": unique("Plan"), "price": "10.00", **fields}
    answer = api.post(f"{ADMIN_API}/tarif-plans/", body, token=token)
    assert answer.status == 201, answer.json
    return answer.json["plan"]  # type: ignore[no-any-return]


def refusal(answer: Answer) -> tuple[int, str]:
    return answer.status, answer.json["error"]


def subscribe(api: Api, buyer_token: str, plan_id: str, **body: Any) -> dict[str, Any]:
    """Check out a plan made by a test with the sandbox; the 201 answer."""
    answer = api.post(
        "/api/v1/user/checkout", {"plan_id": plan_id, "payment_method_code": "sandbox", **body}, token=buyer_token
    )
    assert answer.status == 201, answer.json
    return answer.json  # type: ignore[no-any-return]
