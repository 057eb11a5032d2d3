"""Telling a refused condition apart from a real failure."""

from __future__ import annotations

from pynamodb.exceptions import PynamoDBException


def condition_failed(exc: PynamoDBException) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"
