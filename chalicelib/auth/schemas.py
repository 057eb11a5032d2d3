"""Request bodies of the auth routes (contract auth.md §3)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from chalicelib.auth.passwords import password_problems
from chalicelib.core.validation import rule

EMAIL_PATTERN = re.compile(r"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$")
REGISTER_REQUIRED = {"email": "Email is required", "password": "Password is required"}


def normalize_valid_email(value: Any) -> str:
    """auth.md §2.4: trimmed, lower-cased, then checked."""
    if not isinstance(value, str) or not value.strip():
        raise rule("email_required", "Email is required")
    email = value.strip().lower()
    if len(email) > 255 or not EMAIL_PATTERN.match(email):
        raise rule("email_format", "Invalid email format")
    return email


class RegisterBody(BaseModel):
    """*strict*: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")

    email: str
    password: str

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> str:
        return normalize_valid_email(value)

    @field_validator("password", mode="before")
    @classmethod
    def _password(cls, value: Any) -> str:
        if not isinstance(value, str) or value == "":
            raise rule("password_required", "Password is required")
        problems = password_problems(value)
        if problems:
            raise rule("password_rules", *problems)
        return value


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: str
    password: str

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise rule("email_required", "Email is required")
        return value.strip().lower()

    @field_validator("password", mode="before")
    @classmethod
    def _password(cls, value: Any) -> str:
        if not isinstance(value, str) or value == "":
            raise rule("password_required", "Password is required")
        return value


def text_field(body: dict[str, Any], *names: str) -> str | None:
    """The first of `names` holding a non-empty string (routes that accept camelCase and snake_case)."""
    for name in names:
        value = body.get(name)
        if isinstance(value, str) and value != "":
            return value
    return None
