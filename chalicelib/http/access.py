"""Authentication levels of contract README §1.3 and their checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from chalicelib.core.errors import Forbidden, Unauthorized

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal
    from chalicelib.http.request import Req

Level = Literal["public", "optional", "user", "admin"]


@dataclass(frozen=True)
class Access:
    level: Level
    permission: str | None = None
    # Routes that change credentials refuse impersonation tokens (auth.md §1.4); DELETE routes always do.
    refuse_impersonation: bool = False


PUBLIC = Access("public")
OPTIONAL = Access("optional")
USER = Access("user")


class UnknownPermission(ValueError):
    """A route names a permission that `chalicelib.auth.permissions` does not have: a typo, found at import."""


def admin(permission: str | None = None) -> Access:
    """An `/admin` route: role ADMIN or SUPER_ADMIN first, then the permission (README §1.3, difference 46). The
    permission must be a key of the one registry, so a misspelt key stops the app from importing instead of
    silently denying (or, with a wildcard grant, allowing) everyone."""
    if permission is not None:
        from chalicelib.auth.permissions import ALL_ADMIN_KEYS

        if permission not in ALL_ADMIN_KEYS:
            raise UnknownPermission(
                f"unknown admin permission {permission!r}: add it to chalicelib/auth/permissions.py"
            )
    return Access("admin", permission)


def user_not_impersonated() -> Access:
    return Access("user", refuse_impersonation=True)


def resolve_principal(req: Req, access: Access) -> Principal | None:
    if access.level == "public":
        return None
    from chalicelib.auth.principal import authenticate

    header = req.header("authorization")
    if access.level == "optional":
        if not header:
            return None
        try:
            return authenticate(header)
        except Unauthorized:
            return None
    if header is None:
        raise Unauthorized("Authorization header is required")
    principal = authenticate(header)
    if access.level == "admin":
        if principal.impersonator_id is not None or not principal.is_admin:
            raise Forbidden("Admin access required")
        if access.permission and not principal.has_permission(access.permission):
            raise Forbidden("Permission denied", required=access.permission)
    if principal.impersonator_id is not None and (access.refuse_impersonation or req.method == "DELETE"):
        raise Forbidden("Not allowed while impersonating")
    return principal
