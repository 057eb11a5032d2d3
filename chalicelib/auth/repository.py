"""Reads and writes of sessions, refresh tokens, revoked access tokens, password resets (the `auth` table) and of
the failed-login and forgot-password counters (the `ratelimits` table).

Every key, condition and transaction item of authentication is here; the use cases in `chalicelib.auth.service`
and `chalicelib.auth.lockout` decide, and ask for these writes by name.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist

from chalicelib.auth.models import (
    ForgotPasswordItem,
    LoginFailuresItem,
    RefreshTokenItem,
    ResetPointerItem,
    ResetTokenItem,
    RevokedAccessTokenItem,
    SessionItem,
    token_hash,
)
from chalicelib.store.reads import batch_get
from chalicelib.store.transactions import Transaction
from chalicelib.users.models import UserItem, user_key

# --- sessions and refresh tokens -------------------------------------------------------------------------------


def credentials(user_id: str, session_id: str, jti: str) -> tuple[UserItem | None, SessionItem | None, bool]:
    """What an access token is checked against: its user, its session, and whether it was revoked (one
    BatchGetItem)."""
    user, session, revoked = batch_get(
        [
            (UserItem, *user_key(user_id)),
            (SessionItem, *SessionItem.key(session_id)),
            (RevokedAccessTokenItem, *RevokedAccessTokenItem.key(jti)),
        ]
    )
    return (
        user if isinstance(user, UserItem) else None,
        session if isinstance(session, SessionItem) else None,
        revoked is not None,
    )


def refresh_token(token: str) -> RefreshTokenItem | None:
    try:
        return RefreshTokenItem.get(*RefreshTokenItem.key(token), consistent_read=True)
    except DoesNotExist:
        return None


def session_and_user(presented: RefreshTokenItem) -> tuple[SessionItem | None, UserItem | None]:
    """The session a refresh token belongs to and its user (one BatchGetItem)."""
    session, user = batch_get(
        [(SessionItem, *SessionItem.key(presented.session_id)), (UserItem, *user_key(presented.user_id))]
    )
    return (
        session if isinstance(session, SessionItem) else None,
        user if isinstance(user, UserItem) else None,
    )


def session_of_refresh_token(token: str) -> SessionItem | None:
    presented = refresh_token(token)
    if presented is None:
        return None
    try:
        return SessionItem.get(*SessionItem.key(presented.session_id), consistent_read=True)
    except DoesNotExist:
        return None


def add_session(tx: Transaction, session: SessionItem) -> None:
    tx.create(session, label="session")


def add_refresh_token(tx: Transaction, item: RefreshTokenItem) -> None:
    tx.create(item, label="refresh_token")


def rotate_refresh_token(tx: Transaction, presented: RefreshTokenItem, now: datetime) -> None:
    """The presented token is spent — on the condition that nobody spent it first (label `rotate`)."""
    tx.update(
        presented,
        [RefreshTokenItem.status.set("ROTATED"), RefreshTokenItem.rotated_at.set(now)],
        RefreshTokenItem.status == "ACTIVE",
        label="rotate",
    )


def mark_refreshed(tx: Transaction, session: SessionItem, now: datetime) -> None:
    """The session was refreshed, on the condition that it is not revoked meanwhile."""
    tx.update(
        session,
        [SessionItem.last_refreshed_at.set(now)],
        SessionItem.revoked_at.does_not_exist(),
        label="session",
    )


def restart_session(tx: Transaction, session: SessionItem, now: datetime) -> None:
    """The session is valid from `now` (it survives the user's `tokens_valid_after = now`), unless revoked."""
    tx.update(session, [SessionItem.valid_from.set(now)], SessionItem.revoked_at.does_not_exist(), label="session")


def revoke_session(tx: Transaction, session: SessionItem, now: datetime, reason: str) -> None:
    """Mark the session revoked (keeping the first revocation time if it was already)."""
    tx.update(
        session,
        [SessionItem.revoked_at.set(SessionItem.revoked_at | now), SessionItem.revoke_reason.set(reason)],
        label=f"revoke:{session.id}",
    )


def revoke_access_token(tx: Transaction, jti: str, now: datetime, token_expires_at: datetime) -> None:
    """Deny one access token until it would have expired anyway (TTL)."""
    tx.put(RevokedAccessTokenItem.new(jti, now, token_expires_at))


# --- password resets -------------------------------------------------------------------------------------------


def reset_token(token: str) -> ResetTokenItem | None:
    try:
        return ResetTokenItem.get(*ResetTokenItem.key(token), consistent_read=True)
    except DoesNotExist:
        return None


def is_newest_reset(reset: ResetTokenItem, token: str) -> bool:
    """Whether `token` is the user's newest reset token (every earlier one is void, auth.md §3.7)."""
    try:
        pointer = ResetPointerItem.get(*ResetPointerItem.key(reset.user_id), consistent_read=True)
    except DoesNotExist:
        return False
    return bool(pointer.token_hash == token_hash(token))


def add_reset_token(tx: Transaction, token: str, user_id: str, now: datetime, expires_at: datetime) -> None:
    """A new reset token, and the user's pointer moved to it (which voids every earlier one)."""
    tx.create(ResetTokenItem.new(token, user_id, now, expires_at), label="reset_token")
    tx.put(ResetPointerItem.new(user_id, token), label="reset_pointer")


def use_reset_token(tx: Transaction, reset: ResetTokenItem, now: datetime) -> None:
    """Spend the token — on the condition that it was not spent first (label `token`)."""
    tx.update(reset, [ResetTokenItem.used_at.set(now)], ResetTokenItem.used_at.does_not_exist(), label="token")


# --- failed-login and forgot-password counters -----------------------------------------------------------------


def login_failures(email: str) -> LoginFailuresItem | None:
    try:
        return LoginFailuresItem.get(*LoginFailuresItem.key(email), consistent_read=True)
    except DoesNotExist:
        return None


def open_failure_window(tx: Transaction, email: str, now: datetime, window: timedelta) -> None:
    """The first counted failure of a window: a new counter, or one whose window ended (label `counter`)."""
    pk, sk = LoginFailuresItem.key(email)
    item = LoginFailuresItem(pk=pk, sk=sk, failures=1, first_at=now, ttl=now + window + timedelta(hours=1))
    ended = LoginFailuresItem.first_at <= now - window
    tx.put(item, LoginFailuresItem.pk.does_not_exist() | ended, label="counter")


def count_failure(tx: Transaction, counter: LoginFailuresItem) -> None:
    """One more failure, on the condition that the count is still the one read (label `counter`)."""
    tx.update(
        counter,
        [LoginFailuresItem.failures.set(int(counter.failures) + 1)],
        LoginFailuresItem.failures == counter.failures,
        label="counter",
    )


def clear_login_failures(email: str) -> None:
    with contextlib.suppress(DoesNotExist):
        LoginFailuresItem(*LoginFailuresItem.key(email)).delete()


def count_reset_request(email: str, now: datetime) -> int:
    """Count one reset request of `email` in the current UTC hour; the count so far, this one included."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    item = ForgotPasswordItem(*ForgotPasswordItem.key(email, hour))
    item.update(
        actions=[ForgotPasswordItem.requests.add(1), ForgotPasswordItem.ttl.set(hour + timedelta(hours=2))],
    )
    return int(item.requests)
