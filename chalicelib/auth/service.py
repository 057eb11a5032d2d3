"""Authentication use cases (contract auth.md §3, §4.4): register, login, refresh, logout, me, password reset and
change. Each takes its validated request model and returns the answer; the writes are asked of
`chalicelib.auth.repository` and `chalicelib.users.repository`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.auth import lockout, repository, sessions
from chalicelib.auth.access_levels import default_user_level, login_user
from chalicelib.auth.models import SessionItem
from chalicelib.auth.passwords import dummy_hash, hash_password, password_problems, verify_password
from chalicelib.auth.principal import Principal, session_is_valid
from chalicelib.auth.sessions import IssuedTokens
from chalicelib.auth.tokens import issue_access_token, new_reset_token
from chalicelib.core import clock
from chalicelib.core.config import get_settings
from chalicelib.core.errors import BadRequest, Unauthorized
from chalicelib.core.ids import new_id
from chalicelib.core.logging import logger
from chalicelib.core.times import iso
from chalicelib.events.catalog import (
    LoggedOut,
    PasswordChanged,
    PasswordResetRequested,
    RefreshReuseDetected,
    UserRegistered,
)
from chalicelib.events.envelope import Actor, Event
from chalicelib.events.outbox import record
from chalicelib.store.retry import retrying
from chalicelib.store.transactions import Transaction, TransactionCancelled
from chalicelib.users import repository as users
from chalicelib.users.emails import could_be_registered
from chalicelib.users.models import UserItem
from chalicelib.users.repository import find_user, find_user_by_email, find_user_id_by_email

if TYPE_CHECKING:
    from chalicelib.auth.models import RefreshTokenItem
    from chalicelib.auth.schemas import (
        ChangePasswordBody,
        CheckEmailQuery,
        ForgotPasswordBody,
        LoginBody,
        LogoutBody,
        RefreshBody,
        RegisterBody,
        ResetPasswordBody,
    )

ATTEMPTS = 3
EMAIL_TAKEN = "User with this email already exists"
RESET_ANSWER = {"message": "If email exists, reset link sent"}


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


def _conflict(exc: TransactionCancelled) -> bool:
    return exc.conflict


def register(request: RegisterBody) -> dict[str, Any]:
    """One transaction: the user (with the default user access level), the e-mail guard, the first session."""
    if find_user_id_by_email(request.email):
        raise BadRequest(EMAIL_TAKEN)
    password_hash = hash_password(request.password, get_settings().bcrypt_rounds)
    # Granted on the user record itself, so the level comes with the account's one transaction or not at all.
    level = default_user_level()
    levels = [level.id] if level is not None else []

    def create() -> dict[str, Any]:
        now = clock.now()
        user_id = new_id()
        user = UserItem.new(
            user_id, request.email, password_hash, now, role="USER", status="ACTIVE", user_access_level_ids=levels
        )
        tx = Transaction()
        users.add_user(tx, user)
        issued = sessions.open_session(tx, user, now)
        record(tx, Event(UserRegistered(user_id=user_id, email=request.email, source="self"), Actor.user(user_id)))
        try:
            tx.commit()
        except TransactionCancelled as exc:
            if "email" in exc.failed:
                raise BadRequest(EMAIL_TAKEN) from exc
            raise
        return _token_answer(user, issued)

    return retrying(create, tries=ATTEMPTS, retry_on=_conflict)


def login(request: LoginBody, ip: str) -> dict[str, Any]:
    settings = get_settings()
    if not request.could_be_registered:
        # No account has such an address: as slow as any unknown address, and nothing to count it under.
        verify_password(request.password, dummy_hash(settings.bcrypt_rounds))
        raise Unauthorized("Invalid credentials")
    now = clock.now()
    window = lockout.current(request.email, now)
    lockout.refuse_if_locked(window, now)
    user = find_user_by_email(request.email)
    password_hash = user.password_hash if user else dummy_hash(settings.bcrypt_rounds)
    password_ok = verify_password(request.password, password_hash)
    if user is None or not password_ok:
        lockout.record_failure(request.email, ip)
        raise Unauthorized("Invalid credentials")
    if user.status != "ACTIVE":
        raise Unauthorized("User account is inactive")

    def sign_in() -> IssuedTokens:
        at = clock.now()
        tx = Transaction()
        issued = sessions.open_session(tx, user, at)
        users.record_login(tx, user, at)
        tx.commit()
        return issued

    issued = retrying(sign_in, tries=ATTEMPTS, retry_on=_conflict)
    if window.item is not None:
        lockout.clear(request.email)
    return _token_answer(user, issued)


def _invalid_refresh() -> Unauthorized:
    return Unauthorized("Invalid refresh token")


def refresh(request: RefreshBody, ip: str) -> dict[str, Any]:
    token = request.refresh_token
    if not token.startswith("rt_"):
        raise _invalid_refresh()
    presented = repository.refresh_token(token)
    if presented is None:
        raise _invalid_refresh()
    session, user = repository.session_and_user(presented)
    if session is None or user is None or presented.status == "REVOKED":
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
    return _rotate(presented, session, user, ip, now)


def _rotate(
    presented: RefreshTokenItem, session: SessionItem, user: UserItem, ip: str, now: datetime
) -> dict[str, Any]:
    tx = Transaction()
    new_token = sessions.rotate(tx, presented, session, now)
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


def logout(principal: Principal | None, request: LogoutBody) -> dict[str, Any]:
    now = clock.now()
    tx = Transaction()
    revoked: dict[str, SessionItem] = {}
    if principal is not None:
        expires = datetime.fromtimestamp(principal.claims.expires_at, UTC)
        repository.revoke_access_token(tx, principal.claims.jti, now, expires)
        if principal.session.revoked_at is None:
            revoked[principal.session.id] = principal.session
    token = request.refresh_token
    impersonating = principal is not None and principal.impersonator_id is not None
    if token is not None and token.startswith("rt_") and not impersonating:
        session = repository.session_of_refresh_token(token)
        if session is not None and session.revoked_at is None:
            revoked[session.id] = session
    for session in revoked.values():
        sessions.revoke(tx, session, now, "logout")
        record(tx, Event(LoggedOut(user_id=session.user_id, sid=session.id), Actor.user(session.user_id)))
    tx.commit()
    return {"message": "Logged out successfully"}


def me(principal: Principal) -> dict[str, Any]:
    answer = login_user(principal.user)
    answer["status"] = principal.user.status
    impersonator = None
    if principal.impersonator_id:
        admin = find_user(principal.impersonator_id)
        impersonator = {"id": principal.impersonator_id, "email": admin.email if admin else None}
    answer["impersonator"] = impersonator
    return answer


def check_email(query: CheckEmailQuery) -> dict[str, Any]:
    return {"exists": find_user_id_by_email(query.email) is not None}


def forgot_password(request: ForgotPasswordBody) -> dict[str, Any]:
    """The same answer for every address; a reset mail only for an active account, at most N per hour."""
    email = request.email
    if not could_be_registered(email) or not lockout.allow_reset_request(email):
        return RESET_ANSWER
    user = find_user_by_email(email)
    if user is None or user.status != "ACTIVE":
        return RESET_ANSWER
    settings = get_settings()
    now = clock.now()
    token = new_reset_token()
    expires = now + timedelta(seconds=settings.password_reset_ttl_seconds)
    reset_url = f"{settings.reset_url_base}?token={token}"
    tx = Transaction()
    repository.add_reset_token(tx, token, user.id, now, expires)
    event = PasswordResetRequested(
        user_id=user.id, email=user.email, reset_url=reset_url, expires_at=iso(expires) or ""
    )
    record(tx, Event(event, Actor.user(user.id)))
    tx.commit()
    if settings.stage == "local":
        logger.info("password reset link (local stage only)", email=user.email, reset_url=reset_url)
    return RESET_ANSWER


def reset_password(request: ResetPasswordBody) -> dict[str, Any]:
    token = request.token
    reset = repository.reset_token(token)
    if reset is None:
        raise BadRequest("Invalid token")
    now = clock.now()
    if reset.used_at is not None or not repository.is_newest_reset(reset, token):
        raise BadRequest("Token already used")
    if reset.expires_at <= now:
        raise BadRequest("Token expired")
    problems = password_problems(request.new_password)
    if problems:
        raise BadRequest(problems[0])
    user = find_user(reset.user_id)
    if user is None or user.status != "ACTIVE":
        raise BadRequest("Password reset failed")
    password_hash = hash_password(request.new_password, get_settings().bcrypt_rounds)
    tx = Transaction()
    repository.use_reset_token(tx, reset, now)
    users.set_password(tx, user, password_hash, now)
    record(tx, Event(PasswordChanged(user_id=user.id, via="reset"), Actor.user(user.id)))
    try:
        tx.commit()
    except TransactionCancelled as exc:
        if "token" in exc.failed:
            raise BadRequest("Token already used") from exc
        raise
    return {"message": "Password reset successful"}


def change_password(principal: Principal, request: ChangePasswordBody, ip: str) -> dict[str, Any]:
    current, new_password = request.current_password, request.new_password
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
    users.set_password(tx, user, password_hash, now)
    # The calling session survives: it is re-validated from now on, every other session is not.
    repository.restart_session(tx, principal.session, now)
    record(tx, Event(PasswordChanged(user_id=user.id, via="change"), Actor.user(user.id)))
    tx.commit()
    return {"success": True}
