"""The seed data of contract seed-data.md, and that seeding twice changes nothing."""

from __future__ import annotations

from decimal import Decimal

from chalicelib.booking.models import PetItem, ResourceItem, ServiceItem, StaffItem, TenantItem, UserPackageItem
from chalicelib.catalog import repository
from chalicelib.core.ids import seed_id
from chalicelib.invoices.models import InvoiceItem
from chalicelib.seed.data import USERS
from chalicelib.seed.runner import seed
from chalicelib.subscriptions.repository import subscriptions_of
from chalicelib.tokens.models import TokenBalanceItem, TokenEntryItem
from chalicelib.users.repository import find_details, find_user_by_email
from tests.contract import LOGGED_IN_PERMISSIONS, PRO_PERMISSIONS


def test_seeding_again_creates_nothing(seeded: dict[str, object]) -> None:
    again = seed()
    assert {key: value for key, value in again.items() if key != "stage" and value} == {}


def test_users_and_access_levels(seeded: dict[str, object]) -> None:
    admin = find_user_by_email("ADMIN@example.com")
    assert admin is not None and admin.role == "ADMIN" and admin.access_level_ids == []
    observer = find_user_by_email("observer@example.com")
    ref = repository.reference()
    assert [lvl.slug for lvl in ref.admin_access_levels if lvl.id in observer.access_level_ids] == ["observer"]
    assert find_user_by_email("suspended@example.com").status == "SUSPENDED"
    pro = find_user_by_email("user.pro@demo.local")
    assert pro.has_used_trial is True
    assert find_details(pro.id).country == "DE"
    assert find_details(find_user_by_email("test@example.com").id).country is None
    assert find_details(find_user_by_email("test2@example.com").id) is None
    assert find_user_by_email("test@example.com").name == "Test User"


def test_user_access_levels_follow_the_contract_table(seeded: dict[str, object]) -> None:
    levels = {level.slug: level for level in repository.reference().user_access_levels}
    assert {slug: (lvl.name, lvl.is_system, lvl.linked_plan_slug) for slug, lvl in levels.items()} == {
        "new": ("New", True, None),
        "logged-in": ("Logged in", True, "free"),
        "subscribed-basic": ("Subscribed (Basic)", False, "basic"),
        "subscribed-pro": ("Subscribed (Pro)", False, "pro"),
    }
    assert levels["new"].permissions == ["user.profile.view"]
    assert levels["logged-in"].permissions == LOGGED_IN_PERMISSIONS
    assert levels["subscribed-basic"].permissions == LOGGED_IN_PERMISSIONS
    assert levels["subscribed-pro"].permissions == PRO_PERMISSIONS


def test_every_seeded_user_but_the_pro_user_holds_logged_in(seeded: dict[str, object]) -> None:
    names = {level.id: level.slug for level in repository.reference().user_access_levels}
    held = {
        user["email"]: [names[i] for i in find_user_by_email(user["email"]).user_access_level_ids] for user in USERS
    }
    customers = [user["email"] for user in USERS if user["role"] == "USER"]
    assert {email: held[email] for email in customers} == {
        email: ["subscribed-pro"] if email == "user.pro@demo.local" else ["logged-in"] for email in customers
    }
    assert all(held[user["email"]] == [] for user in USERS if user["role"] != "USER")


def test_reference_data(seeded: dict[str, object]) -> None:
    countries = repository.countries()
    assert len(countries) == 249
    enabled = sorted((c for c in countries if c.is_enabled), key=lambda c: c.position)
    assert [c.code for c in enabled] == ["DE", "AT", "CH", "FR", "IT", "ES", "PL", "TH"]
    assert {c.code: c.position for c in countries}["JP"] == 999
    ref = repository.reference()
    rates = {c.code: (c.exchange_rate, int(c.decimal_places)) for c in ref.currencies}
    assert rates["JPY"] == (Decimal("160.000000"), 0)
    assert {t.code for t in ref.taxes} >= {"VAT_DE", "VAT_TH"}
    assert [p.slug for p in ref.plans if not p.is_active] == ["legacy-plan"]
    assert len(ref.plans) == 14 and len(ref.addons) == 7 and len(ref.token_bundles) == 4
    assert len(ref.user_access_levels) == 4 and len(ref.admin_access_levels) == 3


