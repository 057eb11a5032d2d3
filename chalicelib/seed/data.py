"""The demo and test data of contract seed-data.md §2–§10, as plain data."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

D = Decimal

# §2 — users. `local_only` users are not seeded in dev; prod seeds only its initial admin. A USER without
# `user_access_levels` gets the level every registration gets (`logged-in`).
USERS: tuple[dict[str, Any], ...] = (
    {
        "email": "admin@example.com",
        "password": "AdminPass123@",
        "role": "ADMIN",
        "status": "ACTIVE",
        "details": {"first_name": "Admin", "last_name": "User"},
    },
    {
        "email": "super@example.com",
        "password": "SuperPass123@",
        "role": "SUPER_ADMIN",
        "status": "ACTIVE",
        "details": {"first_name": "Super", "last_name": "Admin"},
        "local_only": True,
    },
    {
        "email": "observer@example.com",
        "password": "ObserverPass123@",
        "role": "ADMIN",
        "status": "ACTIVE",
        "details": {"first_name": "Olga", "last_name": "Observer"},
        "access_levels": ["observer"],
    },
    {
        "email": "salon.admin@demo.local",
        "password": "DemoPass123!",
        "role": "ADMIN",
        "status": "ACTIVE",
        "details": {"first_name": "Sally", "last_name": "Salon"},
        "access_levels": ["booking-manager"],
    },
    {
        "email": "test@example.com",
        "password": "TestPass123@",
        "role": "USER",
        "status": "ACTIVE",
        "details": {"first_name": "Test", "last_name": "User"},
    },
    {"email": "test2@example.com", "password": "TestPass123@", "role": "USER", "status": "ACTIVE"},
    {
        "email": "user.free@demo.local",
        "password": "DemoPass123!",
        "role": "USER",
        "status": "ACTIVE",
        "details": {"first_name": "Fred", "last_name": "Free"},
    },
    {
        "email": "user.pro@demo.local",
        "password": "DemoPass123!",
        "role": "USER",
        "status": "ACTIVE",
        "details": {"first_name": "Paula", "last_name": "Pro", "city": "Berlin", "country": "DE"},
        "user_access_levels": ["subscribed-pro"],
        "has_used_trial": True,
    },
    {
        "email": "user.de@demo.local",
        "password": "DemoPass123!",
        "role": "USER",
        "status": "ACTIVE",
        "details": {
            "first_name": "Dieter",
            "last_name": "Deutsch",
            "address_line_1": "Unter den Linden 1",
            "postal_code": "10115",
            "city": "Berlin",
            "country": "DE",
        },
    },
    {
        "email": "user.th@demo.local",
        "password": "DemoPass123!",
        "role": "USER",
        "status": "ACTIVE",
        "details": {"first_name": "Thanom", "last_name": "Thai", "city": "Bangkok", "country": "TH"},
    },
    {
        "email": "suspended@example.com",
        "password": "TestPass123@",
        "role": "USER",
        "status": "SUSPENDED",
        "local_only": True,
    },
    {
        "email": "pending@example.com",
        "password": "TestPass123@",
        "role": "USER",
        "status": "PENDING",
        "local_only": True,
    },
    {
        "email": "pet.owner@demo.local",
        "password": "DemoPass123!",
        "role": "USER",
        "status": "ACTIVE",
        "details": {"first_name": "Petra", "last_name": "Owner", "phone": "+4915112345678", "country": "DE"},
    },
)

# §3 — access levels.
OBSERVER_PERMISSIONS = [
    "users.view",
    "invoices.view",
    "analytics.view",
    "settings.view",
    "webhooks.view",
    "subscription.plans.view",
    "subscription.subscriptions.view",
    "booking.resources.view",
    "booking.bookings.view",
    "booking.customers.view",
]
BOOKING_MANAGER_PERMISSIONS = [
    "booking.resources.view",
    "booking.resources.manage",
    "booking.bookings.view",
    "booking.bookings.manage",
    "booking.schemas.manage",
    "booking.configure",
    "booking.staff.manage",
    "booking.services.manage",
    "booking.packages.manage",
    "booking.customers.view",
    "booking.customers.manage",
]
ADMIN_ACCESS_LEVELS: tuple[dict[str, Any], ...] = (
    {
        "slug": "full-access",
        "name": "Full access",
        "is_system": True,
        "permissions": ["*"],
        "description": "Every permission",
    },
    {
        "slug": "observer",
        "name": "Observer",
        "is_system": True,
        "permissions": OBSERVER_PERMISSIONS,
        "description": "Read-only administration",
    },
    {
        "slug": "booking-manager",
        "name": "Booking manager",
        "is_system": False,
        "permissions": BOOKING_MANAGER_PERMISSIONS,
        "description": "Runs a venue's bookings",
    },
)
_LOGGED_IN = [
    "user.profile.view",
    "user.profile.manage",
    "subscription.plans.view",
    "subscription.invoices.view",
    "subscription.tokens.view",
    "subscription.manage",
]
USER_ACCESS_LEVELS: tuple[dict[str, Any], ...] = (
    {
        "slug": "new",
        "name": "New",
        "is_system": True,
        "permissions": ["user.profile.view"],
        "linked_plan_slug": None,
    },
    {
        "slug": "logged-in",
        "name": "Logged in",
        "is_system": True,
        "permissions": _LOGGED_IN,
        "linked_plan_slug": "free",
    },
    {
        "slug": "subscribed-basic",
        "name": "Subscribed (Basic)",
        "is_system": False,
        "permissions": _LOGGED_IN,
        "linked_plan_slug": "basic",
    },
    {
        "slug": "subscribed-pro",
        "name": "Subscribed (Pro)",
        "is_system": False,
        "permissions": [*_LOGGED_IN, "subscription.tokens.manage"],
        "linked_plan_slug": "pro",
    },
)

# §4 — currencies.
CURRENCIES: tuple[dict[str, Any], ...] = (
    {
        "code": "EUR",
        "name": "Euro",
        "symbol": "€",
        "exchange_rate": D("1.000000"),
        "decimal_places": 2,
        "is_default": True,
    },
    {"code": "USD", "name": "US Dollar", "symbol": "$", "exchange_rate": D("1.080000"), "decimal_places": 2},
    {
        "code": "GBP",
        "name": "Pound Sterling",
        "symbol": "£",
        "exchange_rate": D("0.850000"),
        "decimal_places": 2,
    },
    {
        "code": "CHF",
        "name": "Swiss Franc",
        "symbol": "CHF",
        "exchange_rate": D("0.940000"),
        "decimal_places": 2,
    },
    {
        "code": "JPY",
        "name": "Japanese Yen",
        "symbol": "¥",
        "exchange_rate": D("160.000000"),
        "decimal_places": 0,
    },
    {"code": "THB", "name": "Thai Baht", "symbol": "฿", "exchange_rate": D("38.500000"), "decimal_places": 2},
)

# §6 — tax classes and taxes.
TAX_CLASSES: tuple[dict[str, Any], ...] = (
    {"code": "standard", "name": "Standard rate", "default_rate": D("19.00"), "is_default": True},
    {"code": "reduced", "name": "Reduced rate", "default_rate": D("7.00"), "is_default": False},
)
TAXES: tuple[dict[str, Any], ...] = (
    {
        "code": "VAT_DE",
        "name": "VAT Germany",
        "country_code": "DE",
        "rate": D("19.00"),
        "tax_class": "standard",
    },
    {
        "code": "VAT_DE_REDUCED",
        "name": "VAT Germany (reduced)",
        "country_code": "DE",
        "rate": D("7.00"),
        "tax_class": "reduced",
    },
    {
        "code": "VAT_AT",
        "name": "VAT Austria",
        "country_code": "AT",
        "rate": D("20.00"),
        "tax_class": "standard",
    },
    {
        "code": "VAT_CH",
        "name": "VAT Switzerland",
        "country_code": "CH",
        "rate": D("8.10"),
        "tax_class": "standard",
    },
    {
        "code": "VAT_FR",
        "name": "VAT France",
        "country_code": "FR",
        "rate": D("20.00"),
        "tax_class": "standard",
    },
    {
        "code": "VAT_IT",
        "name": "VAT Italy",
        "country_code": "IT",
        "rate": D("22.00"),
        "tax_class": "standard",
    },
    {
        "code": "VAT_ES",
        "name": "VAT Spain",
        "country_code": "ES",
        "rate": D("21.00"),
        "tax_class": "standard",
    },
    {
        "code": "VAT_PL",
        "name": "VAT Poland",
        "country_code": "PL",
        "rate": D("23.00"),
        "tax_class": "standard",
    },
    {
        "code": "VAT_TH",
        "name": "VAT Thailand",
        "country_code": "TH",
        "rate": D("7.00"),
        "tax_class": "standard",
        "is_inclusive": True,
    },
)

# §7 — categories and plans.
CATEGORIES: tuple[dict[str, Any], ...] = (
    {"slug": "root", "name": "Root", "parent": None, "is_single": False, "sort_order": 0},
    {"slug": "backend", "name": "Backend", "parent": "root", "is_single": True, "sort_order": 1},
    {"slug": "fe-admin", "name": "Admin frontend", "parent": "root", "is_single": True, "sort_order": 2},
    {"slug": "fe-user", "name": "User frontend", "parent": "root", "is_single": True, "sort_order": 3},
    {"slug": "payments", "name": "Payments", "parent": "root", "is_single": True, "sort_order": 4},
    {
        "slug": "subscription-plans",
        "name": "Subscription plans",
        "parent": None,
        "is_single": True,
        "sort_order": 5,
    },
)


def _plan(
    slug: str,
    name: str,
    price: str,
    period: str,
    trial: int,
    features: dict[str, int],
    categories: list[str],
    sort: int,
    description: str,
    currency: str = "EUR",
    active: bool = True,
) -> dict[str, Any]:
    return {
        "slug": slug,
        "name": name,
        "price": D(price),
        "currency": currency,
        "billing_period": period,
        "trial_days": trial,
        "features": features,
        "categories": categories,
        "sort_order": sort,
        "description": description,
        "is_active": active,
    }


PLANS: tuple[dict[str, Any], ...] = (
    _plan(
        "free",
        "Free",
        "0.00",
        "MONTHLY",
        0,
        {"default_tokens": 0, "storage_gb": 1, "api_calls_limit": 100},
        ["root"],
        0,
        "Try the basics",
    ),
    _plan(
        "basic",
        "Basic",
        "9.99",
        "MONTHLY",
        0,
        {"default_tokens": 50, "storage_gb": 10, "api_calls_limit": 1000},
        ["root"],
        1,
        "For individuals",
    ),
    _plan(
        "pro",
        "Pro",
        "29.99",
        "MONTHLY",
        3,
        {"default_tokens": 200, "storage_gb": 100, "api_calls_limit": 10000},
        ["root"],
        2,
        "For professionals",
    ),
    _plan(
        "enterprise",
        "Enterprise",
        "99.99",
        "MONTHLY",
        5,
        {"default_tokens": 1000, "storage_gb": 1000},
        ["root"],
        3,
        "For organisations",
    ),
    _plan("lifetime", "Lifetime", "499.99", "ONE_TIME", 0, {"default_tokens": 500}, [], 4, "Pay once, keep it"),
    _plan(
        "basic-yearly",
        "Basic Yearly",
        "99.90",
        "YEARLY",
        0,
        {"default_tokens": 600, "api_calls_limit": 12000},
        ["root"],
        5,
        "Basic, billed yearly",
    ),
    _plan(
        "quarterly",
        "Quarterly",
        "27.99",
        "QUARTERLY",
        0,
        {"default_tokens": 150},
        ["root"],
        6,
        "Billed every three months",
    ),
    _plan("weekly-pass", "Weekly Pass", "2.99", "WEEKLY", 0, {"default_tokens": 10}, ["root"], 7, "Seven days"),
    _plan("day-pass", "Day Pass", "0.99", "DAILY", 0, {"default_tokens": 2}, ["root"], 8, "One day"),
    _plan(
        "basic-usd",
        "Basic (USD)",
        "10.99",
        "MONTHLY",
        0,
        {"default_tokens": 50},
        ["root"],
        9,
        "Basic, priced in US dollars",
        currency="USD",
    ),
    _plan(
        "starter",
        "Starter",
        "4.99",
        "MONTHLY",
        14,
        {"default_tokens": 20},
        ["subscription-plans"],
        10,
        "Start small",
    ),
    _plan(
        "professional",
        "Professional",
        "19.99",
        "MONTHLY",
        14,
        {"default_tokens": 100},
        ["subscription-plans"],
        11,
        "Grow further",
    ),
    _plan(
        "test-data-basic-plan",
        "TEST_DATA_Basic Plan",
        "9.99",
        "MONTHLY",
        0,
        {"default_tokens": 0},
        ["root"],
        99,
        "Plan of the VBWD test suites",
    ),
    _plan(
        "legacy-plan",
        "Legacy Plan",
        "14.99",
        "MONTHLY",
        0,
        {"default_tokens": 0},
        [],
        100,
        "No longer sold",
        active=False,
    ),
)

# §8 — token bundles and add-ons (EUR).
TOKEN_BUNDLES: tuple[dict[str, Any], ...] = (
    {
        "name": "100 Tokens",
        "token_amount": 100,
        "price": D("3.00"),
        "sort_order": 0,
        "description": "Starter pack",
    },
    {
        "name": "500 Tokens",
        "token_amount": 500,
        "price": D("10.00"),
        "sort_order": 1,
        "description": "Regular pack",
    },
    {
        "name": "2000 Tokens",
        "token_amount": 2000,
        "price": D("35.00"),
        "sort_order": 2,
        "description": "Large pack",
    },
    {
        "name": "50 Tokens (legacy)",
        "token_amount": 50,
        "price": D("2.00"),
        "sort_order": 3,
        "is_active": False,
        "description": "No longer sold",
    },
)
ADDONS: tuple[dict[str, Any], ...] = (
    {
        "slug": "extra-storage-50gb",
        "name": "Extra Storage 50 GB",
        "price": D("4.99"),
        "billing_period": "MONTHLY",
        "plans": [],
        "sort_order": 0,
        "description": "50 GB more storage",
    },
    {
        "slug": "priority-support",
        "name": "Priority Support",
        "price": D("9.99"),
        "billing_period": "MONTHLY",
        "plans": ["pro", "enterprise"],
        "sort_order": 1,
        "description": "Answers within four hours",
    },
    {
        "slug": "api-boost",
        "name": "API Boost",
        "price": D("14.99"),
        "billing_period": "MONTHLY",
        "plans": ["professional", "enterprise"],
        "sort_order": 2,
        "description": "Higher API limits",
    },
    {
        "slug": "white-label",
        "name": "White Label",
        "price": D("49.99"),
        "billing_period": "MONTHLY",
        "plans": ["enterprise"],
        "sort_order": 3,
        "description": "Your brand instead of ours",
    },
    {
        "slug": "extra-seats-yearly",
        "name": "Extra Seats (yearly)",
        "price": D("39.00"),
        "billing_period": "YEARLY",
        "plans": [],
        "sort_order": 4,
        "description": "Five more seats",
    },
    {
        "slug": "dedicated-onboarding",
        "name": "Dedicated Onboarding",
        "price": D("199.00"),
        "billing_period": "ONE_TIME",
        "plans": [],
        "sort_order": 5,
        "description": "A guided setup session",
    },
    {
        "slug": "legacy-addon",
        "name": "Legacy Add-on",
        "price": D("1.00"),
        "billing_period": "MONTHLY",
        "plans": [],
        "sort_order": 6,
        "is_active": False,
        "description": "No longer sold",
    },
)

# §9 — payment methods.
PAYMENT_METHODS: tuple[dict[str, Any], ...] = (
    {
        "code": "invoice",
        "name": "Invoice",
        "is_default": True,
        "position": 0,
        "plugin_id": None,
        "icon": "bank",
        "description": "Pay by bank transfer",
        "short_description": "Bank transfer",
        "instructions": "Please transfer the amount within 30 days quoting the invoice number.",
        "translations": {"de": {"name": "Rechnung", "description": "Zahlung per Rechnung"}},
    },
    {
        "code": "sandbox",
        "name": "Sandbox (test payments)",
        "position": 1,
        "plugin_id": "sandbox",
        "icon": "flask",
        "description": "Payments that succeed at once, for testing",
        "short_description": "Instant test payment",
        "active_stages": ("local", "dev"),
    },
    {
        "code": "stripe",
        "name": "Credit Card",
        "position": 2,
        "plugin_id": "stripe",
        "icon": "card",
        "description": "Pay by card through Stripe",
        "short_description": "Visa, Mastercard, Amex",
        "translations": {"de": {"name": "Kreditkarte"}},
    },
    {
        "code": "paypal",
        "name": "PayPal",
        "position": 3,
        "plugin_id": "paypal",
        "icon": "paypal",
        "description": "Pay with PayPal",
        "short_description": "Pay with your PayPal account",
        "currencies": ["EUR", "USD", "GBP"],
    },
    {
        "code": "yookassa",
        "name": "YooKassa",
        "position": 4,
        "plugin_id": "yookassa",
        "icon": "card",
        "description": "Pay through YooKassa",
        "short_description": "YooKassa",
        "is_active": False,
    },
)

LANGUAGES: tuple[tuple[str, str], ...] = (
    ("en", "English"),
    ("de", "Deutsch"),
    ("ru", "Русский"),
    ("th", "ไทย"),
    ("zh", "中文"),
    ("es", "Español"),
    ("fr", "Français"),
    ("ja", "日本語"),
)

# §10 — settings, plugins, frontend manifests.
SETTINGS: dict[str, Any] = {
    "provider_name": "VBWD Demo GmbH",
    "contact_email": "billing@vbwd.local",
    "website_url": "http://localhost:8080",
    "other_links": "",
    "address_street": "Musterstraße 1",
    "address_city": "Berlin",
    "address_postal_code": "10115",
    "address_country": "DE",
    "bank_name": "Demo Bank",
    "bank_iban": "DE89370400440532013000",
    "bank_bic": "COBADEFFXXX",
    "terms_title": "Terms and Conditions",
    "invoice_prefix": "INV",
    "credit_note_prefix": "CN",
    "invoice_due_days": 30,
    "default_language": "en",
}
ENABLED_PLUGINS = ("email", "subscription", "booking", "analytics", "webhooks", "stripe", "paypal")
LOCAL_DEV_PLUGINS = ("sandbox",)
DISABLED_PLUGINS = ("yookassa",)
MANIFESTS: dict[str, dict[str, Any]] = {
    "user": {
        "plugins": {
            "checkout": {"enabled": True},
            "stripe-payment": {"enabled": True},
            "booking": {"enabled": True},
        }
    },
    "admin": {
        "plugins": {
            "subscription": {"enabled": True},
            "booking": {"enabled": True},
            "analytics": {"enabled": True},
        }
    },
}
