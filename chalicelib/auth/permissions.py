"""Permission keys (contract README §1.3.1) and how a set of grants matches one."""

from __future__ import annotations

from collections.abc import Iterable

ADMIN_PERMISSIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "core": (
        ("users.view", "View users"),
        ("users.manage", "Create, edit, suspend and delete users"),
        ("users.impersonate", "Sign in as a user"),
        ("invoices.view", "View invoices and credit notes"),
        ("invoices.manage", "Mark paid, void, refund and duplicate invoices"),
        ("analytics.view", "View analytics and the activity log"),
        ("settings.view", "View settings"),
        ("settings.manage", "Change settings, payment methods, countries, currencies and taxes"),
        ("settings.system", "Plugins, access levels and system settings"),
        ("webhooks.view", "View outbound webhooks"),
        ("webhooks.manage", "Manage outbound webhooks"),
    ),
    "subscription": (
        ("subscription.plans.view", "View plans"),
        ("subscription.plans.manage", "Manage plans and categories"),
        ("subscription.subscriptions.view", "View subscriptions"),
        ("subscription.subscriptions.manage", "Manage subscriptions"),
        ("subscription.addons.manage", "Manage add-ons"),
        ("subscription.configure", "Configure the subscription plugin"),
    ),
    "payments": (("payments.configure", "Configure payment providers"),),
    "email": (
        ("email.templates.view", "View e-mail templates"),
        ("email.templates.manage", "Edit e-mail templates and send test e-mails"),
    ),
    "booking": (
        ("booking.resources.view", "View booking resources"),
        ("booking.resources.manage", "Manage booking resources"),
        ("booking.bookings.view", "View bookings"),
        ("booking.bookings.manage", "Manage bookings"),
        ("booking.schemas.manage", "Manage resource types"),
        ("booking.configure", "Configure booking, import and export"),
        ("booking.tenants.manage", "Manage tenants"),
        ("booking.staff.manage", "Manage staff"),
        ("booking.services.manage", "Manage services"),
        ("booking.packages.manage", "Manage packages"),
        ("booking.customers.view", "View customers and pets"),
        ("booking.customers.manage", "Manage customers and pets"),
    ),
}

USER_PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("subscription.plans.view", "See plans"),
    ("subscription.manage", "Manage own subscriptions"),
    ("subscription.invoices.view", "See own invoices"),
    ("subscription.tokens.view", "See own token balance"),
    ("subscription.tokens.manage", "Use and buy tokens"),
    ("user.profile.view", "See own profile"),
    ("user.profile.manage", "Edit own profile"),
)

ALL_ADMIN_KEYS = frozenset(key for group in ADMIN_PERMISSIONS.values() for key, _ in group)
ALL_USER_KEYS = frozenset(key for key, _ in USER_PERMISSIONS)


def grants(granted: Iterable[str], permission: str) -> bool:
    """`*`, the exact key, or `prefix.*` with the key starting `prefix.`."""
    for grant in granted:
        if grant == "*" or grant == permission:
            return True
        if grant.endswith(".*") and permission.startswith(grant[:-1]):
            return True
    return False
