"""Bodies, queries and answers of the admin catalog routes (admin.md §4–§7).

Each body validates its fields in the contract's order of checks and answers the first failure with the contract's
one message (`refuse`). What needs the catalog — a currency that exists, a slug nobody holds, categories and plans
that exist — is the service's to check. Update bodies are the create bodies with every field optional: the service
applies only the fields that were sent (`model_fields_set`).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from chalicelib.catalog.schemas import Addon, Category, Plan, TokenBundle
from chalicelib.core.ids import is_uuid
from chalicelib.core.money import parse_decimal
from chalicelib.core.validation import Answer, Body, PageKeys, PagingQuery, QueryString, Uuid, refuse

BILLING_PERIODS = ("DAILY", "WEEKLY", "MONTHLY", "QUARTERLY", "YEARLY", "ONE_TIME")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_NAME = 100
MAX_SLUG = 100
TRUE_WORDS = frozenset({"true", "1", "yes"})
MAX_PRICE = Decimal(10) ** 12  # far above any price, far below what a DynamoDB number holds
MAX_INT = 2**31


def plan_slug(name: str) -> str:
    """A plan's or category's default slug: the name lower-cased, runs of other characters → `-`, trimmed of `-`."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def addon_slug(name: str) -> str:
    """An add-on's default slug (admin.md §6): spaces and underscores → `-`, other characters outside `[a-z0-9-]`
    removed, repeated dashes collapsed."""
    dashed = re.sub(r"[ _]", "-", name.lower())
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "", dashed)).strip("-")