def test_seeded_purchases_are_numbered_in_order(seeded: dict[str, object]) -> None:
    numbers = {}
    for email in ("test@example.com", "user.free@demo.local", "user.pro@demo.local"):
        user = find_user_by_email(email)
        [subscription] = subscriptions_of(user.id)
        assert subscription.status == "ACTIVE"
        invoice = InvoiceItem.get(*InvoiceItem.key(seed_id("invoice", email)))
        assert invoice.status == "PAID" and invoice.subscription_id == subscription.id
        assert invoice.line_items[0].item_id == subscription.id
        numbers[email] = invoice
    year = numbers["test@example.com"].invoiced_at.year
    assert [i.invoice_number for i in numbers.values()] == [f"INV-{year}-00000{n}" for n in (1, 2, 3)]
    pro = numbers["user.pro@demo.local"]
    assert (pro.subtotal, pro.tax_amount, pro.total_amount, pro.tax_code) == (
        Decimal("29.99"),
        Decimal("5.70"),
        Decimal("35.69"),
        "VAT_DE",
    )
    assert numbers["test@example.com"].total_amount == Decimal("9.99")
    assert numbers["user.free@demo.local"].payment_ref == "zero-price"


def test_token_balances_match_their_ledger(seeded: dict[str, object]) -> None:
    pro = find_user_by_email("user.pro@demo.local")
    balance = TokenBalanceItem.get(*TokenBalanceItem.key(pro.id))
    entries = list(TokenEntryItem.query(f"USER#{pro.id}", TokenEntryItem.sk.startswith("ENTRY#")))
    assert balance.balance == 200 == sum(e.amount for e in entries)
    assert [e.transaction_type for e in entries] == ["SUBSCRIPTION"]
    test_user = find_user_by_email("test@example.com")
    assert TokenBalanceItem.count(f"USER#{test_user.id}") == 0


def test_booking_tenants_resources_and_grooming(seeded: dict[str, object]) -> None:
    tenants = {t.slug: t for t in TenantItem.query(TenantItem.PK)}
    assert set(tenants) == {"default", "pawfect"}
    assert tenants["default"].is_default and not tenants["pawfect"].is_default
    assert tenants["pawfect"].admin_user_ids == [seed_id("user", "salon.admin@demo.local")]
    default_resources = {
        r.slug: r
        for r in ResourceItem.query(f"TENANT#{tenants['default'].id}", ResourceItem.sk.startswith("RESOURCE#"))
    }
    assert set(default_resources) == {"doctor-consultation", "meeting-room-a", "yoga-class", "holiday-apartment"}
    assert default_resources["yoga-class"].capacity == 10
    assert default_resources["holiday-apartment"].slot_duration_minutes is None
    assert default_resources["meeting-room-a"].availability["schedule"]["mon"] == [{"start": "08:00", "end": "18:00"}]
    pawfect = f"TENANT#{tenants['pawfect'].id}"
    services = {s.slug: s for s in ServiceItem.query(pawfect, ServiceItem.sk.startswith("SERVICE#"))}
    assert services["full-groom"].size_overrides["LARGE"] == {"duration_minutes": 120, "price": "80.00"}
    assert {s.name for s in StaffItem.query(pawfect, StaffItem.sk.startswith("STAFF#"))} == {
        "Anna Berger",
        "Ben Kraus",
        "Clara Vogel",
    }
    owner = seed_id("user", "pet.owner@demo.local")
    customer = f"{pawfect}#USER#{owner}"
    pets = {p.name: p for p in PetItem.query(customer, PetItem.sk.startswith("PET#"))}
    assert set(pets) == {"Rex", "Bella", "Mia"}
    assert [v["vaccine"] for v in pets["Bella"].vaccinations] == ["RABIES", "DHPP"]
    [package] = UserPackageItem.query(customer, UserPackageItem.sk.startswith("USER_PACKAGE#"))
    assert (package.status, package.sessions_total, package.sessions_used) == ("ACTIVE", 5, 0)
    invoice = InvoiceItem.get(*InvoiceItem.key(package.invoice_id))
    assert invoice.invoice_number == f"BK-{invoice.invoiced_at.year}-000001"
    assert (invoice.subtotal, invoice.tax_amount, invoice.total_amount) == (
        Decimal("290.00"),
        Decimal("55.10"),
        Decimal("345.10"),
    )
