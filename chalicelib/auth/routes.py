"""/api/v1/auth/* (contract auth.md §3)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint
from pydantic import BaseModel

from chalicelib.core.lazy import lazy_module, model_refs
from chalicelib.http.access import OPTIONAL, PUBLIC, USER
from chalicelib.http.ratelimit import LimitScope
from chalicelib.http.request import Req
from chalicelib.http.routing import View, route

if TYPE_CHECKING:
    from chalicelib.auth.schemas import (
        CheckEmailQuery,
        ForgotPasswordBody,
        LoginBody,
        LogoutBody,
        RefreshBody,
        RegisterBody,
        ResetPasswordBody,
    )

bp = Blueprint(__name__)
schemas = model_refs("chalicelib.auth.schemas")
service = lazy_module("chalicelib.auth.service")

AUTH_ENVELOPE = {"success": False, "token": None, "user_id": None, "user": None}
REFRESH_ENVELOPE = {**AUTH_ENVELOPE, "refresh_token": None}
# Every error of register, login and refresh comes in the auth envelope.
ENVELOPED = (400, 401, 409, 413, 415, 429, 500, 503)
SIGNED_IN: dict[int, type[BaseModel]] = {200: schemas.TokenAnswer, **dict.fromkeys(ENVELOPED, schemas.AuthFailure)}
REFRESHED: dict[int, type[BaseModel]] = {200: schemas.TokenAnswer, **dict.fromkeys(ENVELOPED, schemas.RefreshFailure)}
MESSAGE = {200: schemas.MessageAnswer}


def auth_post(
    path: str, body: type[BaseModel], responses: Mapping[int, Any], envelope: Mapping[str, Any] | None = None
) -> Callable[[View], View]:
    """A public POST of the sign-in and password-reset flows: rate-limited per client (`LimitScope.AUTH`)."""
    return route(bp, path, "POST", limit=LimitScope.AUTH, envelope=envelope, body=body, responses=responses)


@auth_post("/auth/register", schemas.RegisterBody, SIGNED_IN, AUTH_ENVELOPE)
def register(req: Req, body: RegisterBody) -> Any:
    """Create an account (granted the `logged-in` level) and sign it in."""
    return service.register(body)


@auth_post("/auth/login", schemas.LoginBody, SIGNED_IN, AUTH_ENVELOPE)
def login(req: Req, body: LoginBody) -> Any:
    """Sign in with e-mail and password: a new session (refresh-token family)."""
    return service.login(body, req.client_ip)


@auth_post("/auth/refresh", schemas.RefreshBody, REFRESHED, REFRESH_ENVELOPE)
def refresh(req: Req, body: RefreshBody) -> Any:
    """Trade a refresh token for a new access token and the next refresh token of its family."""
    return service.refresh(body, req.client_ip)


@route(bp, "/auth/logout", "POST", access=OPTIONAL, body=schemas.LogoutBody, responses=MESSAGE)
def logout(req: Req, body: LogoutBody) -> Any:
    """End the caller's session and/or the refresh token's family; always 200."""
    return service.logout(req.principal, body)


@route(bp, "/auth/me", "GET", access=USER, responses={200: schemas.MeAnswer})
def me(req: Req) -> Any:
    """The caller as the login user object, with status and impersonator."""
    return service.me(req.user)


@route(
    bp,
    "/auth/check-email",
    "GET",
    access=PUBLIC,
    limit=LimitScope.AUTH,
    query=schemas.CheckEmailQuery,
    responses={200: schemas.EmailExists},
)
def check_email(req: Req, query: CheckEmailQuery) -> Any:
    """Whether an account has this e-mail address."""
    return service.check_email(query)


@auth_post("/auth/forgot-password", schemas.ForgotPasswordBody, MESSAGE)
def forgot_password(req: Req, body: ForgotPasswordBody) -> Any:
    """Mail a one-hour reset link to an active account; the same answer for every address."""
    return service.forgot_password(body)


@auth_post("/auth/reset-password", schemas.ResetPasswordBody, MESSAGE)
def reset_password(req: Req, body: ResetPasswordBody) -> Any:
    """Set a new password with a reset token; every session ends."""
    return service.reset_password(body)
