"""PynamoDB attributes the library lacks: exact decimals for money."""

from __future__ import annotations

from decimal import Decimal

from pynamodb.attributes import Attribute
from pynamodb.constants import NUMBER


class DecimalAttribute(Attribute[Decimal]):
    """A DynamoDB number kept exact: PynamoDB's NumberAttribute would turn `9.99` into a float."""

    attr_type = NUMBER

    def serialize(self, value: Decimal) -> str:
        if not isinstance(value, Decimal):
            raise TypeError(f"DecimalAttribute needs a Decimal, got {type(value).__name__}")
        return format(value, "f")

    def deserialize(self, value: str) -> Decimal:
        return Decimal(value)
