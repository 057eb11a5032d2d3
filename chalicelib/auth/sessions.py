"""Opening, rotating and revoking sessions (refresh-token families)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.auth.models import RefreshTokenItem, SessionItem
from chalicelib.auth.tokens import AccessToken, issue_access_token, new_refresh_token
from chalicelib.core.config import get_settings
from chalicelib.core.ids import new_id
from chalicelib.store.transactions import Transaction
from chalicelib.users.models import UserItem


@dataclass(frozen=True)
class IssuedTokens:
    session: SessionItem
    access: AccessToken
    refresh_token: str | None


def refresh_item(token: str, session: SessionItem, now: datetime) -> RefreshTokenItem:
    settings = get_settings()
    pk, sk = RefreshTokenItem.key(token)
    expires = min(now + timedelta(seconds=settings.refresh_token_ttl_seconds), session.expires_at)
    return RefreshTokenItem(
        pk=pk,
        sk=sk,
        session_id=session.id,
        user_id=session.user_id,
        status="ACTIVE",
        issued_at=now,
        expires_at=expires,
        ttl=expires,
    )


def open_session(tx: Transaction, user: UserItem, now: datetime) -> IssuedTokens:
    """A new login session with its first refresh token, added to `tx`; the access token is ready to hand out."""
    settings = get_settings()
    session_id = new_id()
    expires = now + timedelta(seconds=settings.refresh_family_max_age_seconds)
    session = SessionItem.new(session_id, user.id, now, expires)
    tx.create(session, label="session")
    token = new_refresh_token()
    tx.create(refresh_item(token, session, now), label="refresh_token")
    access = issue_access_token(user.id, user.email, session_id, now=now)
    return IssuedTokens(session, access, token)


def open_impersonation_session(tx: Transaction, user: UserItem, admin_id: str, now: datetime) -> IssuedTokens:
    """An impersonation token has its own short session and no refresh token (auth.md §1.4)."""
    settings = get_settings()
    session_id = new_id()
    expires = now + timedelta(seconds=settings.impersonation_token_ttl_seconds)
    session = SessionItem.new(session_id, user.id, now, expires, impersonator_id=admin_id)
    tx.create(session, label="session")
    access = issue_access_token(user.id, user.email, session_id, impersonator_id=admin_id, now=now)
    return IssuedTokens(session, access, None)


def revoke(tx: Transaction, session: SessionItem, now: datetime, reason: str) -> None:
    """Mark the session revoked (keeping the first revocation time if it was already)."""
    tx.update(
        session,
        [SessionItem.revoked_at.set(SessionItem.revoked_at | now), SessionItem.revoke_reason.set(reason)],
        label=f"revoke:{session.id}",
    )
