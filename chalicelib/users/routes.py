"""/api/v1/user/profile, /user/details, /user/change-password (contract auth.md §4)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.core.lazy import lazy_module, model_refs
from chalicelib.http.access import USER, user_not_impersonated
from chalicelib.http.request import Req
from chalicelib.http.routing import route

if TYPE_CHECKING:
    from chalicelib.auth.schemas import ChangePasswordBody
    from chalicelib.users.schemas import DetailsBody

bp = Blueprint(__name__)
auth_schemas = model_refs("chalicelib.auth.schemas")
schemas = model_refs("chalicelib.users.schemas")
service = lazy_module("chalicelib.users.service")
auth_service = lazy_module("chalicelib.auth.service")


@route(bp, "/user/profile", "GET", access=USER, responses={200: schemas.ProfileAnswer})
def profile(req: Req) -> Any:
    """The caller's profile and billing details."""
    return service.profile(req.user)


@route(bp, "/user/details", "GET", access=USER, responses={200: schemas.Details})
def get_details(req: Req) -> Any:
    """The caller's billing details (every key null but `user_id` before the first save)."""
    return service.get_details(req.user)


@route(bp, "/user/details", "PUT", access=USER, body=schemas.DetailsBody, responses={200: schemas.Details})
def update_details(req: Req, body: DetailsBody) -> Any:
    """Change any subset of the caller's billing details; `null` or `""` clears a field."""
    return service.update_details(req.user, body)


@route(
    bp,
    "/user/change-password",
    "POST",
    access=user_not_impersonated(),
    body=auth_schemas.ChangePasswordBody,
    responses={200: auth_schemas.SuccessAnswer},
)
def change_password(req: Req, body: ChangePasswordBody) -> Any:
    """Change the caller's password; every other session ends, this one stays."""
    return auth_service.change_password(req.user, body, req.client_ip)
