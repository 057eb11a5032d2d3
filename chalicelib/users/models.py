"""User records in the `users` table (docs/data-model.md § users)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)

from chalicelib.core.times import iso
from chalicelib.store.attributes import DecimalAttribute, string_list
from chalicelib.store.base import CountersTable, UsersTable

ADMIN_ROLES = frozenset({"ADMIN", "SUPER_ADMIN"})
USER_ROLES = ("SUPER_ADMIN", "ADMIN", "USER", "VENDOR")
USER_STATUSES = ("PENDING", "ACTIVE", "SUSPENDED", "DELETED")
DELETED = "DELETED"


def user_key(user_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", "PROFILE"


def email_key(email: str) -> tuple[str, str]:
    return f"EMAIL#{email}", "EMAIL"


def details_key(user_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", "DETAILS"


def all_users() -> str:
    return "USERS"


def users_in(status: str) -> str:
    return f"USERS#{status}"


def users_with_role(role: str) -> str:
    return f"USERS#ROLE#{role}"


def email_prefix_partition(email: str) -> str:
    """The e-mail search index is split by the address's first character; the sort key is the whole address, so
    a prefix of any length is a `begins_with` key condition that reads only the addresses it matches."""
    return f"EMAILPREFIX#{email[:1]}"


class UserItem(UsersTable, discriminator="USER"):
    """pk `USER#<id>`, sk `PROFILE`. Newest first: GSI1 `USERS` (every user not deleted), GSI2 `USERS#<status>`,
    GSI4 `USERS#ROLE#<role>` (not deleted); GSI3 `EMAILPREFIX#<first character>` / `<email>#<id>` (not deleted)
    is the e-mail prefix search."""

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
    payment_customers = JSONAttribute(null=True)  # provider code → the user's customer id there (Stripe `cus_…`)
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
        """Derive the list and search keys from the user's status, role and e-mail; a `DELETED` user is listed
        only under its status."""
        order = f"{iso(self.created_at)}#{self.id}"
        self.gsi2pk, self.gsi2sk = users_in(self.status), order
        if self.status == DELETED:
            self.gsi1pk = self.gsi1sk = self.gsi3pk = self.gsi3sk = self.gsi4pk = self.gsi4sk = None
            return
        self.gsi1pk, self.gsi1sk = all_users(), order
        self.gsi3pk, self.gsi3sk = email_prefix_partition(self.email), f"{self.email}#{self.id}"
        self.gsi4pk, self.gsi4sk = users_with_role(self.role), order

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def name(self) -> str:
        return self.display_name or self.email.split("@", 1)[0]


class UserTotalItem(CountersTable, discriminator="USERS_TOTAL"):
    """pk `COUNT#USERS` (users not deleted), `COUNT#USERS#<status>`, `COUNT#USERS#ROLE#<role>` (not deleted) and
    `COUNT#USERS#<status>#ROLE#<role>`, sk `COUNT`: the totals of the admin user lists, moved in the transaction of
    every write that creates a user or changes its status or role."""

    value = NumberAttribute(default=0)

    @classmethod
    def key(cls, status: str | None = None, role: str | None = None) -> tuple[str, str]:
        parts = ["COUNT#USERS"]
        if status is not None:
            parts.append(status)
        if role is not None:
            parts.append(f"ROLE#{role}")
        return "#".join(parts), "COUNT"

    @classmethod
    def keys_of(cls, status: str, role: str) -> list[tuple[str, str]]:
        """The totals one user with this status and role is counted in."""
        keys = [cls.key(status), cls.key(status, role)]
        if status != DELETED:
            keys += [cls.key(), cls.key(role=role)]
        return keys


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
