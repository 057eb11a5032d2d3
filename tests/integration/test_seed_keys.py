"""The seed writes its records under the keys and index values docs/data-model.md documents (the seed builds no
key itself: it asks the models and repositories of each aggregate)."""

from __future__ import annotations

from chalicelib.booking.models import (
    BookingGuardItem,
    PetItem,
    SchemaItem,
    ServiceItem,
    TenantItem,
    UserPackageItem,
)
from chalicelib.catalog.models import UniqueGuardItem
from chalicelib.core.ids import seed_id
from chalicelib.core.times import iso
from chalicelib.invoices.models import InvoiceItem
from chalicelib.subscriptions.models import SubscriptionItem
from chalicelib.users.models import EmailGuardItem, UserDetailsItem, UserItem

PAWFECT = seed_id("tenant", "pawfect")
OWNER = seed_id("user", "pet.owner@demo.local")


def test_users_their_e_mail_guards_and_details(seeded: dict[str, object]) -> None:
    user_id = seed_id("user", "user.pro@demo.local")
    user = UserItem.get(f"USER#{user_id}", "PROFILE", consistent_read=True)
    assert (user.gsi1pk, user.gsi1sk) == ("USERS", f"{iso(user.created_at)}#{user_id}")
    assert user.gsi2pk == "USERS#ACTIVE"
    assert EmailGuardItem.get("EMAIL#user.pro@demo.local", "EMAIL").user_id == user_id
    assert UserDetailsItem.get(f"USER#{user_id}", "DETAILS").country == "DE"


def test_seeded_purchases_subscription_and_invoice_keys(seeded: dict[str, object]) -> None:
    email = "user.pro@demo.local"
    user_id, subscription_id = seed_id("user", email), seed_id("subscription", email)
    subscription = SubscriptionItem.get(f"USER#{user_id}", f"SUB#{subscription_id}", consistent_read=True)
    assert (subscription.gsi1pk, subscription.gsi1sk) == (f"SUB#{subscription_id}", "SUB")
    assert (subscription.gsi3pk, subscription.gsi3sk) == (
        "SUBSCRIPTIONS",
        f"{iso(subscription.created_at)}#{subscription_id}",
    )
    invoice_id = seed_id("invoice", email)
    invoice = InvoiceItem.get(f"INVOICE#{invoice_id}", "INVOICE", consistent_read=True)
    assert (invoice.gsi1pk, invoice.gsi1sk) == (f"USER#{user_id}", f"{iso(invoice.created_at)}#{invoice_id}")


def test_catalog_uniqueness_guards(seeded: dict[str, object]) -> None:
    assert UniqueGuardItem.get("UNIQUE#PLAN_SLUG#basic", "UNIQUE").owner_id == seed_id("plan", "basic")
    assert UniqueGuardItem.get("UNIQUE#PAYMENT_METHOD_CODE#invoice", "UNIQUE").owner_id == seed_id(
        "payment_method", "invoice"
    )


def test_booking_records_guards_and_indexes(seeded: dict[str, object]) -> None:
    assert TenantItem.get("TENANT", PAWFECT).slug == "pawfect"
    assert BookingGuardItem.get("UNIQUE#TENANT#pawfect", "UNIQUE").owner_id == PAWFECT
    schema_id = seed_id("schema", "default:room")
    default = seed_id("tenant", "default")
    assert SchemaItem.get(f"TENANT#{default}", f"SCHEMA#{schema_id}").slug == "room"
    assert BookingGuardItem.get(f"UNIQUE#{default}#SCHEMA#room", "UNIQUE").owner_id == schema_id
    service_id = seed_id("service", "pawfect:full-groom")
    assert ServiceItem.get(f"TENANT#{PAWFECT}", f"SERVICE#{service_id}").slug == "full-groom"
    assert BookingGuardItem.get(f"UNIQUE#{PAWFECT}#SERVICE#full-groom", "UNIQUE").owner_id == service_id

    customer = f"TENANT#{PAWFECT}#USER#{OWNER}"
    pet_id = seed_id("pet", "pawfect:pet.owner@demo.local:Rex")
    pet = PetItem.get(customer, f"PET#{pet_id}")
    assert (pet.gsi1pk, pet.gsi1sk) == (f"TENANT#{PAWFECT}#PETS", f"Rex#{pet_id}")
    package_id = seed_id("user_package", "pawfect:pet.owner@demo.local:full-groom-5")
    package = UserPackageItem.get(customer, f"USER_PACKAGE#{package_id}")
    assert (package.gsi1pk, package.gsi1sk) == (f"TENANT#{PAWFECT}#PACKAGES", f"{iso(package.created_at)}#{package_id}")
