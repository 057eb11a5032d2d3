"""Scenario tests share the integration fixtures: a seeded account per test and the Chalice test client."""

from tests.integration.conftest import atomic_dynamodb, empty_api, fresh_api  # noqa: F401 — fixtures
