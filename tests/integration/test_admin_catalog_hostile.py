"""Hostile admin catalog bodies never reach a 500: numbers DynamoDB cannot store, prices finer than a cent,
wrong JSON types."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.admin_catalog import ADMIN_API, admin_token, refusal
from tests.integration.conftest import Api

HUGE = 10**40  # more digits than a DynamoDB number holds


@pytest.fixture(scope="module")
def token(api: Api) -> str:
    return admin_token(api)


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("tarif-plans", {"name": "P", "price": "1e200"}, "Invalid price"),
        ("tarif-plans", {"name": "P", "price": HUGE}, "Invalid price"),
        ("tarif-plans", {"name": "P", "price": "0.001"}, "Invalid price"),
        ("tarif-plans", {"name": "P", "price": "NaN"}, "Invalid price"),
        ("tarif-plans", {"name": "P", "price": 1, "trial_days": HUGE}, "Trial days must be a non-negative integer"),
        ("tarif-plans", {"name": "P", "price": 1, "sort_order": HUGE}, "sort_order must be an integer"),
        ("tarif-plans", {"name": 5, "price": 1}, "Name is required"),
        ("tarif-plans", {"name": "P", "price": 1, "is_active": "yes"}, "is_active must be a boolean"),
        ("tarif-plans", {"name": "P", "price": 1, "description": ["x"]}, "Description must be a string"),
        ("tarif-plans", {"name": "P", "price": 1, "category_ids": "x"}, "category_ids must be a list of ids"),
        ("tarif-plan-categories", {"name": "C", "is_single": 1}, "is_single must be a boolean"),
        ("tarif-plan-categories", {"name": "C", "parent_id": 7}, "Parent category 7 not found"),
        ("addons", {"name": "A", "price": 1, "config": []}, "config must be an object"),
        ("addons", {"name": "A", "price": 1, "slug": 3}, "Invalid slug"),
        ("token-bundles", {"name": "B", "price": 1, "token_amount": HUGE}, "Invalid token amount"),
        ("token-bundles", {"name": "B", "price": "12.345", "token_amount": 1}, "Invalid price"),
    ],
)
def test_a_hostile_body_is_a_400(api: Api, token: str, path: str, body: dict[str, Any], message: str) -> None:
    assert refusal(api.post(f"{ADMIN_API}/{path}/", body, token=token)) == (400, message)


@pytest.mark.parametrize("raw", [b"[]", b'"plan"', b"null"])
def test_a_body_that_is_no_object_is_a_400(api: Api, token: str, raw: bytes) -> None:
    answer = api.request(
        "POST", f"{ADMIN_API}/tarif-plans/", body=raw, token=token, headers={"Content-Type": "application/json"}
    )
    assert answer.status == 400 and "error" in answer.json


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("tarif-plans", {"name": "Hostile plan", "price": 1}),
        ("addons", {"name": "Hostile addon", "price": 1}),
        ("token-bundles", {"name": "Hostile bundle", "price": 1, "token_amount": 1}),
    ],
)
def test_an_update_with_a_fraction_of_a_cent_or_a_huge_number_is_a_400(
    api: Api, token: str, path: str, body: dict[str, Any]
) -> None:
    created = api.post(f"{ADMIN_API}/{path}/", body, token=token)
    assert created.status == 201, created.json
    record_id = next(v["id"] for k, v in created.json.items() if isinstance(v, dict))
    for change in ({"price": "1.005"}, {"price": HUGE}, {"sort_order": HUGE}):
        assert api.put(f"{ADMIN_API}/{path}/{record_id}", change, token=token).status == 400
