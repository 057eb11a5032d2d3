"""Telling a refused condition apart from a real failure."""

from __future__ import annotations

from typing import TypeVar

from pynamodb.exceptions import PutError, PynamoDBException
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

M = TypeVar("M", bound=Model)


def condition_failed(exc: PynamoDBException) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def is_condition_failure(exc: BaseException) -> bool:
    """A PynamoDB write refused by its condition (put, update, delete outside a transaction)."""
    return isinstance(exc, PynamoDBException) and condition_failed(exc)


def save_if(item: M, condition: Condition) -> M | None:
    """Put `item` on `condition`, outside a transaction (a claim, a lock): the item, or None when the condition
    refused it because another holds the key. Any other failure raises."""
    try:
        item.save(condition=condition)
    except PutError as exc:
        if condition_failed(exc):
            return None
        raise
    return item
