"""Request models of the admin profile and admin user routes (contract admin.md §2, §3).

Admin bodies ignore unknown keys (admin.md §1) and answer each rule with the contract's one message.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, ConfigDict, Field, field_validator

from chalicelib.auth.passwords import password_problems
from chalicelib.auth.schemas import AccessLevelSummary, LoginUser, normalize_valid_email
from chalicelib.core.validation import (
    Answer,
    Body,
    Instant,
    Money,
    PageKeys,
    PagingQuery,
    QueryString,
    Uuid,
    one_of,
    refuse,
)
from chalicelib.users.models import USER_ROLES, USER_STATUSES
from chalicelib.users.schemas import Details, DetailsBody


def _plain(check: Any, value: Any) -> Any:
    """Run a validator whose failure answers the whole request with one message (a `refuse`)."""
    try:
        return check(value)
    except Exception as exc:
        raise refuse(str(exc)) from exc


def _status(value: Any) -> str | None:
    return one_of(value if isinstance(value, str) else str(value), USER_STATUSES, "status")


def _role(value: Any) -> str | None:
    return one_of(value if isinstance(value, str) else str(value), USER_ROLES, "role")


def _password(value: Any) -> str:
    if not isinstance(value, str) or value == "":
        raise refuse("Password is required")
    problems = password_problems(value)
    if problems:
        raise refuse(problems[0])
    return value


def _blank(value: Any) -> Any:
    return None if value == "" else value


def _optional(check: Any) -> BeforeValidator:
    return BeforeValidator(lambda value: None if value is None else check(value))


Status = Annotated[str | None, _optional(_status)]
Role = Annotated[str | None, _optional(_role)]


class DetailsFields(DetailsBody):
    """The details fields of auth.md §4.3 (`""` clears one) and `config`, unknown keys ignored: the body of
    `PUT /admin/profile` (`config` merged), the `details` of `POST /admin/users/`, part of `PUT /admin/users/<id>`."""

    model_config = ConfigDict(extra="ignore", strict=True, defer_build=True)


AdminProfileBody = DetailsFields


class CreateUserBody(Body):
    """`POST /admin/users/` (admin.md §3.1)."""

    REQUIRED_PLAIN: ClassVar[dict[str, str]] = {"email": "Email is required", "password": "Password is required"}

    email: str
    password: str
    status: Status = None
    role: Role = None
    details: dict[str, Any] | None = None

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> str:
        return _plain(normalize_valid_email, value)  # type: ignore[no-any-return]

    @field_validator("password", mode="before")
    @classmethod
    def _password(cls, value: Any) -> str:
        return _password(value)

    @field_validator("details", mode="before")
    @classmethod
    def _details(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, dict):
            raise refuse("details: Not a valid mapping.")
        return value


class UpdateUserBody(DetailsFields):
    """`PUT /admin/users/<id>` (admin.md §3.4): any of these."""

    is_active: bool | None = None
    status: Status = None
    role: Role = None
    password: str | None = None
    name: Annotated[str, "split on the first space into first and last name"] | None = None
    balance: Decimal | None = None
    token_balance: int | None = None

    @field_validator("is_active", mode="before")
    @classmethod
    def _is_active(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, bool):
            raise refuse("is_active: Not a valid boolean.")
        return value

    @field_validator("password", mode="before")
    @classmethod
    def _password(cls, value: Any) -> str | None:
        return None if value is None else _password(value)

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, str):
            raise refuse("name: Not a valid string.")
        return _blank(value)

    @field_validator("balance", mode="before")
    @classmethod
    def _balance(cls, value: Any) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise refuse("Invalid balance")
        try:
            amount = Decimal(str(value))
        except InvalidOperation as exc:
            raise refuse("Invalid balance") from exc
        if not amount.is_finite():
            raise refuse("Invalid balance")
        if amount < 0:
            raise refuse("Balance cannot be negative")
        return amount

    @field_validator("token_balance", mode="before")
    @classmethod
    def _token_balance(cls, value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise refuse("Token balance must be a non-negative integer")
        return value


class SuspendBody(Body):
    reason: str | None = None

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, value: Any) -> Any:
        return value if isinstance(value, str) and value.strip() else None


class RolesBody(Body):
    """`PUT /admin/users/<id>/roles` (admin.md §3.6)."""

    REQUIRED_PLAIN: ClassVar[dict[str, str]] = {"roles": "At least one role is required"}

    roles: list[str]

    @field_validator("roles", mode="before")
    @classmethod
    def _roles(cls, value: Any) -> list[str]:
        if not isinstance(value, list) or not value:
            raise refuse("At least one role is required")
        if not all(isinstance(entry, str) for entry in value):
            raise refuse(f"Invalid role: {next(e for e in value if not isinstance(e, str))}")
        return value


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes")


class DeleteUserBody(Body):
    force: bool = False

    @field_validator("force", mode="before")
    @classmethod
    def _force(cls, value: Any) -> bool:
        return _flag(value)


class DeleteUserQuery(QueryString):
    force: str | None = None

    @property
    def forced(self) -> bool:
        return self.force is not None and _flag(self.force)


class UserListQuery(PagingQuery):
    """`GET /admin/users` (admin.md §3.2)."""

    status: Status = None
    role: Role = None
    search: str | None = None

    @field_validator("search")
    @classmethod
    def _search(cls, value: str | None) -> str | None:
        return value.strip().lower() or None if value is not None else None


# --- answers ---------------------------------------------------------------------------------------------------


class AdminDetails(Details):
    """User details as an admin sees them: with the balance and the config"""

    balance: float | int
    config: dict[str, Any]


class AdminProfile(Answer):
    id: Uuid
    email: str
    name: str
    role: str
    is_active: bool
    details: AdminDetails | None


class AdminProfileAnswer(Answer):
    """The calling admin's profile"""

    user: AdminProfile
    message: str | None = None