def _name(value: Any, empty: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise refuse(empty)
    if len(value.strip()) > MAX_NAME:
        raise refuse(f"Name must be at most {MAX_NAME} characters")
    return value.strip()


def _price(value: Any) -> Decimal:
    if value is None:
        raise refuse("Price is required")
    try:
        price = parse_decimal(value)
    except ValueError as exc:
        raise refuse("Invalid price") from exc
    if price < 0:
        raise refuse("Price cannot be negative")
    if price >= MAX_PRICE:
        raise refuse("Invalid price")
    return price


def _period(value: Any) -> str:
    wanted = value.strip().upper() if isinstance(value, str) else value
    if wanted not in BILLING_PERIODS:
        raise refuse(f"Invalid billing period: {value}")
    return str(wanted)


def _currency(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise refuse(f"Unknown currency: {value}")
    return value.strip().upper()


def _slug(value: Any) -> str | None:
    """A given slug (README §1.5 pattern, ≤ 100); absent or empty → None (the default is made from the name)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_SLUG or not SLUG.match(value):
        raise refuse("Invalid slug")
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise refuse("Description must be a string")
    return value


def _int(value: Any, message: str) -> int:
    """A JSON integer a DynamoDB number holds with room to spare (|n| < 2³¹)."""
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= MAX_INT:
        raise refuse(message)
    return value


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise refuse(f"{name} must be a boolean")
    return value


def _ids(value: Any, message: str) -> list[str]:
    """A list of UUIDs (lower-cased, duplicates dropped); anything else → `message`."""
    if not isinstance(value, list) or not all(is_uuid(v) for v in value):
        raise refuse(message)
    return list(dict.fromkeys(str(v).lower() for v in value))


# --- tariff plans (§4) ------------------------------------------------------------------------------------------


class CatalogRules(Body):
    """The rules of the fields plans, categories, add-ons and bundles share; each body declares the fields it has,
    in its own order of checks. `NAME_EMPTY` is the message for a blank name."""

    NAME_EMPTY: ClassVar[str] = "Name is required"

    @field_validator("name", mode="before", check_fields=False)
    @classmethod
    def _name(cls, value: Any) -> str:
        return _name(value, cls.NAME_EMPTY)

    @field_validator("price", mode="before", check_fields=False)
    @classmethod
    def _price(cls, value: Any) -> Decimal:
        return _price(value)

    @field_validator("billing_period", mode="before", check_fields=False)
    @classmethod
    def _period(cls, value: Any) -> str:
        return _period(value)

    @field_validator("currency", mode="before", check_fields=False)
    @classmethod
    def _currency(cls, value: Any) -> str | None:
        return _currency(value)

    @field_validator("description", mode="before", check_fields=False)
    @classmethod
    def _description(cls, value: Any) -> str | None:
        return _text(value)

    @field_validator("is_active", "is_single", mode="before", check_fields=False)
    @classmethod
    def _flag(cls, value: Any, info: ValidationInfo) -> bool:
        return _flag(value, str(info.field_name))

    @field_validator("sort_order", mode="before", check_fields=False)
    @classmethod
    def _sort_order(cls, value: Any) -> int:
        return _int(value, "sort_order must be an integer")


class PlanFields(CatalogRules):
    """Any field of a plan; the fields in the contract's order of checks."""

    name: Annotated[str | None, Field(description="≤ 100 characters")] = None
    price: Annotated[Decimal | None, Field(description="≥ 0, in `currency`")] = None
    billing_period: Annotated[str | None, Field(description="BillingPeriod, any case")] = None
    currency: Annotated[str | None, Field(description="An active currency; default the default currency")] = None
    slug: Annotated[str | None, Field(description="Slug pattern; default from the name")] = None
    trial_days: int | None = None
    features: Annotated[dict[str, Any] | list[Any] | None, Field(description="An object gets default_tokens")] = None
    category_ids: list[Uuid] | None = None
    description: str | None = None
    is_active: bool | None = None
    sort_order: int | None = None

    @field_validator("slug", mode="before")
    @classmethod
    def _slug(cls, value: Any) -> str | None:
        return _slug(value)

    @field_validator("trial_days", mode="before")
    @classmethod
    def _trial_days(cls, value: Any) -> int:
        days = _int(value, "Trial days must be a non-negative integer")
        if days < 0:
            raise refuse("Trial days must be a non-negative integer")
        return days

    @field_validator("features", mode="before")
    @classmethod
    def _features(cls, value: Any) -> dict[str, Any] | list[Any]:
        if isinstance(value, dict):
            return {"default_tokens": 0, **value}
        if isinstance(value, list):
            return value
        raise refuse("Features must be an object or a list")

    @field_validator("category_ids", mode="before")
    @classmethod
    def _category_ids(cls, value: Any) -> list[str]:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            unknown = next((v for v in value if not is_uuid(v)), None)
            if unknown is not None:
                raise refuse(f"Category {unknown} not found")
        return _ids(value, "category_ids must be a list of ids")


class PlanBody(PlanFields):
    """`POST /admin/tarif-plans/`: a new plan."""

    REQUIRED_PLAIN: ClassVar[dict[str, str]] = {"name": "Name is required", "price": "Price is required"}

    name: Annotated[str, Field(description="≤ 100 characters")]
    price: Annotated[Decimal, Field(description="≥ 0, in `currency`")]


class PlanChanges(PlanFields):
    """`PUT /admin/tarif-plans/<id>`: the fields to change."""


class PlansQuery(QueryString):
    include_archived: Annotated[str | None, Field(description="`false`: active plans only; absent or `true`: all")] = (
        None
    )

    @property
    def active_only(self) -> bool:
        return self.include_archived is not None and self.include_archived.strip().lower() not in TRUE_WORDS


class AdminPlan(Plan):
    """The plan object (catalog.md §2.1) with its subscribers"""

    subscriber_count: int = Field(description="Subscriptions TRIALING, ACTIVE, PAST_DUE or PAUSED")


class AdminPlansAnswer(Answer):
    plans: list[AdminPlan]
    total: int


class AdminPlanAnswer(Answer):
    plan: AdminPlan


class PlanCreated(Answer):
    plan: AdminPlan
    plan_id: Uuid
    message: Literal["Plan created successfully", "Plan copied successfully"]


class PlanStateAnswer(Answer):
    plan: AdminPlan
    message: Literal["Plan activated", "Plan deactivated", "Plan archived"]


class Message(Answer):
    message: str


class StatusCounts(Answer):
    TRIALING: int
    ACTIVE: int
    PAST_DUE: int
    PAUSED: int


class SubscriberCountAnswer(Answer):
    plan_id: Uuid
    count: int = Field(description="The sum of `by_status`")
    by_status: StatusCounts


# --- categories (§5) -----------------------------------------------------------------------------------------------


class CategoryFields(CatalogRules):
    name: str | None = None
    slug: Annotated[str | None, Field(description="Slug pattern; default from the name")] = None
    description: str | None = None
    parent_id: Uuid | None = None
    is_single: bool | None = None
    sort_order: int | None = None

    @field_validator("slug", mode="before")
    @classmethod
    def _slug(cls, value: Any) -> str | None:
        return _slug(value)

    @field_validator("parent_id", mode="before")
    @classmethod
    def _parent_id(cls, value: Any) -> str | None:
        if value is None or value == "":
            return None
        if not is_uuid(value):
            raise refuse(f"Parent category {value} not found")
        return str(value).lower()


class CategoryBody(CategoryFields):
    REQUIRED_PLAIN: ClassVar[dict[str, str]] = {"name": "Name is required"}

    name: str


class CategoryChanges(CategoryFields):
    pass


class PlanIdsBody(Body):
    REQUIRED_PLAIN: ClassVar[dict[str, str]] = {"plan_ids": "plan_ids is required"}

    plan_ids: list[Uuid]

    @field_validator("plan_ids", mode="before")
    @classmethod
    def _plan_ids(cls, value: Any) -> list[str]:
        if not isinstance(value, list) or not value:
            raise refuse("plan_ids is required")
        unknown = next((v for v in value if not is_uuid(v)), None)
        if unknown is not None:
            raise refuse(f"Plan {unknown} not found")
        return _ids(value, "plan_ids is required")


class CategoryFormatQuery(QueryString):
    format: Annotated[str, Field(description="`flat` (default) or `tree`")] = "flat"

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        wanted = value or "flat"
        if wanted not in ("flat", "tree"):
            raise refuse(f"Invalid format: {value}")
        return wanted


class AdminCategory(Category):
    """A category; `plan_count` counts every attached plan"""


class CategoriesAnswer(Answer):
    categories: list[AdminCategory]


class CategoryAnswer(Answer):
    category: AdminCategory


class CategoryCreated(Answer):
    category: AdminCategory
    message: Literal["Category created successfully"]


# --- add-ons (§6) -----------------------------------------------------------------------------------------------


class AddonFields(CatalogRules):
    NAME_EMPTY: ClassVar[str] = "Name cannot be empty"

    name: str | None = None
    price: Decimal | None = None
    billing_period: str | None = None
    currency: str | None = None
    slug: str | None = None
    tarif_plan_ids: list[Uuid] | None = None
    description: str | None = None
    config: dict[str, Any] | None = None
    is_active: bool | None = None
    sort_order: int | None = None

    @field_validator("slug", mode="before")
    @classmethod
    def _slug(cls, value: Any) -> str | None:
        if value is None or (isinstance(value, str) and not addon_slug(value)):
            return None
        if not isinstance(value, str):
            raise refuse("Invalid slug")
        return addon_slug(value)[:MAX_SLUG]

    @field_validator("tarif_plan_ids", mode="before")
    @classmethod
    def _plan_ids(cls, value: Any) -> list[str]:
        return _ids(value, "One or more tariff plan IDs are invalid")

    @field_validator("config", mode="before")
    @classmethod
    def _config(cls, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise refuse("config must be an object")
        return value


class AddonBody(AddonFields):
    NAME_EMPTY: ClassVar[str] = "Name is required"
    REQUIRED_PLAIN: ClassVar[dict[str, str]] = {"name": "Name is required", "price": "Price is required"}

    name: str
    price: Decimal


class AddonChanges(AddonFields):
    pass


class InactiveQuery(PagingQuery):
    include_inactive: Annotated[str | None, Field(description="`true`: inactive ones too (default false)")] = None

    @property
    def with_inactive(self) -> bool:
        return self.include_inactive is not None and self.include_inactive.strip().lower() in TRUE_WORDS


class AddonPage(PageKeys):
    items: list[Addon]


class AdminAddonAnswer(Answer):
    addon: Addon


class AddonCreated(Answer):
    addon: Addon
    message: Literal["Add-on created successfully"]


class AddonStateAnswer(Answer):
    addon: Addon
    message: Literal["Add-on activated", "Add-on deactivated"]


# --- token bundles (§7) -----------------------------------------------------------------------------------------


class BundleFields(CatalogRules):
    NAME_EMPTY: ClassVar[str] = "Name cannot be empty"

    name: str | None = None
    token_amount: int | None = None
    price: Decimal | None = None
    currency: str | None = None
    description: str | None = None
    is_active: bool | None = None
    sort_order: int | None = None

    @field_validator("token_amount", mode="before")
    @classmethod
    def _token_amount(cls, value: Any) -> int:
        if value is None:
            raise refuse("Token amount is required")
        amount = _int(value, "Invalid token amount")
        if amount <= 0:
            raise refuse("Token amount must be positive")
        return amount


class BundleBody(BundleFields):
    NAME_EMPTY: ClassVar[str] = "Name is required"
    REQUIRED_PLAIN: ClassVar[dict[str, str]] = {
        "name": "Name is required",
        "token_amount": "Token amount is required",
        "price": "Price is required",
    }

    name: str
    token_amount: int
    price: Decimal


class BundleChanges(BundleFields):
    pass


class BundlePage(PageKeys):
    items: list[TokenBundle]


class AdminBundleAnswer(Answer):
    bundle: TokenBundle


class BundleCreated(Answer):
    bundle: TokenBundle
    message: Literal["Token bundle created successfully"]


class BundleStateAnswer(Answer):
    bundle: TokenBundle
    message: Literal["Token bundle activated", "Token bundle deactivated"]
