"""Seeds the booking tenants of seed-data.md §12 and the package the pet owner bought (§11, `BK-<year>-000001`)."""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.booking.models import (
    BookingGuardItem,
    PackageOfferItem,
    PetItem,
    ResourceCategoryItem,
    ResourceItem,
    SchemaItem,
    ServiceItem,
    StaffItem,
    TenantItem,
    UserPackageItem,
)
from chalicelib.booking.repository import add_user_package, user_package_of
from chalicelib.catalog import pricing, repository
from chalicelib.catalog.models import TaxItem
from chalicelib.core.ids import seed_id
from chalicelib.invoices.builder import Line, build_invoice
from chalicelib.invoices.repository import add_invoice
from chalicelib.seed.catalog import write_missing
from chalicelib.store.numbering import commit_numbered, take_number
from chalicelib.store.transactions import Transaction
from chalicelib.users.models import UserDetailsItem
from chalicelib.users.repository import find_details

D = Decimal
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BERLIN = "Europe/Berlin"
BOOKING_INVOICE_PREFIX = "BK"


def weekly(windows: dict[str, list[tuple[str, str]]]) -> dict[str, list[dict[str, str]]]:
    """`{"mon": [("09:00", "17:00")]}` → the contract's schedule with every weekday present."""
    return {day: [{"start": s, "end": e} for s, e in windows.get(day, [])] for day in DAYS}


def days(names: str, start: str, end: str) -> dict[str, list[tuple[str, str]]]:
    chosen = DAYS[DAYS.index(names.split("-")[0]) : DAYS.index(names.split("-")[1]) + 1] if "-" in names else [names]
    return {day: [(start, end)] for day in chosen}


def field(name: str, label: str, kind: str, required: bool, max_length: int | None = None) -> dict[str, Any]:
    return {"name": name, "label": label, "type": kind, "required": required, "options": [], "max_length": max_length}


TENANTS: tuple[dict[str, Any], ...] = (
    {"slug": "default", "name": "Default venue", "is_default": True, "settings": {}, "admins": []},
    {
        "slug": "pawfect",
        "name": "Pawfect Grooming Salon",
        "is_default": False,
        "settings": {
            "deposit_percent": 20,
            "refund_on_cancel": True,
            "require_verified_vaccinations": False,
            "reminder_offsets_minutes": [1440, 120],
            "reminder_channels": ["email", "sms"],
        },
        "admins": ["salon.admin@demo.local"],
    },
)

SCHEMAS = {
    "default": (
        ("consultation", "Consultation", [field("reason", "Reason", "text", True, 200)]),
        ("room", "Room", [field("attendees", "Attendees", "number", False)]),
        ("class", "Class", []),
        ("apartment", "Apartment", [field("guests", "Guests", "number", True)]),
    ),
    "pawfect": (("grooming-table", "Grooming table", []), ("bath-station", "Bath station", [])),
}

CATEGORIES = {
    "default": (("consultations", "Consultations"), ("rooms", "Rooms"), ("classes", "Classes"), ("stays", "Stays")),
    "pawfect": (("grooming", "Grooming"),),
}


def _christmas_closures(today: date) -> list[dict[str, Any]]:
    closures = []
    for year in (today.year, today.year + 1):
        closures += [{"date": date(year, 12, day).isoformat(), "closed": True} for day in (24, 25, 26)]
    return closures


