"""What the contract fixes and tests compare against: response field sets, formats, seeded ids and common errors.

Named once here; a test that needs a variant writes it at the use site (`SUBSCRIPTION_FIELDS | {"plan"}`).
"""

from __future__ import annotations

import re

from chalicelib.core.ids import seed_id

# --- credentials and formats ----------------------------------------------------------------------------------------

PASSWORD = "Abcdef1!"  # what tests register their own users with
UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
UUID = re.compile(f"^{UUID_PATTERN}$")
INVOICE_NUMBER = re.compile(r"^INV-(\d{4})-(\d{6})$")
# A password failing each rule of auth.md in turn, with the message of the first rule it fails.
WEAK_PASSWORDS = [
    ("Sh0rt!", "Password must be at least 8 characters"),
    ("Aa1!" + "x" * 125, "Password must be at most 128 characters"),
    ("ALLUPPER1!", "Password must contain at least one lowercase letter"),
    ("alllower1!", "Password must contain at least one uppercase letter"),
    ("NoDigits!!", "Password must contain at least one digit"),
    ("NoSpecial12", "Password must contain at least one special character"),
    ("weak", "Password must be at least 8 characters"),
]

# --- seeded catalog (seed-data.md) ----------------------------------------------------------------------------------

FREE = seed_id("plan", "free")
BASIC = seed_id("plan", "basic")
BASIC_USD = seed_id("plan", "basic-usd")
PRO = seed_id("plan", "pro")
ENTERPRISE = seed_id("plan", "enterprise")
STARTER = seed_id("plan", "starter")
PROFESSIONAL = seed_id("plan", "professional")
LIFETIME = seed_id("plan", "lifetime")
LEGACY_PLAN = seed_id("plan", "legacy-plan")

TOKENS_100 = seed_id("bundle", "100 Tokens")
TOKENS_500 = seed_id("bundle", "500 Tokens")
LEGACY_BUNDLE = seed_id("bundle", "50 Tokens (legacy)")

EXTRA_STORAGE = seed_id("addon", "extra-storage-50gb")
PRIORITY_SUPPORT = seed_id("addon", "priority-support")
API_BOOST = seed_id("addon", "api-boost")
WHITE_LABEL = seed_id("addon", "white-label")
EXTRA_SEATS_YEARLY = seed_id("addon", "extra-seats-yearly")
ONBOARDING = seed_id("addon", "dedicated-onboarding")
LEGACY_ADDON = seed_id("addon", "legacy-addon")
# Every active add-on the enterprise plan allows, in catalog order.
ENTERPRISE_ADD_ON_SLUGS = (
    "extra-storage-50gb",
    "priority-support",
    "api-boost",
    "white-label",
    "extra-seats-yearly",
    "dedicated-onboarding",
)

INVOICE_METHOD = seed_id("payment_method", "invoice")

# User access levels (seed-data.md §3), written from the contract's table rather than imported from the seed.
LOGGED_IN_PERMISSIONS = [
    "user.profile.view",
    "user.profile.manage",
    "subscription.plans.view",
    "subscription.invoices.view",
    "subscription.tokens.view",
    "subscription.manage",
]
PRO_PERMISSIONS = [*LOGGED_IN_PERMISSIONS, "subscription.tokens.manage"]
# The level every registration and every seeded USER but the pro user holds, as the login user object shows it.
LOGGED_IN_LEVEL = {"id": seed_id("user_access_level", "logged-in"), "slug": "logged-in", "name": "Logged in"}

# --- response objects (checkout-and-payments.md §2, subscriptions.md §2) --------------------------------------------

INVOICE_FIELDS = {
    "id",
    "user_id",
    "tarif_plan_id",
    "subscription_id",
    "invoice_number",
    "billing_reason",
    "status",
    "currency",
    "subtotal",
    "tax_amount",
    "total_amount",
    "amount",
    "amount_refunded",
    "tax_rate",
    "tax_code",
    "tax_country",
    "tax_inclusive",
    "billing_address",
    "payment_method",
    "payment_ref",
    "payment_intent_id",
    "is_payable",
    "is_capturable",
    "invoiced_at",
    "due_date",
    "expires_at",
    "paid_at",
    "created_at",
    "line_items",
    "credit_notes",
}
LINE_ITEM_FIELDS = {
    "id",
    "invoice_id",
    "type",
    "item_type",
    "item_id",
    "catalog_item_id",
    "description",
    "quantity",
    "unit_price",
    "total_price",
    "amount",
    "net_amount",
    "tax_amount",
    "gross_amount",
    "metadata",
    "extra_data",
}
PURCHASE_FIELDS = {
    "id",
    "user_id",
    "bundle_id",
    "invoice_id",
    "status",
    "tokens_credited",
    "token_amount",
    "price",
    "currency",
    "completed_at",
    "created_at",
}
SUBSCRIPTION_FIELDS = {
    "id",
    "user_id",
    "tarif_plan_id",
    "pending_plan_id",
    "status",
    "is_valid",
    "is_trialing",
    "days_remaining",
    "started_at",
    "current_period_start",
    "expires_at",
    "trial_end_at",
    "cancel_at_period_end",
    "cancelled_at",
    "cancel_reason",
    "paused_at",
    "payment_failed_at",
    "past_due_since",
    "next_retry_at",
    "dunning_attempts",
    "currency",
    "payment_method_code",
    "has_saved_payment_method",
    "pending_invoice_id",
    "provider_subscription_id",
    "created_at",
    "updated_at",
}
# A subscription's lifecycle fields while no trial, cancellation, pause or failed payment has touched it.
UNTOUCHED_LIFECYCLE = {
    "trial_end_at": None,
    "cancel_at_period_end": False,
    "cancelled_at": None,
    "cancel_reason": None,
    "paused_at": None,
    "payment_failed_at": None,
    "past_due_since": None,
    "next_retry_at": None,
    "dunning_attempts": 0,
}
ADDON_SUBSCRIPTION_FIELDS = {
    "id",
    "user_id",
    "addon_id",
    "subscription_id",
    "invoice_id",
    "status",
    "is_valid",
    "starts_at",
    "expires_at",
    "cancel_at_period_end",
    "cancelled_at",
    "created_at",
    "updated_at",
}
TOKEN_TRANSACTION_FIELDS = {
    "id",
    "user_id",
    "amount",
    "transaction_type",
    "reference_id",
    "reference",
    "description",
    "balance_after",
    "created_at",
}
# The paging fields of a list answer (README §1.6); the list itself is named by the route: `PAGE_FIELDS | {"invoices"}`.
PAGE_FIELDS = {"total", "limit", "offset", "page", "per_page", "pages", "next_cursor"}

# --- common error bodies (README §1.2–§1.4) -------------------------------------------------------------------------

NO_CREDENTIAL = {"error": "Authorization header is required"}
INVALID_TOKEN = {"error": "Invalid or expired token"}
ACCESS_DENIED = {"error": "Access denied"}
INVALID_ID = {"error": "Invalid id"}
INVALID_PAGING = {"error": "Invalid pagination parameters"}
PLUGIN_NOT_ENABLED = {"error": "Plugin not enabled"}
