"""GET /api/v1/auth/check-email (contract auth.md §3.6). Shared seeded account."""

from __future__ import annotations

import uuid

import pytest

CHECK = "/api/v1/auth/check-email"


@pytest.mark.parametrize(
    "query",
    [
        "email=test@example.com",
        "email=TEST@Example.COM",
        "email=%20%20test@example.com%20",
        "email=admin@example.com",
        "email=suspended@example.com",
    ],
)
def test_known_emails_exist(api, query):
    answer = api.get(f"{CHECK}?{query}")
    assert answer.status == 200
    assert answer.json == {"exists": True}


@pytest.mark.parametrize("email", ["nobody@example.com", "test@example.org", "test", "not an email"])
def test_unknown_emails_do_not_exist(api, email):
    answer = api.get(f"{CHECK}?email={email}")
    assert answer.status == 200
    assert answer.json == {"exists": False}


def test_a_registered_email_exists_afterwards(api):
    email = f"Check-{uuid.uuid4().hex[:12]}@example.com"
    assert api.get(f"{CHECK}?email={email}").json == {"exists": False}
    assert api.post("/api/v1/auth/register", {"email": email, "password": "Secret123!"}).status == 200
    assert api.get(f"{CHECK}?email={email}").json == {"exists": True}
    assert api.get(f"{CHECK}?email={email.lower()}").json == {"exists": True}


@pytest.mark.parametrize("query", ["", "?", "?email=", "?email=%20%20", "?mail=test@example.com"])
def test_missing_or_empty_email(api, query):
    answer = api.get(f"{CHECK}{query}")
    assert answer.status == 400
    assert answer.json == {"error": "Email required"}


def test_a_repeated_parameter_uses_the_first_value(api):
    assert api.get(f"{CHECK}?email=nobody@example.com&email=test@example.com").json == {"exists": False}
    assert api.get(f"{CHECK}?email=test@example.com&email=nobody@example.com").json == {"exists": True}


def test_a_credential_is_ignored_on_this_public_route(api):
    answer = api.get(f"{CHECK}?email=test@example.com", headers={"Authorization": "Bearer not-a-token"})
    assert answer.status == 200
    assert answer.json == {"exists": True}


def test_other_methods_are_not_allowed(api):
    answer = api.post(CHECK, {"email": "test@example.com"})
    assert answer.status == 405
    assert answer.json == {"error": "Method not allowed"}
    assert answer.headers["allow"] == "GET"
