"""Who is calling: the bearer token checked against the user, the session and the revocation list."""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.auth import repository
from chalicelib.auth.models import SessionItem
from chalicelib.auth.permissions import grants
from chalicelib.auth.tokens import INVALID_TOKEN, AccessClaims, decode_access_token
from chalicelib.core.errors import Unauthorized
from chalicelib.users.models import UserItem


@dataclass
class Principal:
    user: UserItem
    session: SessionItem
    claims: AccessClaims
    _permissions: list[str] | None = field(default=None, repr=False)

    @property
    def user_id(self) -> str:
        return self.user.id

    @property
    def impersonator_id(self) -> str | None:
        return self.claims.impersonator_id

    @property
    def is_admin(self) -> bool:
        return self.user.is_admin

    def permissions(self) -> list[str]:
        if self._permissions is None:
            from chalicelib.auth.access_levels import effective_admin_permissions

            self._permissions = effective_admin_permissions(self.user)
        return self._permissions

    def has_permission(self, permission: str) -> bool:
        return grants(self.permissions(), permission)


def parse_bearer(header: str) -> str:
    parts = header.split(" ")
    if len(parts) != 2 or parts[0].lower() != "bearer" or not parts[1]:
        raise Unauthorized("Invalid Authorization header format")
    return parts[1]


def authenticate(header: str) -> Principal:
    """Resolve an `Authorization` header to a principal or raise the 401 of contract README §1.3.

    One BatchGetItem reads the user, the session and the token's revocation entry.
    """
    claims = decode_access_token(parse_bearer(header))
    user, session, revoked = repository.credentials(claims.user_id, claims.session_id, claims.jti)
    if revoked:
        raise Unauthorized(INVALID_TOKEN)
    if user is None:
        raise Unauthorized("User not found")
    if session is None or not session_is_valid(session, user, claims.user_id):
        raise Unauthorized(INVALID_TOKEN)
    if user.status != "ACTIVE":
        raise Unauthorized("User account is not active")
    return Principal(user=user, session=session, claims=claims)


def session_is_valid(session: SessionItem, user: UserItem, user_id: str) -> bool:
    if session.user_id != user_id or session.revoked_at is not None:
        return False
    return user.tokens_valid_after is None or session.valid_from >= user.tokens_valid_after