def _resources(today: date) -> dict[str, tuple[dict[str, Any], ...]]:
    return {
        "default": (
            {
                "slug": "doctor-consultation",
                "name": "Doctor consultation",
                "type": "consultation",
                "category": "consultations",
                "capacity": 1,
                "slot": 30,
                "price": D("50.00"),
                "unit": "per_slot",
                "schedule": days("mon-fri", "09:00", "17:00"),
                "buffer": 0,
                "lead": 1,
                "advance": 90,
            },
            {
                "slug": "meeting-room-a",
                "name": "Meeting room A",
                "type": "room",
                "category": "rooms",
                "capacity": 1,
                "slot": 60,
                "price": D("25.00"),
                "unit": "per_slot",
                "schedule": days("mon-fri", "08:00", "18:00"),
                "buffer": 15,
                "lead": 1,
                "advance": 90,
            },
            {
                "slug": "yoga-class",
                "name": "Yoga class",
                "type": "class",
                "category": "classes",
                "capacity": 10,
                "slot": 60,
                "price": D("15.00"),
                "unit": "per_slot",
                "schedule": {
                    **days("mon", "18:00", "19:00"),
                    **days("wed", "18:00", "19:00"),
                    **days("fri", "18:00", "19:00"),
                    **days("sat", "10:00", "11:00"),
                },
                "buffer": 0,
                "lead": 1,
                "advance": 60,
            },
            {
                "slug": "holiday-apartment",
                "name": "Holiday apartment",
                "type": "apartment",
                "category": "stays",
                "capacity": 1,
                "slot": None,
                "price": D("120.00"),
                "unit": "per_day",
                "schedule": days("mon-sun", "00:00", "23:59"),
                "exceptions": _christmas_closures(today),
                "buffer": 0,
                "lead": 24,
                "advance": 365,
            },
        ),
        "pawfect": tuple(
            {
                "slug": slug,
                "name": name,
                "type": kind,
                "category": "grooming",
                "capacity": 1,
                "slot": 30,
                "price": D("0.00"),
                "unit": "per_slot",
                "schedule": schedule,
                "buffer": 0,
                "lead": 1,
                "advance": 90,
            }
            for slug, name, kind, schedule in (
                ("table-1", "Table 1", "grooming-table", days("tue-sat", "08:00", "19:00")),
                ("table-2", "Table 2", "grooming-table", days("tue-sat", "08:00", "19:00")),
                ("bath-1", "Bath 1", "bath-station", days("mon-sat", "08:00", "19:00")),
            )
        ),
    }


SERVICES: tuple[dict[str, Any], ...] = (
    {
        "slug": "full-groom",
        "name": "Full groom",
        "duration": 90,
        "price": D("65.00"),
        "buffer": 15,
        "needs": "grooming-table",
        "vaccinations": ["RABIES", "DHPP"],
        "species": ["DOG"],
        "max_pets": 3,
        "deposit": None,
        "sizes": {
            "SMALL": {"duration_minutes": 60, "price": "50.00"},
            "LARGE": {"duration_minutes": 120, "price": "80.00"},
            "XLARGE": {"duration_minutes": 150, "price": "95.00"},
        },
    },
    {
        "slug": "bath-brush",
        "name": "Bath & brush",
        "duration": 45,
        "price": D("35.00"),
        "buffer": 10,
        "needs": "bath-station",
        "vaccinations": ["RABIES"],
        "species": ["DOG", "CAT"],
        "max_pets": 4,
        "deposit": 0,
        "sizes": {},
    },
    {
        "slug": "nail-trim",
        "name": "Nail trim",
        "duration": 15,
        "price": D("12.00"),
        "buffer": 5,
        "needs": "grooming-table",
        "vaccinations": [],
        "species": [],
        "max_pets": 4,
        "deposit": 0,
        "sizes": {},
    },
)

STAFF = (
    ("Anna Berger", ["full-groom", "bath-brush", "nail-trim"], days("tue-sat", "09:00", "17:00")),
    ("Ben Kraus", ["bath-brush", "nail-trim"], days("mon-fri", "08:00", "16:00")),
    ("Clara Vogel", ["full-groom"], days("sat", "09:00", "14:00")),
)

PACKAGES: tuple[tuple[str, str, str, int, Decimal, int], ...] = (
    ("full-groom-5", "Full groom × 5 sessions", "full-groom", 5, D("290.00"), 365),
    ("bath-10", "Bath & brush × 10 sessions", "bath-brush", 10, D("300.00"), 365),
)

