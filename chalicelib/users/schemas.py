"""PUT /user/details body (contract auth.md §4.3): *strict*, every field optional, `null` or `""` clears."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator

from chalicelib.core.validation import rule


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


Text100 = Annotated[str, StringConstraints(max_length=100)]
Text20 = Annotated[str, StringConstraints(max_length=20)]
Text255 = Annotated[str, StringConstraints(max_length=255)]


class DetailsBody(BaseModel):
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
    country: str | None = None
    config: dict[str, Any] | None = None

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
        if value is not None and not isinstance(value, dict):
            raise rule("dict_type", "Not a valid mapping.")
        return value
