"""Request models of the token routes (contract subscriptions.md §12.3)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, field_validator

from chalicelib.core.validation import Answer, Instant, PageKeys, PagingQuery, StrictBody, Uuid, one_of, refuse

MAX_CONSUME = 1_000_000
TRANSACTION_TYPES = ("PURCHASE", "USAGE", "REFUND", "BONUS", "ADJUSTMENT", "SUBSCRIPTION")


class ConsumeBody(StrictBody):
    """`POST /user/tokens/consume` — *strict*."""

    REQUIRED_PLAIN: ClassVar[dict[str, str]] = {"amount": "amount is required"}

    amount: Annotated[int, Field(ge=1, le=MAX_CONSUME, description="Tokens to take off the balance")]
    description: Annotated[str, Field(max_length=255)] = "Token usage"
    reference: Annotated[
        str | None,
        Field(min_length=1, max_length=255, description="Client reference: a repeat with it replays the answer"),
    ] = None

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> int:
        if value is None:
            raise refuse("amount is required")
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise refuse("amount must be a positive integer")
        if value > MAX_CONSUME:
            raise refuse(f"amount must not exceed {MAX_CONSUME}")
        return value

    @field_validator("description", mode="before")
    @classmethod
    def _description(cls, value: Any) -> str:
        if value is None:
            return "Token usage"
        if not isinstance(value, str) or len(value) > 255:
            raise refuse("description must be at most 255 characters")
        return value

    @field_validator("reference", mode="before")
    @classmethod
    def _reference(cls, value: Any) -> str | None:
        if value is not None and (not isinstance(value, str) or not 1 <= len(value) <= 255):
            raise refuse("reference must be 1-255 characters")
        return value


class TransactionsQuery(PagingQuery):
    type: Annotated[str | None, Field(description="Only entries of this type (case-insensitive)")] = None

    @field_validator("type")
    @classmethod
    def _type(cls, value: str | None) -> str | None:
        return one_of(value, TRANSACTION_TYPES, "type")


# --- answers ---------------------------------------------------------------------------------------------------


class BalanceAnswer(Answer):
    """The caller's token balance"""

    balance: int


class TokenTransaction(Answer):
    """One ledger entry (subscriptions.md §2.5)"""

    id: Uuid
    user_id: Uuid
    amount: int
    transaction_type: str
    reference_id: str | None
    reference: str | None
    description: str | None
    balance_after: int
    created_at: Instant


class TransactionsAnswer(PageKeys):
    """A page of the ledger, newest first"""

    transactions: list[TokenTransaction]


class ConsumeAnswer(Answer):
    """The balance after the debit and its ledger entry"""

    balance: int
    transaction: TokenTransaction
    replayed: bool | None = Field(None, description="Present (true) when the reference was used before")


class InsufficientBalance(Answer):
    """Not enough tokens: the balance is given"""

    error: str
    balance: int
