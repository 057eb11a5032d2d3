"""Reads and writes of booking records (the booking routes arrive with the booking issue; the seed uses these)."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.booking.models import UserPackageItem
from chalicelib.store.transactions import Transaction


def user_package_of(tenant_id: str, user_id: str, user_package_id: str) -> UserPackageItem | None:
    try:
        return UserPackageItem.get(*UserPackageItem.key(tenant_id, user_id, user_package_id), consistent_read=True)
    except DoesNotExist:
        return None


def add_user_package(tx: Transaction, package: UserPackageItem) -> None:
    """A package a customer bought, with its index keys (refused if its key is taken)."""
    package.index()
    tx.create(package, label="user_package")
