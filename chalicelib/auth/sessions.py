"""Opening, rotating and revoking sessions (refresh-token families): the lifetimes, and the tokens handed out.

What is written, and on which conditions, is `chalicelib.auth.repository`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.auth import repository
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
    """A refresh token lives 30 days from its issue, and never past its family's end."""
    settings = get_settings()
    expires = min(now + timedelta(seconds=settings.refresh_token_ttl_seconds), session.expires_at)
    return RefreshTokenItem.new(token, session, now, expires)


def open_session(tx: Transaction, user: UserItem, now: datetime) -> IssuedTokens:
    """A new login session with its first refresh token, added to `tx`; the access token is ready to hand out."""
    settings = get_settings()
    session_id = new_id()
    expires = now + timedelta(seconds=settings.refresh_family_max_age_seconds)
    session = SessionItem.new(session_id, user.id, now, expires)
    repository.add_session(tx, session)
    token = new_refresh_token()
    repository.add_refresh_token(tx, refresh_item(token, session, now))
    access = issue_access_token(user.id, user.email, session_id, now=now)
    return IssuedTokens(session, access, token)


def open_impersonation_session(tx: Transaction, user: UserItem, admin_id: str, now: datetime) -> IssuedTokens:
    """An impersonation token has its own short session and no refresh token (auth.md §1.4)."""
    settings = get_settings()
    session_id = new_id()
    expires = now + timedelta(seconds=settings.impersonation_token_ttl_seconds)
    session = SessionItem.new(session_id, user.id, now, expires, impersonator_id=admin_id)
    repository.add_session(tx, session)
    access = issue_access_token(user.id, user.email, session_id, impersonator_id=admin_id, now=now)
    return IssuedTokens(session, access, None)


def rotate(tx: Transaction, presented: RefreshTokenItem, session: SessionItem, now: datetime) -> str:
    """Spend the presented refresh token and issue the next one of its family; the new token."""
    token = new_refresh_token()
    repository.rotate_refresh_token(tx, presented, now)
    repository.add_refresh_token(tx, refresh_item(token, session, now))
    repository.mark_refreshed(tx, session, now)
    return token


def revoke(tx: Transaction, session: SessionItem, now: datetime, reason: str) -> None:
    """Mark the session revoked (keeping the first revocation time if it was already)."""
    repository.revoke_session(tx, session, now, reason)
