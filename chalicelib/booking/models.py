"""Booking entities in the `booking` table (docs/data-model.md § booking). Every entity belongs to a tenant.

Catalog-like entities (categories, schemas, resources, staff, services, package offers) share their tenant's
partition; a customer's pets and packages share `TENANT#<tid>#USER#<uid>`. Nested structures the contract treats
as documents (availability, working hours, size overrides, vaccinations, package history) are JSON attributes.
"""

from __future__ import annotations

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
from chalicelib.store.base import BookingTable


def tenant_partition(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def customer_partition(tenant_id: str, user_id: str) -> str:
    return f"TENANT#{tenant_id}#USER#{user_id}"


def _in_tenant(tenant_id: str, kind: str, item_id: str) -> tuple[str, str]:
    return tenant_partition(tenant_id), f"{kind}#{item_id}"


class BookingStamped(BookingTable):
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class TenantItem(BookingStamped, discriminator="TENANT"):
    """pk `TENANT`, sk id."""

    PK = "TENANT"
    id = UnicodeAttribute()
    slug = UnicodeAttribute()
    name = UnicodeAttribute()
    domain = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute()
    currency = UnicodeAttribute()
    is_default = BooleanAttribute(default=False)
    is_active = BooleanAttribute(default=True)
    admin_user_ids = string_list(default=list)
    settings = JSONAttribute(default=dict)
    version = VersionAttribute()

    @classmethod
    def key(cls, tenant_id: str) -> tuple[str, str]:
        return cls.PK, tenant_id


class ResourceCategoryItem(BookingStamped, discriminator="BOOKING_CATEGORY"):
    """pk `TENANT#<tid>`, sk `CATEGORY#<id>`."""

    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    slug = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    image_url = UnicodeAttribute(null=True)
    parent_id = UnicodeAttribute(null=True)
    config = JSONAttribute(default=dict)
    sort_order = NumberAttribute(default=0)
    is_active = BooleanAttribute(default=True)

    @classmethod
    def key(cls, tenant_id: str, item_id: str) -> tuple[str, str]:
        return _in_tenant(tenant_id, "CATEGORY", item_id)


class SchemaItem(BookingStamped, discriminator="BOOKING_SCHEMA"):
    """pk `TENANT#<tid>`, sk `SCHEMA#<id>`: a resource type and the custom fields its bookings carry."""

    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    slug = UnicodeAttribute()
    fields = JSONAttribute(default=list)
    sort_order = NumberAttribute(default=0)
    is_active = BooleanAttribute(default=True)

    @classmethod
    def key(cls, tenant_id: str, item_id: str) -> tuple[str, str]:
        return _in_tenant(tenant_id, "SCHEMA", item_id)


class ResourceItem(BookingStamped, discriminator="BOOKING_RESOURCE"):
    """pk `TENANT#<tid>`, sk `RESOURCE#<id>`."""

    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    slug = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    resource_type = UnicodeAttribute()
    custom_schema_id = UnicodeAttribute(null=True)
    capacity = NumberAttribute(default=1)
    slot_duration_minutes = NumberAttribute(null=True)
    price = DecimalAttribute()
    currency = UnicodeAttribute()
    price_unit = UnicodeAttribute(default="per_slot")
    timezone = UnicodeAttribute()
    availability = JSONAttribute(default=dict)
    config = JSONAttribute(default=dict)
    deposit_percent = NumberAttribute(null=True)
    image_url = UnicodeAttribute(null=True)
    images = JSONAttribute(default=list)
    category_ids = string_list(default=list)
    is_active = BooleanAttribute(default=True)
    sort_order = NumberAttribute(default=0)
    version = VersionAttribute()

    @classmethod
    def key(cls, tenant_id: str, item_id: str) -> tuple[str, str]:
        return _in_tenant(tenant_id, "RESOURCE", item_id)


class StaffItem(BookingStamped, discriminator="BOOKING_STAFF"):
    """pk `TENANT#<tid>`, sk `STAFF#<id>`."""

    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    bio = UnicodeAttribute(null=True)
    photo_url = UnicodeAttribute(null=True)
    service_ids = string_list(default=list)
    working_hours = JSONAttribute(default=dict)
    timezone = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    is_active = BooleanAttribute(default=True)
    sort_order = NumberAttribute(default=0)

    @classmethod
    def key(cls, tenant_id: str, item_id: str) -> tuple[str, str]:
        return _in_tenant(tenant_id, "STAFF", item_id)


class ServiceItem(BookingStamped, discriminator="BOOKING_SERVICE"):
    """pk `TENANT#<tid>`, sk `SERVICE#<id>`; price and duration are per pet."""

    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    slug = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    duration_minutes = NumberAttribute()
    price = DecimalAttribute()
    currency = UnicodeAttribute()
    buffer_minutes = NumberAttribute(default=0)
    required_resource_type = UnicodeAttribute(null=True)
    required_vaccinations = string_list(default=list)
    species = string_list(default=list)
    size_overrides = JSONAttribute(default=dict)
    max_pets = NumberAttribute(default=1)
    deposit_percent = NumberAttribute(null=True)
    is_active = BooleanAttribute(default=True)
    sort_order = NumberAttribute(default=0)

    @classmethod
    def key(cls, tenant_id: str, item_id: str) -> tuple[str, str]:
        return _in_tenant(tenant_id, "SERVICE", item_id)


class PackageOfferItem(BookingStamped, discriminator="BOOKING_PACKAGE"):
    """pk `TENANT#<tid>`, sk `PACKAGE#<id>`: N sessions of one service."""

    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    slug = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    service_id = UnicodeAttribute()
    sessions = NumberAttribute()
    price = DecimalAttribute()
    currency = UnicodeAttribute()
    validity_days = NumberAttribute(null=True)
    is_active = BooleanAttribute(default=True)
    sort_order = NumberAttribute(default=0)

    @classmethod
    def key(cls, tenant_id: str, item_id: str) -> tuple[str, str]:
        return _in_tenant(tenant_id, "PACKAGE", item_id)


class PetItem(BookingStamped, discriminator="BOOKING_PET"):
    """pk `TENANT#<tid>#USER#<uid>`, sk `PET#<id>`; GSI1 `TENANT#<tid>#PETS` for the admin."""

    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    name = UnicodeAttribute()
    species = UnicodeAttribute()
    breed = UnicodeAttribute(null=True)
    size = UnicodeAttribute(null=True)
    birth_date = UnicodeAttribute(null=True)
    weight_kg = DecimalAttribute(null=True)
    notes = UnicodeAttribute(null=True)
    vaccinations = JSONAttribute(default=list)
    version = VersionAttribute()

    @classmethod
    def key(cls, tenant_id: str, user_id: str, pet_id: str) -> tuple[str, str]:
        return customer_partition(tenant_id, user_id), f"PET#{pet_id}"

    def index(self) -> None:
        self.gsi1pk, self.gsi1sk = f"TENANT#{self.tenant_id}#PETS", f"{self.name}#{self.id}"


class UserPackageItem(BookingStamped, discriminator="BOOKING_USER_PACKAGE"):
    """pk `TENANT#<tid>#USER#<uid>`, sk `USER_PACKAGE#<id>`; GSI1 `TENANT#<tid>#PACKAGES` for the admin."""

    id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    package_id = UnicodeAttribute()
    service_id = UnicodeAttribute()
    name = UnicodeAttribute()
    sessions_total = NumberAttribute()
    sessions_used = NumberAttribute(default=0)
    status = UnicodeAttribute()
    invoice_id = UnicodeAttribute(null=True)
    purchased_at = UTCDateTimeAttribute(null=True)
    expires_at = UTCDateTimeAttribute(null=True)
    history = JSONAttribute(default=list)
    version = VersionAttribute()

    @classmethod
    def key(cls, tenant_id: str, user_id: str, user_package_id: str) -> tuple[str, str]:
        return customer_partition(tenant_id, user_id), f"USER_PACKAGE#{user_package_id}"

    def index(self) -> None:
        self.gsi1pk, self.gsi1sk = f"TENANT#{self.tenant_id}#PACKAGES", f"{iso(self.created_at)}#{self.id}"


class BookingGuardItem(BookingTable, discriminator="UNIQUE"):
    """pk `UNIQUE#TENANT#<slug>` or `UNIQUE#<tenant id>#<KIND>#<slug>`: slugs unique (per tenant)."""

    owner_id = UnicodeAttribute()

    @classmethod
    def tenant_slug(cls, slug: str, owner_id: str) -> BookingGuardItem:
        """The guard of a tenant's slug (unique across tenants)."""
        return cls(f"UNIQUE#TENANT#{slug}", "UNIQUE", owner_id=owner_id)

    @classmethod
    def slug_in_tenant(cls, tenant_id: str, kind: str, slug: str, owner_id: str) -> BookingGuardItem:
        """The guard of an entity's slug within its tenant (`kind`: SCHEMA, CATEGORY, RESOURCE, SERVICE, …)."""
        return cls(f"UNIQUE#{tenant_id}#{kind}#{slug}", "UNIQUE", owner_id=owner_id)
