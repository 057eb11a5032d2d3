"""Permissions are data: a route can only name a key of the one registry (admin.md §1, README §1.3.1)."""

from __future__ import annotations

import pytest

from chalicelib.auth.permissions import ALL_ADMIN_KEYS
from chalicelib.http.access import UnknownPermission, admin


def test_a_known_permission_is_accepted() -> None:
    assert admin("invoices.manage").permission == "invoices.manage"
    assert admin().permission is None


@pytest.mark.parametrize("typo", ["invoice.manage", "invoices.mange", "Invoices.manage", "invoices.*", "*", ""])
def test_a_permission_outside_the_registry_fails_when_the_route_is_declared(typo: str) -> None:
    with pytest.raises(UnknownPermission, match=r"chalicelib/auth/permissions\.py"):
        admin(typo)


def test_every_admin_route_of_the_app_names_a_registered_permission() -> None:
    import app  # noqa: F401  (declares every route)
    from chalicelib.http.routing import ROUTES

    named = {spec.access.permission for spec in ROUTES if spec.access.level == "admin"} - {None}
    assert named and named <= ALL_ADMIN_KEYS
