"""User records in the `users` table (docs/data-model.md § users)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)

from chalicelib.core.times import iso
from chalicelib.store.attributes import DecimalAttribute, string_list
from chalicelib.store.base import UsersTable

ADMIN_ROLES = frozenset({"ADMIN", "SUPER_ADMIN"})
USER_ROLES = ("SUPER_ADMIN", "ADMIN", "USER", "VENDOR")
USER_STATUSES = ("PENDING", "ACTIVE", "SUSPENDED", "DELETED")


def user_key(user_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", "PROFILE"


def email_key(email: str) -> tuple[str, str]:
    return f"EMAIL#{email}", "EMAIL"


def details_key(user_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", "DETAILS"


class UserItem(UsersTable, discriminator="USER"):
    """pk `USER#<id>`, sk `PROFILE`. GSI1 `USERS` and GSI2 `USERS#<status>` list users newest first."""

    id = UnicodeAttribute()
    email = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    role = UnicodeAttribute(default="USER")
    status = UnicodeAttribute(default="ACTIVE")
    has_used_trial = BooleanAttribute(default=False)
    access_level_ids = string_list(default=list)
    user_access_level_ids = string_list(default=list)
    display_name = UnicodeAttribute(null=True)
    tokens_valid_after = UTCDateTimeAttribute(null=True)
    last_login_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @classmethod
    def new(cls, user_id: str, email: str, password_hash: str, now: datetime, **fields: Any) -> UserItem:
        pk, sk = user_key(user_id)
        item = cls(
            pk=pk,
            sk=sk,
            id=user_id,
            email=email,
            password_hash=password_hash,
            created_at=now,
            updated_at=now,
            **fields,
        )
        item.index_for_lists()
        return item

    def index_for_lists(self) -> None:
        order = f"{iso(self.created_at)}#{self.id}"
        self.gsi1pk, self.gsi1sk = "USERS", order
        self.gsi2pk, self.gsi2sk = f"USERS#{self.status}", order

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def name(self) -> str:
        return self.display_name or self.email.split("@", 1)[0]


class EmailGuardItem(UsersTable, discriminator="EMAIL"):
    """pk `EMAIL#<lower-cased email>`: makes an e-mail address belong to at most one user."""

    user_id = UnicodeAttribute()

    @classmethod
    def new(cls, email: str, user_id: str) -> EmailGuardItem:
        pk, sk = email_key(email)
        return cls(pk=pk, sk=sk, user_id=user_id)


DETAIL_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "company",
    "tax_number",
    "address_line_1",
    "address_line_2",
    "city",
    "postal_code",
    "country",
)


class UserDetailsItem(UsersTable, discriminator="DETAILS"):
    """pk `USER#<id>`, sk `DETAILS`: billing details; `country` selects the tax at checkout."""

    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    first_name = UnicodeAttribute(null=True)
    last_name = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    company = UnicodeAttribute(null=True)
    tax_number = UnicodeAttribute(null=True)
    address_line_1 = UnicodeAttribute(null=True)
    address_line_2 = UnicodeAttribute(null=True)
    city = UnicodeAttribute(null=True)
    postal_code = UnicodeAttribute(null=True)
    country = UnicodeAttribute(null=True)
    balance = DecimalAttribute(default=Decimal)
    config = JSONAttribute(default=dict)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    def full_name(self) -> str | None:
        parts = [part for part in (self.first_name, self.last_name) if part]
        name = " ".join(parts).strip()
        return name or None
