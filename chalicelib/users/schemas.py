"""Request and answer models of the user routes (contract auth.md §2.2, §2.5, §4).

`PUT /user/details` is *strict*; every field optional, `null` or `""` clears it.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from chalicelib.core.validation import Answer, Instant, StrictBody, Uuid, rule


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


Text100 = Annotated[str, StringConstraints(max_length=100)]
Text20 = Annotated[str, StringConstraints(max_length=20)]
Text255 = Annotated[str, StringConstraints(max_length=255)]


def plain_json(value: Any) -> Any:
    """`config` as JSON stores and clients hold it: a number with a fraction (a `Decimal` from the body parser) is
    the double a JSON reader makes of it; one beyond a double's range is refused."""
    if isinstance(value, Decimal):
        number = float(value)
        if not math.isfinite(number):
            raise rule("number_range", "Not a valid number.")
        return number
    if isinstance(value, dict):
        return {key: plain_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_json(item) for item in value]
    return value


class DetailsBody(StrictBody):
    """`PUT /user/details` — *strict*; any subset of the fields (auth.md §4.3)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    first_name: Text100 | None = None
    last_name: Text100 | None = None
    phone: Text20 | None = None
    company: Text255 | None = None
    tax_number: Text100 | None = None
    address_line_1: Text255 | None = None
    address_line_2: Text255 | None = None
    city: Text100 | None = None
    postal_code: Text20 | None = None
    country: Annotated[
        str | None, Field(description="ISO 3166-1 alpha-2, any case; a known country (enabled or not)")
    ] = None
    config: Annotated[
        dict[str, Any] | None,
        Field(description="Preferences, merged key by key (a key set to null is removed); at most 4096 bytes"),
    ] = None

    @field_validator(
        "first_name",
        "last_name",
        "phone",
        "company",
        "tax_number",
        "address_line_1",
        "address_line_2",
        "city",
        "postal_code",
        mode="before",
    )
    @classmethod
    def _clear_blank(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, value: Any) -> Any:
        value = _blank_to_none(value)
        if value is None:
            return None
        if not isinstance(value, str):
            raise rule("string_type", "Not a valid string.")
        code = value.strip().upper()
        if len(code) != 2 or not code.isalpha() or not code.isascii():
            raise rule("unknown_country", "Unknown country code")
        return code

    @field_validator("config", mode="before")
    @classmethod
    def _config(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise rule("dict_type", "Not a valid mapping.")
        return plain_json(value)


# --- answers ---------------------------------------------------------------------------------------------------


class ProfileUser(Answer):
    """The profile user object (auth.md §2.2)"""

    id: Uuid
    email: str
    status: str
    role: str
    created_at: Instant
    updated_at: Instant


class Details(Answer):
    """The user details object (auth.md §2.5); before the first save every key but `user_id` is null"""

    id: Uuid | None
    user_id: Uuid
    first_name: str | None
    last_name: str | None
    phone: str | None
    company: str | None
    tax_number: str | None
    address_line_1: str | None
    address_line_2: str | None
    city: str | None
    postal_code: str | None
    country: str | None = Field(description="The billing country: selects the tax at checkout")
    created_at: Instant | None
    updated_at: Instant | None


class ProfileAnswer(Answer):
    """The caller's profile and saved details (`null` before the first save)"""

    user: ProfileUser
    details: Details | None
