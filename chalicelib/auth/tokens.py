"""Access JWTs (contract auth.md §1.1) and opaque refresh tokens.

Expiry and issue time are checked against the system clock of `chalicelib.core.clock` rather than PyJWT's wall
clock, so moving the clock (tests, the local stage) moves token expiry with it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core import clock
from chalicelib.core.config import get_settings
from chalicelib.core.errors import Unauthorized
from chalicelib.core.ids import is_uuid, new_id
from chalicelib.core.times import unix

INVALID_TOKEN = "Invalid or expired token"
REQUIRED_CLAIMS = ("iss", "aud", "sub", "user_id", "iat", "exp", "jti", "typ", "sid")


@dataclass(frozen=True)
class AccessToken:
    token: str
    jti: str
    expires_in: int


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    session_id: str
    jti: str
    issued_at: int
    expires_at: int
    impersonator_id: str | None


def issue_access_token(
    user_id: str,
    email: str,
    session_id: str,
    *,
    impersonator_id: str | None = None,
    now: datetime | None = None,
) -> AccessToken:
    import jwt

    settings = get_settings()
    issued = now or clock.now()
    ttl = settings.impersonation_token_ttl_seconds if impersonator_id else settings.access_token_ttl_seconds
    jti = new_id()
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": user_id,
        "user_id": user_id,
        "email": email,
        "iat": unix(issued),
        "exp": unix(issued + timedelta(seconds=ttl)),
        "jti": jti,
        "typ": "access",
        "sid": session_id,
    }
    if impersonator_id:
        claims["act"] = {"sub": impersonator_id}
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=settings.jwt_algorithm)
    return AccessToken(token=token, jti=jti, expires_in=ttl)


def decode_access_token(token: str) -> AccessClaims:
    """Verify signature, algorithm, issuer, audience, type, expiry and lifetime; else 401 `Invalid or expired token`.

    `iat` and `exp` must be integers, and `exp − iat` positive and at most the configured lifetime of the token's
    kind (`ACCESS_TOKEN_TTL_SECONDS`, `IMPERSONATION_TOKEN_TTL_SECONDS` with `act`): lowering a TTL also ends the
    longer-lived tokens issued before.
    """
    import jwt

    settings = get_settings()
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={
                "require": list(REQUIRED_CLAIMS),
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized(INVALID_TOKEN) from exc
    issued_at, expires_at = claims["iat"], claims["exp"]
    if not (_is_unix_seconds(issued_at) and _is_unix_seconds(expires_at)):
        raise Unauthorized(INVALID_TOKEN)
    now = unix(clock.now())
    leeway = settings.token_leeway_seconds
    if claims.get("typ") != "access" or expires_at + leeway < now or issued_at - leeway > now:
        raise Unauthorized(INVALID_TOKEN)
    user_id, session_id, jti = claims.get("sub"), claims.get("sid"), claims.get("jti")
    if not (is_uuid(user_id) and is_uuid(session_id) and isinstance(jti, str) and jti):
        raise Unauthorized(INVALID_TOKEN)
    if claims.get("user_id") != user_id:
        raise Unauthorized(INVALID_TOKEN)
    actor = claims.get("act")
    impersonator = actor.get("sub") if isinstance(actor, dict) else None
    if actor is not None and not is_uuid(impersonator):
        raise Unauthorized(INVALID_TOKEN)
    ttl = settings.impersonation_token_ttl_seconds if actor is not None else settings.access_token_ttl_seconds
    if not 0 < expires_at - issued_at <= ttl:
        raise Unauthorized(INVALID_TOKEN)
    return AccessClaims(
        user_id=str(user_id),
        session_id=str(session_id),
        jti=jti,
        issued_at=issued_at,
        expires_at=expires_at,
        impersonator_id=impersonator,
    )


def _is_unix_seconds(value: object) -> bool:
    """Whole Unix seconds, as we issue them. PyJWT would take `1.5`, `"1700000000"` or `true` through `int()`."""
    return type(value) is int


def new_refresh_token() -> str:
    """`rt_` + 43 base64url characters (256 random bits)."""
    return "rt_" + secrets.token_urlsafe(32)


def new_reset_token() -> str:
    return secrets.token_urlsafe(32)
