"""Sessions and tokens in the `auth` table (docs/data-model.md § auth).

A *session* is a refresh-token family (contract auth.md §1.2): every access token names it in `sid`, so revoking
the session ends its refresh tokens and its access tokens at once. A session is valid while it is not revoked and
its `valid_from` is not earlier than the user's `tokens_valid_after` — which is how a password change ends every
other session and a password reset ends all of them, without visiting each session item.

The failed-login counters and the forgot-password counters live in the `ratelimits` table (they expire by TTL).
Items are built here and written by `chalicelib.auth.repository`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.core.times import iso
from chalicelib.store.base import AuthTable, RateLimitsTable


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class SessionItem(AuthTable, discriminator="SESSION"):
    """pk `SESSION#<sid>`; GSI1 `USER#<user id>` → the user's sessions, newest first."""

    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    valid_from = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)
    revoke_reason = UnicodeAttribute(null=True)
    impersonator_id = UnicodeAttribute(null=True)
    last_refreshed_at = UTCDateTimeAttribute(null=True)

    @classmethod
    def key(cls, session_id: str) -> tuple[str, str]:
        return f"SESSION#{session_id}", "SESSION"

    @classmethod
    def new(cls, session_id: str, user_id: str, now: datetime, expires_at: datetime, **fields: Any) -> SessionItem:
        pk, sk = cls.key(session_id)
        return cls(
            pk=pk,
            sk=sk,
            id=session_id,
            user_id=user_id,
            created_at=now,
            valid_from=now,
            expires_at=expires_at,
            gsi1pk=f"USER#{user_id}",
            gsi1sk=f"SESSION#{iso(now)}#{session_id}",
            ttl=expires_at,
            **fields,
        )


class RefreshTokenItem(AuthTable, discriminator="REFRESH_TOKEN"):
    """pk `REFRESH#<sha256 of the token>`; status ACTIVE → ROTATED (or REVOKED)."""

    session_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    status = UnicodeAttribute()
    issued_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    rotated_at = UTCDateTimeAttribute(null=True)

    @classmethod
    def key(cls, token: str) -> tuple[str, str]:
        return f"REFRESH#{token_hash(token)}", "REFRESH"

    @classmethod
    def new(cls, token: str, session: SessionItem, now: datetime, expires_at: datetime) -> RefreshTokenItem:
        pk, sk = cls.key(token)
        return cls(
            pk=pk,
            sk=sk,
            session_id=session.id,
            user_id=session.user_id,
            status="ACTIVE",
            issued_at=now,
            expires_at=expires_at,
            ttl=expires_at,
        )


class RevokedAccessTokenItem(AuthTable, discriminator="REVOKED_JTI"):
    """pk `JTI#<jti>`: an access token logged out before its expiry; expires with the token (TTL)."""

    revoked_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, jti: str) -> tuple[str, str]:
        return f"JTI#{jti}", "JTI"

    @classmethod
    def new(cls, jti: str, now: datetime, token_expires_at: datetime) -> RevokedAccessTokenItem:
        pk, sk = cls.key(jti)
        return cls(pk, sk, revoked_at=now, ttl=token_expires_at)


class ResetTokenItem(AuthTable, discriminator="RESET_TOKEN"):
    """pk `RESET#<sha256 of the token>`: a one-hour password-reset token."""

    user_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    used_at = UTCDateTimeAttribute(null=True)

    @classmethod
    def key(cls, token: str) -> tuple[str, str]:
        return f"RESET#{token_hash(token)}", "RESET"

    @classmethod
    def new(cls, token: str, user_id: str, now: datetime, expires_at: datetime) -> ResetTokenItem:
        pk, sk = cls.key(token)
        return cls(pk, sk, user_id=user_id, created_at=now, expires_at=expires_at, ttl=expires_at + timedelta(days=1))


class ResetPointerItem(AuthTable, discriminator="RESET_POINTER"):
    """pk `USER#<id>`, sk `RESET`: the user's newest reset token; older ones are void (auth.md §3.7)."""

    token_hash = UnicodeAttribute()

    @classmethod
    def key(cls, user_id: str) -> tuple[str, str]:
        return f"USER#{user_id}", "RESET"

    @classmethod
    def new(cls, user_id: str, token: str) -> ResetPointerItem:
        pk, sk = cls.key(user_id)
        return cls(pk, sk, token_hash=token_hash(token))


class LoginFailuresItem(RateLimitsTable, discriminator="LOGIN_FAILURES"):
    """pk `LOGINFAIL#<email>`, sk `WINDOW`: failed logins of one (lower-cased) e-mail in its current window."""

    failures = NumberAttribute()
    first_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, email: str) -> tuple[str, str]:
        return f"LOGINFAIL#{email}", "WINDOW"


class ForgotPasswordItem(RateLimitsTable, discriminator="FORGOT_PASSWORD"):
    """pk `FORGOT#<email>#<UTC hour>`, sk `WINDOW`: reset requests per e-mail per hour."""

    requests = NumberAttribute(default=0)

    @classmethod
    def key(cls, email: str, hour: datetime) -> tuple[str, str]:
        return f"FORGOT#{email}#{hour:%Y%m%d%H}", "WINDOW"