class AdminUser(Answer):
    """The admin user object (admin.md §3.0)"""

    id: Uuid
    email: str
    name: str
    status: str
    is_active: bool
    role: str
    is_admin: bool
    access_levels: list[AccessLevelSummary]
    permissions: list[str]
    user_access_levels: list[AccessLevelSummary]
    user_permissions: list[str]
    has_used_trial: bool
    last_login_at: Instant | None
    token_balance: int
    subscription_plan: str | None
    details: AdminDetails | None = None
    created_at: Instant
    updated_at: Instant


class SubscriptionSummary(Answer):
    plan: str | None
    status: str | None
    expires_at: Instant | None


class UserStats(Answer):
    total_payments: Money = Field(description="Paid minus refunded, in the default currency")
    invoice_count: int
    last_login: Instant | None


class AdminUserDetail(AdminUser):
    """The admin user object with the primary subscription and payment stats"""

    subscription: SubscriptionSummary
    stats: UserStats


class AdminUserDetailAnswer(Answer):
    user: AdminUserDetail


class AdminUserAnswer(Answer):
    """A user as changed"""

    user: AdminUser
    message: str | None = None


class AdminUserList(PageKeys):
    """Users, newest first (by address for an e-mail prefix `search`)"""

    users: list[AdminUser]


class DeletionInfo(Answer):
    user_id: Uuid
    email: str
    has_cascade_dependencies: bool
    invoice_count: int
    subscription_count: int


class Message(Answer):
    message: str


class DeleteRefused(Answer):
    """The user has invoices or subscriptions and `force` was not given"""

    error: str
    has_dependencies: bool
    invoice_count: int
    subscription_count: int


class AddonInvoice(Answer):
    id: Uuid
    invoice_number: str
    status: str
    amount: Money
    invoiced_at: Instant


class UserAddon(Answer):
    id: Uuid
    addon_name: str | None
    status: str
    starts_at: Instant | None
    expires_at: Instant | None
    created_at: Instant
    invoice_status: str | None
    first_invoice: AddonInvoice | None
    last_invoice: AddonInvoice | None


class UserAddonsAnswer(Answer):
    """The user's add-on subscriptions, newest first"""

    addon_subscriptions: list[UserAddon]


class ImpersonatedBy(Answer):
    id: Uuid
    email: str


class ImpersonationAnswer(Answer):
    """An access token for the user, naming the admin (no refresh token)"""

    token: str
    expires_in: int
    token_type: str
    user: LoginUser
    impersonated_by: ImpersonatedBy
