"""Request and answer models of the auth routes (contract auth.md §2–§4).

Every body is validated at the edge into one of these before the service runs. The contract's messages and order of
checks are the models': a value of the wrong JSON type where text goes is the field's "required" message, as VBWD
answers it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar

from pydantic import ConfigDict, Field, field_validator, model_validator

from chalicelib.auth.passwords import password_problems
from chalicelib.core.validation import Answer, Body, QueryString, StrictBody, Uuid, refuse, rule
from chalicelib.users.emails import MAX_EMAIL_LENGTH, could_be_registered, normalize_email

EMAIL_PATTERN = re.compile(r"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$")
REGISTER_REQUIRED = {"email": "Email is required", "password": "Password is required"}
EMAIL_REQUIRED = "Email required"
RESET_REQUIRED = "Token and new password required"
CHANGE_REQUIRED = "Current password and new password are required"


def normalize_valid_email(value: Any) -> str:
    """auth.md §2.4: trimmed, lower-cased, then checked."""
    if not isinstance(value, str) or not value.strip():
        raise rule("email_required", "Email is required")
    email = normalize_email(value)
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(email):
        raise rule("email_format", "Invalid email format")
    return email


def _text(value: Any) -> str | None:
    """A non-empty string, else None (routes whose one message covers "missing, empty or not a string")."""
    return value if isinstance(value, str) and value != "" else None


class RegisterBody(StrictBody):
    """`POST /auth/register` — *strict*; every failing field is reported (auth.md §3.1)."""

    REQUIRED: ClassVar[dict[str, str]] = REGISTER_REQUIRED

    email: Annotated[str, Field(description="Trimmed and lower-cased; at most 255 characters")]
    password: Annotated[str, Field(description="The rules of auth.md §2.3")]

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


class LoginBody(Body):
    """`POST /auth/login` (auth.md §3.2): the e-mail is not format-checked beyond being a non-empty string."""

    REQUIRED: ClassVar[dict[str, str]] = REGISTER_REQUIRED

    email: Annotated[str, Field(description="Compared trimmed and lower-cased")]
    password: str

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise rule("email_required", "Email is required")
        return normalize_email(value)

    @field_validator("password", mode="before")
    @classmethod
    def _password(cls, value: Any) -> str:
        if not isinstance(value, str) or value == "":
            raise rule("password_required", "Password is required")
        return value

    @property
    def could_be_registered(self) -> bool:
        """False for an address no account can have (longer than registration allows)."""
        return could_be_registered(self.email)


class RefreshBody(Body):
    """`POST /auth/refresh` (auth.md §3.3)."""

    REQUIRED_PLAIN: ClassVar[dict[str, str]] = {"refresh_token": "refresh_token is required"}

    refresh_token: Annotated[str, Field(description="`rt_` + 43 base64url characters")]

    @field_validator("refresh_token", mode="before")
    @classmethod
    def _token(cls, value: Any) -> str:
        token = _text(value)
        if token is None:
            raise refuse("refresh_token is required")
        return token


class LogoutBody(Body):
    """`POST /auth/logout` (auth.md §3.5): optional; a refresh token that is not a string is ignored."""

    refresh_token: Annotated[str | None, Field(description="Its family is revoked too, when known")] = None

    @field_validator("refresh_token", mode="before")
    @classmethod
    def _token(cls, value: Any) -> str | None:
        return _text(value)


class CheckEmailQuery(QueryString):
    """`GET /auth/check-email?email=` (auth.md §3.6)."""

    REQUIRED_PLAIN: ClassVar[dict[str, str]] = {"email": EMAIL_REQUIRED}

    email: Annotated[str, Field(description="Compared trimmed and lower-cased")]

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not value.strip():
            raise refuse(EMAIL_REQUIRED)
        return normalize_email(value)


class ForgotPasswordBody(Body):
    """`POST /auth/forgot-password` (auth.md §3.7)."""

    REQUIRED_PLAIN: ClassVar[dict[str, str]] = {"email": EMAIL_REQUIRED}

    email: str

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise refuse(EMAIL_REQUIRED)
        return normalize_email(value)


class ResetPasswordBody(Body):
    """`POST /auth/reset-password` (auth.md §3.8). The new password's rules are checked after the token's."""

    token: str
    new_password: str

    @model_validator(mode="before")
    @classmethod
    def _both(cls, data: Any) -> Any:
        if not isinstance(data, dict) or _text(data.get("token")) is None or _text(data.get("new_password")) is None:
            raise refuse(RESET_REQUIRED)
        return data


class ChangePasswordBody(Body):
    """`POST /user/change-password` (auth.md §4.4): each password in camelCase or snake_case; the first spelling
    holding a non-empty string is used."""

    model_config = ConfigDict(populate_by_name=True)

    current_password_camel: Annotated[str | None, Field(alias="currentPassword")] = None
    current_password_snake: Annotated[str | None, Field(alias="current_password")] = None
    new_password_camel: Annotated[str | None, Field(alias="newPassword", description="The rules of §2.3")] = None
    new_password_snake: Annotated[str | None, Field(alias="new_password", description="The rules of §2.3")] = None

    @field_validator("*", mode="before")
    @classmethod
    def _text_only(cls, value: Any) -> str | None:
        return _text(value)

    @model_validator(mode="after")
    def _both(self) -> ChangePasswordBody:
        if not self.current_password or not self.new_password:
            raise refuse(CHANGE_REQUIRED)
        return self

    @property
    def current_password(self) -> str:
        return self.current_password_camel or self.current_password_snake or ""

    @property
    def new_password(self) -> str:
        return self.new_password_camel or self.new_password_snake or ""


# --- answers ---------------------------------------------------------------------------------------------------


class AccessLevelSummary(Answer):
    """An access level as the login user object lists it"""

    id: Uuid
    slug: str
    name: str


class LoginUser(Answer):
    """The login user object (auth.md §2.1)"""

    id: Uuid
    email: str
    name: str
    role: str
    is_admin: bool
    access_levels: list[AccessLevelSummary]
    permissions: list[str]
    user_access_levels: list[AccessLevelSummary]
    user_permissions: list[str]


class TokenAnswer(Answer):
    """Signed in: the access token, the refresh token of the session and the login user object"""

    success: bool
    token: str
    refresh_token: str
    expires_in: int = Field(description="Seconds the access token is valid for")
    user_id: Uuid
    error: None
    user: LoginUser


class AuthFailure(Answer):
    """An auth error in the auth envelope (auth.md §3): `success:false` and null token fields"""

    model_config = ConfigDict(extra="allow")  # the error keys of README §1.4 (`fields`, `message`, …) come too

    success: bool
    error: str
    token: None
    user_id: None
    user: None
    fields: dict[str, list[str]] | None = None


class RefreshFailure(AuthFailure):
    """A refresh error in the auth envelope, with `refresh_token:null`"""

    refresh_token: None


class Impersonator(Answer):
    """The admin behind an impersonation token"""

    id: Uuid
    email: str | None


class MeAnswer(LoginUser):
    """The login user object, flat, with the account status and the impersonating admin (auth.md §3.4)"""

    status: str
    impersonator: Impersonator | None


class MessageAnswer(Answer):
    """Done"""

    message: str


class EmailExists(Answer):
    """Whether an account has the address"""

    exists: bool


class SuccessAnswer(Answer):
    """Done"""

    success: bool
