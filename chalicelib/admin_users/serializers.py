"""JSON shapes of the admin profile and the admin user object (contract admin.md §2, §3.0)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.auth.access_levels import effective_admin_permissions
from chalicelib.core.money import format_money
from chalicelib.core.times import iso
from chalicelib.users.serializers import details as details_body

if TYPE_CHECKING:
    from chalicelib.catalog.models import AccessLevelItem, AddonItem
    from chalicelib.catalog.repository import Reference
    from chalicelib.invoices.models import InvoiceItem
    from chalicelib.subscriptions.models import AddonSubscriptionItem
    from chalicelib.users.models import UserDetailsItem, UserItem


def _summary(level: AccessLevelItem) -> dict[str, Any]:
    return {"id": level.id, "slug": level.slug, "name": level.name}


def _permissions(levels: list[AccessLevelItem]) -> list[str]:
    return list(dict.fromkeys(permission for level in levels for permission in level.permissions))


def profile(user: UserItem, details: UserDetailsItem | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "is_active": user.status == "ACTIVE",
    }
    body["details"] = details_body(details, admin=True) if details is not None else None
    return body


def admin_user(
    user: UserItem,
    details: UserDetailsItem | None,
    token_balance: int,
    plan_name: str | None,
    admin_levels: list[AccessLevelItem],
    member_levels: list[AccessLevelItem],
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "status": user.status,
        "is_active": user.status == "ACTIVE",
        "role": user.role,
        "is_admin": user.is_admin,
        "access_levels": [_summary(level) for level in admin_levels],
        "permissions": effective_admin_permissions(user, admin_levels) if user.is_admin else [],
        "user_access_levels": [_summary(level) for level in member_levels],
        "user_permissions": _permissions(member_levels),
        "has_used_trial": bool(user.has_used_trial),
        "last_login_at": iso(user.last_login_at),
        "token_balance": token_balance,
        "subscription_plan": plan_name,
        "created_at": iso(user.created_at),
        "updated_at": iso(user.updated_at),
    }
    if details is not None:
        body["details"] = details_body(details, admin=True)
    return body


def stats(total_payments: Decimal, places: int, invoice_count: int, user: UserItem) -> dict[str, Any]:
    return {
        "total_payments": format_money(total_payments, places),
        "invoice_count": invoice_count,
        "last_login": iso(user.last_login_at),
    }


def _invoice(invoice: InvoiceItem, ref: Reference) -> dict[str, Any]:
    from chalicelib.catalog.pricing import Currencies

    places = Currencies.of(ref.currencies).places(invoice.currency)
    return {
        "id": invoice.id,
        "invoice_number": invoice.invoice_number,
        "status": invoice.status,
        "amount": format_money(Decimal(invoice.total_amount), places),
        "invoiced_at": iso(invoice.invoiced_at),
    }


def user_addon(
    item: AddonSubscriptionItem, addon: AddonItem | None, billed: list[InvoiceItem], ref: Reference
) -> dict[str, Any]:
    """An add-on subscription of the user with the first and the last invoice that billed it (oldest first)."""
    first = _invoice(billed[0], ref) if billed else None
    last = _invoice(billed[-1], ref) if billed else None
    return {
        "id": item.id,
        "addon_name": addon.name if addon is not None else None,
        "status": item.status,
        "starts_at": iso(item.starts_at),
        "expires_at": iso(item.expires_at),
        "created_at": iso(item.created_at),
        "invoice_status": last["status"] if last else None,
        "first_invoice": first,
        "last_invoice": last,
    }