PET_OWNER = "pet.owner@demo.local"
PETS = (
    ("Rex", "DOG", "Labrador Retriever", "LARGE", [("RABIES", -60, 305, True), ("DHPP", -60, 305, True)]),
    ("Bella", "DOG", "Poodle", "SMALL", [("RABIES", -30, 335, False), ("DHPP", -375, -10, False)]),
    ("Mia", "CAT", "British Shorthair", "SMALL", [("RABIES", -345, 20, False)]),
)


def seed_booking(now: datetime, stage: str) -> dict[str, int]:
    created: dict[str, int] = {}
    tenants = [t for t in TENANTS if stage != "prod" or t["slug"] == "default"]
    created["tenants"] = write_missing(TenantItem, (_tenant(t, now) for t in tenants))
    write_missing(
        BookingGuardItem, [BookingGuardItem.tenant_slug(t["slug"], seed_id("tenant", t["slug"])) for t in tenants]
    )
    if stage == "prod":
        return created
    today = now.date()
    resources = _resources(today)
    for tenant in TENANTS:
        slug = tenant["slug"]
        created[f"{slug}_entities"] = _seed_tenant_catalog(slug, resources[slug], now)
    created["pawfect_services"] = _seed_grooming(now)
    created["pets"] = _seed_pets(now)
    created["packages_sold"] = _seed_package_purchase(now)
    return created


def _tenant(spec: dict[str, Any], now: datetime) -> TenantItem:
    tenant_id = seed_id("tenant", spec["slug"])
    return TenantItem(
        *TenantItem.key(tenant_id),
        id=tenant_id,
        slug=spec["slug"],
        name=spec["name"],
        timezone=BERLIN,
        currency="EUR",
        is_default=spec["is_default"],
        is_active=True,
        settings=dict(spec["settings"]),
        admin_user_ids=[seed_id("user", email) for email in spec["admins"]],
        created_at=now,
        updated_at=now,
    )


def _guard(tenant_id: str, kind: str, slug: str, owner: str) -> BookingGuardItem:
    return BookingGuardItem.slug_in_tenant(tenant_id, kind, slug, owner)


def _seed_tenant_catalog(tenant_slug: str, resources: tuple[dict[str, Any], ...], now: datetime) -> int:
    tenant_id = seed_id("tenant", tenant_slug)
    key = f"{tenant_slug}:"
    schema_ids = {slug: seed_id("schema", key + slug) for slug, _, _ in SCHEMAS[tenant_slug]}
    category_ids = {slug: seed_id("booking_category", key + slug) for slug, _ in CATEGORIES[tenant_slug]}
    created = write_missing(
        SchemaItem,
        (
            SchemaItem(
                *SchemaItem.key(tenant_id, schema_ids[slug]),
                id=schema_ids[slug],
                tenant_id=tenant_id,
                name=name,
                slug=slug,
                fields=fields,
                sort_order=i,
                created_at=now,
                updated_at=now,
            )
            for i, (slug, name, fields) in enumerate(SCHEMAS[tenant_slug])
        ),
    )
    created += write_missing(
        ResourceCategoryItem,
        (
            ResourceCategoryItem(
                *ResourceCategoryItem.key(tenant_id, category_ids[slug]),
                id=category_ids[slug],
                tenant_id=tenant_id,
                name=name,
                slug=slug,
                sort_order=i,
                created_at=now,
                updated_at=now,
            )
            for i, (slug, name) in enumerate(CATEGORIES[tenant_slug])
        ),
    )
    resource_ids = {r["slug"]: seed_id("resource", key + r["slug"]) for r in resources}
    created += write_missing(
        ResourceItem,
        (
            ResourceItem(
                *ResourceItem.key(tenant_id, resource_ids[r["slug"]]),
                id=resource_ids[r["slug"]],
                tenant_id=tenant_id,
                name=r["name"],
                slug=r["slug"],
                resource_type=r["type"],
                custom_schema_id=schema_ids[r["type"]],
                capacity=r["capacity"],
                slot_duration_minutes=r["slot"],
                price=r["price"],
                currency="EUR",
                price_unit=r["unit"],
                timezone=BERLIN,
                availability={
                    "schedule": weekly(r["schedule"]),
                    "exceptions": r.get("exceptions", []),
                    "lead_time_hours": r["lead"],
                    "max_advance_days": r["advance"],
                },
                config={"buffer_minutes": r["buffer"]},
                category_ids=[category_ids[r["category"]]],
                sort_order=i,
                created_at=now,
                updated_at=now,
            )
            for i, r in enumerate(resources)
        ),
    )
    write_missing(
        BookingGuardItem,
        [
            *(_guard(tenant_id, "SCHEMA", slug, schema_id) for slug, schema_id in schema_ids.items()),
            *(_guard(tenant_id, "CATEGORY", slug, category_id) for slug, category_id in category_ids.items()),
            *(_guard(tenant_id, "RESOURCE", slug, resource_id) for slug, resource_id in resource_ids.items()),
        ],
    )
    return created


