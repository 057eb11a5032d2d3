"""Authentication use cases (contract auth.md §3): register, login, refresh, logout, me, password reset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.auth import lockout, sessions
from chalicelib.auth.access_levels import default_user_level, login_user
from chalicelib.auth.models import (
    RefreshTokenItem,
    ResetPointerItem,
    ResetTokenItem,
    RevokedAccessTokenItem,
    SessionItem,
    token_hash,
)
from chalicelib.auth.passwords import dummy_hash, hash_password, password_problems, verify_password
from chalicelib.auth.principal import Principal, session_is_valid
from chalicelib.auth.schemas import REGISTER_REQUIRED, LoginBody, RegisterBody, text_field
from chalicelib.auth.sessions import IssuedTokens
from chalicelib.auth.tokens import issue_access_token, new_refresh_token, new_reset_token
from chalicelib.core import clock
from chalicelib.core.config import get_settings
from chalicelib.core.errors import BadRequest, Conflict, Unauthorized
from chalicelib.core.ids import new_id
from chalicelib.core.logging import logger
from chalicelib.core.times import iso
from chalicelib.core.validation import parse_body
from chalicelib.events.catalog import (
    LoggedOut,
    PasswordChanged,
    PasswordResetRequested,
    RefreshReuseDetected,
    UserRegistered,
)
from chalicelib.events.envelope import Actor, Event
from chalicelib.events.outbox import record
from chalicelib.store.reads import batch_get
from chalicelib.store.retry import attempts
from chalicelib.store.transactions import Transaction, TransactionCancelled
from chalicelib.users.models import EmailGuardItem, UserItem
from chalicelib.users.repository import find_user, find_user_by_email, find_user_id_by_email, normalize_email

ATTEMPTS = 3
EMAIL_TAKEN = "User with this email already exists"


def _token_answer(user: UserItem, issued: IssuedTokens) -> dict[str, Any]:
    return {
        "success": True,
        "token": issued.access.token,
        "refresh_token": issued.refresh_token,
        "expires_in": issued.access.expires_in,
        "user_id": user.id,
        "error": None,
        "user": login_user(user),
    }


def register(body: dict[str, Any]) -> dict[str, Any]:
    data = parse_body(RegisterBody, body, required=REGISTER_REQUIRED)
    if find_user_id_by_email(data.email):
        raise BadRequest(EMAIL_TAKEN)
    settings = get_settings()
    password_hash = hash_password(data.password, settings.bcrypt_rounds)
    # Granted on the user record itself, so the level comes with the account's one transaction or not at all.
    level = default_user_level()
    levels = [level.id] if level is not None else []
    for _ in attempts(ATTEMPTS):
        now = clock.now()
        user_id = new_id()
        user = UserItem.new(
            user_id, data.email, password_hash, now, role="USER", status="ACTIVE", user_access_level_ids=levels
        )
        tx = Transaction()
        tx.create(user, label="user")
        tx.create(EmailGuardItem.new(data.email, user_id), label="email")
        issued = sessions.open_session(tx, user, now)
        record(tx, Event(UserRegistered(user_id=user_id, email=data.email, source="self"), Actor.user(user_id)))
        try:
            tx.commit()
        except TransactionCancelled as exc:
            if "email" in exc.failed:
                raise BadRequest(EMAIL_TAKEN) from exc
            if exc.conflict:
                continue
            raise
        return _token_answer(user, issued)
    raise Conflict("Concurrent modification, please retry")


def login(body: dict[str, Any], ip: str) -> dict[str, Any]:
    data = parse_body(LoginBody, body, required=REGISTER_REQUIRED)
    settings = get_settings()
    now = clock.now()
    window = lockout.current(data.email, now)
    lockout.refuse_if_locked(window, now)
    user = find_user_by_email(data.email)
    password_ok = verify_password(data.password, user.password_hash if user else dummy_hash(settings.bcrypt_rounds))
    if user is None or not password_ok:
        lockout.record_failure(data.email, ip)
        raise Unauthorized("Invalid credentials")
    if user.status != "ACTIVE":
        raise Unauthorized("User account is inactive")
    for _ in attempts(ATTEMPTS):
        tx = Transaction()
        issued = sessions.open_session(tx, user, now)
        tx.update(user, [UserItem.last_login_at.set(now)], label="user", add_version_condition=False)
        try:
            tx.commit()
            break
        except TransactionCancelled as exc:
            if not exc.conflict:
                raise
            now = clock.now()
    else:
        raise Conflict("Concurrent modification, please retry")
    if window.item is not None:
        lockout.clear(data.email)
    return _token_answer(user, issued)


def _invalid_refresh() -> Unauthorized:
    return Unauthorized("Invalid refresh token")


def refresh(body: dict[str, Any], ip: str) -> dict[str, Any]:
    token = body.get("refresh_token")
    if not isinstance(token, str) or not token:
        raise BadRequest("refresh_token is required")
    if not token.startswith("rt_"):
        raise _invalid_refresh()
    try:
        presented = RefreshTokenItem.get(*RefreshTokenItem.key(token), consistent_read=True)
    except DoesNotExist as exc:
        raise _invalid_refresh() from exc
    session, user = batch_get(
        [
            (SessionItem, *SessionItem.key(presented.session_id)),
            (UserItem, f"USER#{presented.user_id}", "PROFILE"),
        ]
    )
    if not isinstance(session, SessionItem) or not isinstance(user, UserItem) or presented.status == "REVOKED":
        raise _invalid_refresh()
    if not session_is_valid(session, user, presented.user_id):
        raise _invalid_refresh()
    now = clock.now()
    if presented.status == "ROTATED":
        _revoke_for_reuse(session, user, ip, now)
    if presented.expires_at <= now or session.expires_at <= now:
        raise Unauthorized("Refresh token expired")
    if user.status != "ACTIVE":
        tx = Transaction()
        sessions.revoke(tx, session, now, "user_inactive")
        tx.commit()
        raise Unauthorized("User account is not active")
    new_token = new_refresh_token()
    tx = Transaction()
    tx.update(
        presented,
        [RefreshTokenItem.status.set("ROTATED"), RefreshTokenItem.rotated_at.set(now)],
        RefreshTokenItem.status == "ACTIVE",
        label="rotate",
    )
    tx.create(sessions.refresh_item(new_token, session, now), label="refresh_token")
    tx.update(
        session,
        [SessionItem.last_refreshed_at.set(now)],
        SessionItem.revoked_at.does_not_exist(),
        label="session",
    )
    try:
        tx.commit()
    except TransactionCancelled as exc:
        if "rotate" in exc.failed:
            # Someone rotated this token a moment ago: the same token used twice.
            _revoke_for_reuse(session, user, ip, now)
        raise _invalid_refresh() from exc
    access = issue_access_token(user.id, user.email, session.id, now=now)
    return _token_answer(user, IssuedTokens(session, access, new_token))


def _revoke_for_reuse(session: SessionItem, user: UserItem, ip: str, now: datetime) -> None:
    tx = Transaction()
    sessions.revoke(tx, session, now, "refresh_reuse")
    event = RefreshReuseDetected(user_id=user.id, family_id=session.id, ip=ip)
    record(tx, Event(event, Actor.user(user.id)))
    tx.commit()
    raise Unauthorized("Refresh token reuse detected")


def logout(principal: Principal | None, body: dict[str, Any]) -> dict[str, Any]:
    now = clock.now()
    tx = Transaction()
    revoked: dict[str, SessionItem] = {}
    if principal is not None:
        jti_pk, jti_sk = RevokedAccessTokenItem.key(principal.claims.jti)
        expires = datetime.fromtimestamp(principal.claims.expires_at, UTC)
        tx.put(RevokedAccessTokenItem(jti_pk, jti_sk, revoked_at=now, ttl=expires))
        if principal.session.revoked_at is None:
            revoked[principal.session.id] = principal.session
    token = body.get("refresh_token")
    impersonating = principal is not None and principal.impersonator_id is not None
    if isinstance(token, str) and token.startswith("rt_") and not impersonating:
        session = _session_of_refresh_token(token)
        if session is not None and session.revoked_at is None:
            revoked[session.id] = session
    for session in revoked.values():
        sessions.revoke(tx, session, now, "logout")
        record(tx, Event(LoggedOut(user_id=session.user_id, sid=session.id), Actor.user(session.user_id)))
    tx.commit()
    return {"message": "Logged out successfully"}


def _session_of_refresh_token(token: str) -> SessionItem | None:
    try:
        presented = RefreshTokenItem.get(*RefreshTokenItem.key(token), consistent_read=True)
        return SessionItem.get(*SessionItem.key(presented.session_id), consistent_read=True)
    except DoesNotExist:
        return None


def me(principal: Principal) -> dict[str, Any]:
    answer = login_user(principal.user)
    answer["status"] = principal.user.status
    impersonator = None
    if principal.impersonator_id:
        admin = find_user(principal.impersonator_id)
        impersonator = {"id": principal.impersonator_id, "email": admin.email if admin else None}
    answer["impersonator"] = impersonator
    return answer


def check_email(email: str | None) -> dict[str, Any]:
    if email is None or not email.strip():
        raise BadRequest("Email required")
    return {"exists": find_user_id_by_email(email) is not None}


RESET_ANSWER = {"message": "If email exists, reset link sent"}


def forgot_password(body: dict[str, Any]) -> dict[str, Any]:
    raw = body.get("email")
    if not isinstance(raw, str) or not raw.strip():
        raise BadRequest("Email required")
    email = normalize_email(raw)
    if not lockout.allow_reset_request(email):
        return RESET_ANSWER
    user = find_user_by_email(email)
    if user is None or user.status != "ACTIVE":
        return RESET_ANSWER
    settings = get_settings()
    now = clock.now()
    token = new_reset_token()
    expires = now + timedelta(seconds=settings.password_reset_ttl_seconds)
    reset_url = f"{settings.reset_url_base}?token={token}"
    pk, sk = ResetTokenItem.key(token)
    pointer_pk, pointer_sk = ResetPointerItem.key(user.id)
    tx = Transaction()
    tx.create(
        ResetTokenItem(pk, sk, user_id=user.id, created_at=now, expires_at=expires, ttl=expires + timedelta(days=1))
    )
    tx.put(ResetPointerItem(pointer_pk, pointer_sk, token_hash=token_hash(token)))
    event = PasswordResetRequested(
        user_id=user.id, email=user.email, reset_url=reset_url, expires_at=iso(expires) or ""
    )
    record(tx, Event(event, Actor.user(user.id)))
    tx.commit()
    if settings.stage == "local":
        logger.info("password reset link (local stage only)", email=user.email, reset_url=reset_url)
    return RESET_ANSWER


def reset_password(body: dict[str, Any]) -> dict[str, Any]:
    token = text_field(body, "token")
    new_password = text_field(body, "new_password")
    if token is None or new_password is None:
        raise BadRequest("Token and new password required")
    try:
        reset = ResetTokenItem.get(*ResetTokenItem.key(token), consistent_read=True)
    except DoesNotExist as exc:
        raise BadRequest("Invalid token") from exc
    now = clock.now()
    pointer = _reset_pointer(reset.user_id)
    if reset.used_at is not None or pointer is None or pointer.token_hash != token_hash(token):
        raise BadRequest("Token already used")
    if reset.expires_at <= now:
        raise BadRequest("Token expired")
    problems = password_problems(new_password)
    if problems:
        raise BadRequest(problems[0])
    user = find_user(reset.user_id)
    if user is None or user.status != "ACTIVE":
        raise BadRequest("Password reset failed")
    password_hash = hash_password(new_password, get_settings().bcrypt_rounds)
    tx = Transaction()
    tx.update(reset, [ResetTokenItem.used_at.set(now)], ResetTokenItem.used_at.does_not_exist(), label="token")
    tx.update(
        user,
        [
            UserItem.password_hash.set(password_hash),
            UserItem.tokens_valid_after.set(now),
            UserItem.updated_at.set(now),
        ],
        label="user",
        add_version_condition=False,
    )
    record(tx, Event(PasswordChanged(user_id=user.id, via="reset"), Actor.user(user.id)))
    try:
        tx.commit()
    except TransactionCancelled as exc:
        if "token" in exc.failed:
            raise BadRequest("Token already used") from exc
        raise
    return {"message": "Password reset successful"}


def _reset_pointer(user_id: str) -> ResetPointerItem | None:
    try:
        return ResetPointerItem.get(*ResetPointerItem.key(user_id), consistent_read=True)
    except DoesNotExist:
        return None


def change_password(principal: Principal, body: dict[str, Any], ip: str) -> dict[str, Any]:
    current = text_field(body, "currentPassword", "current_password")
    new_password = text_field(body, "newPassword", "new_password")
    if current is None or new_password is None:
        raise BadRequest("Current password and new password are required")
    user = principal.user
    if not verify_password(current, user.password_hash):
        lockout.record_failure(user.email, ip)
        raise BadRequest("Current password is incorrect")
    problems = password_problems(new_password)
    if problems:
        raise BadRequest(problems[0])
    password_hash = hash_password(new_password, get_settings().bcrypt_rounds)
    now = clock.now()
    tx = Transaction()
    tx.update(
        user,
        [
            UserItem.password_hash.set(password_hash),
            UserItem.tokens_valid_after.set(now),
            UserItem.updated_at.set(now),
        ],
        label="user",
        add_version_condition=False,
    )
    # The calling session survives: it is re-validated from now on, every other session is not.
    tx.update(
        principal.session,
        [SessionItem.valid_from.set(now)],
        SessionItem.revoked_at.does_not_exist(),
        label="session",
    )
    record(tx, Event(PasswordChanged(user_id=user.id, via="change"), Actor.user(user.id)))
    tx.commit()
    return {"success": True}
