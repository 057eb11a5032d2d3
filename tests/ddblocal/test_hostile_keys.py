"""Inputs that would make a DynamoDB key DynamoDB refuses (a partition key over 2,048 bytes, a sort key over 1,024,
an empty key attribute). moto reads and writes such keys without complaint; DynamoDB Local refuses them as DynamoDB
does, so here a route that built one would answer 500. Each must answer what the contract says instead."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from chalice.test import Client

from tests.integration.conftest import Api

pytestmark = pytest.mark.usefixtures("ddb_stack")

LONG_EMAIL = "a" * 3000 + "@example.com"
ENVELOPE = {"success": False, "token": None, "user_id": None, "user": None}


@pytest.fixture
def api() -> Iterator[Api]:
    from app import app

    with Client(app, stage_name="local") as client:
        yield Api(client)


def test_login_with_a_3000_character_email(api: Api) -> None:
    answer = api.post("/api/v1/auth/login", {"email": LONG_EMAIL, "password": "Secret123!"})
    assert (answer.status, answer.json) == (401, {**ENVELOPE, "error": "Invalid credentials"})


def test_forgot_password_with_a_3000_character_email(api: Api) -> None:
    answer = api.post("/api/v1/auth/forgot-password", {"email": LONG_EMAIL})
    assert (answer.status, answer.json) == (200, {"message": "If email exists, reset link sent"})


def test_check_email_with_a_3000_character_email(api: Api) -> None:
    answer = api.get(f"/api/v1/auth/check-email?email={LONG_EMAIL}")
    assert (answer.status, answer.json) == (200, {"exists": False})


def test_register_with_a_3000_character_email(api: Api) -> None:
    answer = api.post("/api/v1/auth/register", {"email": LONG_EMAIL, "password": "Secret123!"})
    assert answer.status == 400
    assert answer.json["fields"] == {"email": ["Invalid email format"]}


@pytest.mark.parametrize("country", [" ", "x" * 3000])
@pytest.mark.parametrize("path", ["/api/v1/tarif-plans", "/api/v1/tarif-plans/basic"])
def test_plan_prices_for_a_country_that_is_not_a_code(api: Api, path: str, country: str) -> None:
    answer = api.get(f"{path}?country={quote(country)}")
    assert (answer.status, answer.json) == (400, {"error": f"Unknown country: {country.strip().upper()}"})


def test_details_with_a_3000_character_country(api: Api) -> None:
    registered = api.post("/api/v1/auth/register", {"email": "ddb-hostile@example.com", "password": "Secret123!"})
    assert registered.status == 200, registered.json
    answer = api.put("/api/v1/user/details", {"country": "D" * 3000}, token=registered.json["token"])
    assert answer.status == 400
    assert answer.json["fields"] == {"country": ["Unknown country code"]}
