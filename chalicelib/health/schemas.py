"""Answer models of `GET /`, liveness and readiness (contract catalog.md §4.1–§4.2)."""

from __future__ import annotations

from pydantic import Field

from chalicelib.core.validation import Answer


class IndexAnswer(Answer):
    """The API's name and version"""

    message: str
    version: str
    health: str = Field(description="Where liveness is answered")


class HealthAnswer(Answer):
    """Alive (storage is not touched)"""

    status: str
    service: str
    version: str
    dynamodb: str | None = Field(None, description="The DynamoDB engine behind the tables, where the stage names it")


class Checks(Answer):
    """`ok` or `error` for each dependency"""

    dynamodb: str
    eventbus: str


class ReadyAnswer(Answer):
    """Every dependency answered"""

    status: str
    checks: Checks


class Degraded(Answer):
    """A dependency did not answer"""

    error: str
    status: str
    checks: Checks