def _seed_grooming(now: datetime) -> int:
    tenant_id = seed_id("tenant", "pawfect")
    service_ids = {s["slug"]: seed_id("service", f"pawfect:{s['slug']}") for s in SERVICES}
    created = write_missing(
        ServiceItem,
        (
            ServiceItem(
                *ServiceItem.key(tenant_id, service_ids[s["slug"]]),
                id=service_ids[s["slug"]],
                tenant_id=tenant_id,
                name=s["name"],
                slug=s["slug"],
                duration_minutes=s["duration"],
                price=s["price"],
                currency="EUR",
                buffer_minutes=s["buffer"],
                required_resource_type=s["needs"],
                required_vaccinations=s["vaccinations"],
                species=s["species"],
                size_overrides=s["sizes"],
                max_pets=s["max_pets"],
                deposit_percent=s["deposit"],
                sort_order=i,
                created_at=now,
                updated_at=now,
            )
            for i, s in enumerate(SERVICES)
        ),
    )
    created += write_missing(
        StaffItem,
        (
            StaffItem(
                *StaffItem.key(tenant_id, seed_id("staff", f"pawfect:{name}")),
                id=seed_id("staff", f"pawfect:{name}"),
                tenant_id=tenant_id,
                name=name,
                service_ids=[service_ids[s] for s in services],
                working_hours={"schedule": weekly(hours), "exceptions": []},
                timezone=BERLIN,
                sort_order=i,
                created_at=now,
                updated_at=now,
            )
            for i, (name, services, hours) in enumerate(STAFF)
        ),
    )
    created += write_missing(
        PackageOfferItem,
        (
            PackageOfferItem(
                *PackageOfferItem.key(tenant_id, seed_id("package", f"pawfect:{slug}")),
                id=seed_id("package", f"pawfect:{slug}"),
                tenant_id=tenant_id,
                name=name,
                slug=slug,
                service_id=service_ids[service],
                sessions=sessions,
                price=price,
                currency="EUR",
                validity_days=validity,
                sort_order=i,
                created_at=now,
                updated_at=now,
            )
            for i, (slug, name, service, sessions, price, validity) in enumerate(PACKAGES)
        ),
    )
    write_missing(
        BookingGuardItem,
        [
            *(_guard(tenant_id, "SERVICE", slug, service_id) for slug, service_id in service_ids.items()),
            *(_guard(tenant_id, "PACKAGE", p[0], seed_id("package", f"pawfect:{p[0]}")) for p in PACKAGES),
        ],
    )
    return created


