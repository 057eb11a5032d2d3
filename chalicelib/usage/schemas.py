"""Request and answer models of the usage routes (contract subscriptions.md §2.6, §12.4)."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar

from pydantic import ConfigDict, Field, field_validator

from chalicelib.core.validation import Answer, Instant, StrictBody, refuse

MAX_QUANTITY = 1_000_000
FEATURE = re.compile(r"[a-z0-9_]{1,50}")
TOKENS = "tokens"


class RecordUsageBody(StrictBody):
    """`POST /user/usage` — *strict*."""

    REQUIRED_PLAIN: ClassVar[dict[str, str]] = {
        "feature": "feature is required",
        "quantity": "quantity must be a positive integer",
    }

    feature: Annotated[str, Field(description="The metered feature: `^[a-z0-9_]{1,50}$`, not `tokens`")]
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY, description="How much was used")]
    reference: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=255,
            description="Client reference, unique per feature: a repeat is answered as before without counting again",
        ),
    ] = None

    @field_validator("feature", mode="before")
    @classmethod
    def _feature(cls, value: Any) -> str:
        if value is None:
            raise refuse("feature is required")
        if not isinstance(value, str) or not FEATURE.fullmatch(value) or value == TOKENS:
            raise refuse("Invalid feature name")
        return value

    @field_validator("quantity", mode="before")
    @classmethod
    def _quantity(cls, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUANTITY:
            raise refuse("quantity must be a positive integer")
        return value

    @field_validator("reference", mode="before")
    @classmethod
    def _reference(cls, value: Any) -> str | None:
        if value is not None and (not isinstance(value, str) or not 1 <= len(value) <= 255):
            raise refuse("reference must be 1-255 characters")
        return value


# --- answers ---------------------------------------------------------------------------------------------------


class MetricUsage(Answer):
    """One metered feature in the current period"""

    used: int
    limit: int | None
    unit: str
    period_start: Instant
    period_end: Instant


class TokenUsage(MetricUsage):
    """Tokens consumed in the current period, and the balance"""

    balance: int


class UsageAnswer(Answer):
    """Usage by metric name: always `tokens`, then every limited or metered feature (subscriptions.md §2.6)"""

    model_config = ConfigDict(extra="allow", defer_build=True)
    __pydantic_extra__: dict[str, MetricUsage]

    tokens: TokenUsage


class RecordedUsage(Answer):
    """The feature's usage after the report"""

    feature: str
    used: int
    limit: int | None
    period_start: Instant
    period_end: Instant


class UsageLimitReached(Answer):
    """The report would pass the plan's limit: nothing was counted"""

    error: str
    feature: str
    limit: int
    used: int
