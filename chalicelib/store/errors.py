"""Telling a refused condition apart from a real failure."""

from __future__ import annotations

from pynamodb.exceptions import PynamoDBException


def condition_failed(exc: PynamoDBException) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def is_condition_failure(exc: BaseException) -> bool:
    """A PynamoDB write refused by its condition (put, update, delete outside a transaction)."""
    return isinstance(exc, PynamoDBException) and condition_failed(exc)