def _seed_pets(now: datetime) -> int:
    tenant_id = seed_id("tenant", "pawfect")
    user_id = seed_id("user", PET_OWNER)
    today = now.date()
    pets = []
    for name, species, breed, size, shots in PETS:
        pet_id = seed_id("pet", f"pawfect:{PET_OWNER}:{name}")
        vaccinations = [
            {
                "id": seed_id("vaccination", f"{pet_id}:{vaccine}"),
                "pet_id": pet_id,
                "vaccine": vaccine,
                "administered_on": (today + timedelta(days=given)).isoformat(),
                "expires_on": (today + timedelta(days=expires)).isoformat(),
                "verified": verified,
                "verified_by": seed_id("user", "salon.admin@demo.local") if verified else None,
                "verified_at": now.isoformat() if verified else None,
                "document_url": None,
                "notes": None,
                "created_at": now.isoformat(),
                "updated_at": now.isoformat(),
            }
            for vaccine, given, expires, verified in shots
        ]
        pet = PetItem(
            *PetItem.key(tenant_id, user_id, pet_id),
            id=pet_id,
            tenant_id=tenant_id,
            user_id=user_id,
            name=name,
            species=species,
            breed=breed,
            size=size,
            vaccinations=vaccinations,
            created_at=now,
            updated_at=now,
        )
        pet.index()
        pets.append(pet)
    return write_missing(PetItem, pets)


def _seed_package_purchase(now: datetime) -> int:
    """The pet owner's `full-groom-5`, paid by the year's first booking invoice."""
    tenant_id = seed_id("tenant", "pawfect")
    user_id = seed_id("user", PET_OWNER)
    user_package_id = seed_id("user_package", f"pawfect:{PET_OWNER}:full-groom-5")
    if user_package_of(tenant_id, user_id, user_package_id) is not None:
        return 0
    details = find_details(user_id)
    ref = repository.reference()
    tax = pricing.applicable_tax(details.country if details else None, ref.taxes, ref.tax_classes)
    commit_numbered(functools.partial(_add_package_purchase, details=details, tax=tax, now=now))
    return 1


def _add_package_purchase(tx: Transaction, details: UserDetailsItem | None, tax: TaxItem | None, now: datetime) -> None:
    tenant_id = seed_id("tenant", "pawfect")
    user_id = seed_id("user", PET_OWNER)
    package_id = seed_id("package", "pawfect:full-groom-5")
    user_package_id = seed_id("user_package", f"pawfect:{PET_OWNER}:full-groom-5")
    invoice_id = seed_id("invoice", f"{PET_OWNER}:full-groom-5")
    line = Line(
        line_id=seed_id("line", f"{invoice_id}:package"),
        item_type="CUSTOM",
        description="Full groom × 5 sessions",
        unit_price=D("290.00"),
        item_id=user_package_id,
        catalog_item_id=package_id,
        metadata={
            "plugin": "booking",
            "kind": "package",
            "tenant": "pawfect",
            "package_id": package_id,
            "package_slug": "full-groom-5",
            "sessions": 5,
        },
    )
    invoice = build_invoice(
        invoice_id=invoice_id,
        user_id=user_id,
        number=take_number(tx, BOOKING_INVOICE_PREFIX, now.year, invoice_id),
        billing_reason="BOOKING",
        currency="EUR",
        places=2,
        lines=[line],
        tax=tax,
        details=details,
        now=now,
        status="PAID",
        payment_method="sandbox",
        payment_ref="sandbox_seed_package",
        due_date=now,
        paid_at=now,
        capture_count=1,
    )
    add_invoice(tx, invoice)
    user_package = UserPackageItem(
        *UserPackageItem.key(tenant_id, user_id, user_package_id),
        id=user_package_id,
        tenant_id=tenant_id,
        user_id=user_id,
        package_id=package_id,
        service_id=seed_id("service", "pawfect:full-groom"),
        name="Full groom × 5 sessions",
        sessions_total=5,
        sessions_used=0,
        status="ACTIVE",
        invoice_id=invoice_id,
        purchased_at=now,
        expires_at=now + timedelta(days=365),
        history=[],
        created_at=now,
        updated_at=now,
    )
    add_user_package(tx, user_package)
