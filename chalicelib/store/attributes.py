"""PynamoDB attributes the library lacks: exact decimals for money."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pynamodb.attributes import Attribute, ListAttribute, UnicodeAttribute
from pynamodb.constants import NUMBER


def string_list(**kwargs: Any) -> ListAttribute[str]:
    """A list of strings, typed as such for mypy (PynamoDB infers the attribute class instead)."""
    return ListAttribute(of=UnicodeAttribute, **kwargs)  # type: ignore[arg-type]


class DecimalAttribute(Attribute[Decimal]):
    """A DynamoDB number kept exact: PynamoDB's NumberAttribute would turn `9.99` into a float."""

    attr_type = NUMBER

    def serialize(self, value: Decimal) -> str:
        if not isinstance(value, Decimal):
            raise TypeError(f"DecimalAttribute needs a Decimal, got {type(value).__name__}")
        return format(value, "f")

    def deserialize(self, value: str) -> Decimal:
        return Decimal(value)
