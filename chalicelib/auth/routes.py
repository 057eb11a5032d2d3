"""/api/v1/auth/* (contract auth.md §3)."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.auth.schemas import (
    AuthFailure,
    CheckEmailQuery,
    EmailExists,
    ForgotPasswordBody,
    LoginBody,
    LogoutBody,
    MeAnswer,
    MessageAnswer,
    RefreshBody,
    RefreshFailure,
    RegisterBody,
    ResetPasswordBody,
    TokenAnswer,
)
from chalicelib.core.lazy import lazy_module
from chalicelib.http.access import OPTIONAL, PUBLIC, USER
from chalicelib.http.ratelimit import LimitScope
from chalicelib.http.request import Req
from chalicelib.http.routing import route

bp = Blueprint(__name__)
service = lazy_module("chalicelib.auth.service")

AUTH_ENVELOPE = {"success": False, "token": None, "user_id": None, "user": None}
REFRESH_ENVELOPE = {**AUTH_ENVELOPE, "refresh_token": None}
# Every error of register, login and refresh comes in the auth envelope.
ENVELOPED = (400, 401, 409, 413, 415, 429, 500, 503)
AUTH_ERRORS = dict.fromkeys(ENVELOPED, AuthFailure)
REFRESH_ERRORS = dict.fromkeys(ENVELOPED, RefreshFailure)


@route(
    bp,
    "/auth/register",
    "POST",
    limit=LimitScope.AUTH,
    envelope=AUTH_ENVELOPE,
    body=RegisterBody,
    responses={200: TokenAnswer, **AUTH_ERRORS},
)
def register(req: Req, body: RegisterBody) -> Any:
    """Create an account (granted the `logged-in` level) and sign it in."""
    return service.register(body)


@route(
    bp,
    "/auth/login",
    "POST",
    limit=LimitScope.AUTH,
    envelope=AUTH_ENVELOPE,
    body=LoginBody,
    responses={200: TokenAnswer, **AUTH_ERRORS},
)
def login(req: Req, body: LoginBody) -> Any:
    """Sign in with e-mail and password: a new session (refresh-token family)."""
    return service.login(body, req.client_ip)


@route(
    bp,
    "/auth/refresh",
    "POST",
    limit=LimitScope.AUTH,
    envelope=REFRESH_ENVELOPE,
    body=RefreshBody,
    responses={200: TokenAnswer, **REFRESH_ERRORS},
)
def refresh(req: Req, body: RefreshBody) -> Any:
    """Trade a refresh token for a new access token and the next refresh token of its family."""
    return service.refresh(body, req.client_ip)


@route(bp, "/auth/logout", "POST", access=OPTIONAL, body=LogoutBody, responses={200: MessageAnswer})
def logout(req: Req, body: LogoutBody) -> Any:
    """End the caller's session and/or the refresh token's family; always 200."""
    return service.logout(req.principal, body)


@route(bp, "/auth/me", "GET", access=USER, responses={200: MeAnswer})
def me(req: Req) -> Any:
    """The caller as the login user object, with status and impersonator."""
    return service.me(req.user)


@route(
    bp,
    "/auth/check-email",
    "GET",
    access=PUBLIC,
    limit=LimitScope.AUTH,
    query=CheckEmailQuery,
    responses={200: EmailExists},
)
def check_email(req: Req, query: CheckEmailQuery) -> Any:
    """Whether an account has this e-mail address."""
    return service.check_email(query)


@route(
    bp,
    "/auth/forgot-password",
    "POST",
    limit=LimitScope.AUTH,
    body=ForgotPasswordBody,
    responses={200: MessageAnswer},
)
def forgot_password(req: Req, body: ForgotPasswordBody) -> Any:
    """Mail a one-hour reset link to an active account; the same answer for every address."""
    return service.forgot_password(body)


@route(
    bp,
    "/auth/reset-password",
    "POST",
    limit=LimitScope.AUTH,
    body=ResetPasswordBody,
    responses={200: MessageAnswer},
)
def reset_password(req: Req, body: ResetPasswordBody) -> Any:
    """Set a new password with a reset token; every session ends."""
    return service.reset_password(body)
