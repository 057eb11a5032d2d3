"""/api/v1/admin/profile and /api/v1/admin/users… (contract admin.md §2, §3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.core.lazy import lazy_module, model_refs
from chalicelib.core.validation import NoBody
from chalicelib.http.access import admin
from chalicelib.http.pagination import page_keys, page_or_default
from chalicelib.http.request import Req
from chalicelib.http.routing import route

if TYPE_CHECKING:
    from chalicelib.admin_users.schemas import (
        AdminProfileBody,
        CreateUserBody,
        DeleteUserBody,
        DeleteUserQuery,
        RolesBody,
        SuspendBody,
        UpdateUserBody,
        UserListQuery,
    )

bp = Blueprint(__name__)
schemas = model_refs("chalicelib.admin_users.schemas")
service = lazy_module("chalicelib.admin_users.service")
DEFAULT_PAGE = 20
USER_ID = ("user_id",)
NOT_FOUND = "No such user (or a deleted one)"


@route(bp, "/admin/profile", "GET", access=admin(), responses={200: schemas.AdminProfileAnswer})
def admin_profile(req: Req) -> Any:
    """The calling admin's profile with details, balance and config."""
    return service.admin_profile(req.user)


@route(
    bp,
    "/admin/profile",
    "PUT",
    access=admin(),
    body=schemas.AdminProfileBody,
    responses={200: schemas.AdminProfileAnswer},
)
def update_admin_profile(req: Req, body: AdminProfileBody) -> Any:
    """Change the calling admin's details; `config` is merged into the stored one."""
    return service.update_admin_profile(req.user, body)


@route(
    bp,
    "/admin/users",
    "POST",
    access=admin("users.manage"),
    body=schemas.CreateUserBody,
    status=201,
    responses={201: schemas.AdminUser, 409: "The address belongs to another account"},
)
def create_user(req: Req, body: CreateUserBody) -> Any:
    """Create a user (any status and role; `SUPER_ADMIN` only by a super admin)."""
    return service.create_user(req.user, body)


@route(
    bp,
    "/admin/users",
    "GET",
    access=admin("users.view"),
    query=schemas.UserListQuery,
    responses={200: schemas.AdminUserList},
)
def list_users(req: Req, query: UserListQuery) -> Any:
    """Users newest first, by status and role; `search` is a case-insensitive e-mail prefix."""
    page = service.list_users(query, page_or_default(req, DEFAULT_PAGE).request)
    return {"users": page.items, **page_keys(req, page)}


@route(
    bp,
    "/admin/users/{user_id}",
    "GET",
    access=admin("users.view"),
    uuid_params=USER_ID,
    responses={200: schemas.AdminUserDetailAnswer, 404: NOT_FOUND},
)
def get_user(req: Req, user_id: str) -> Any:
    """One user with their subscription and payment stats."""
    return service.get_user(user_id)


@route(
    bp,
    "/admin/users/{user_id}",
    "PUT",
    access=admin("users.manage"),
    uuid_params=USER_ID,
    body=schemas.UpdateUserBody,
    responses={200: schemas.AdminUserAnswer, 404: NOT_FOUND},
)
def update_user(req: Req, user_id: str, body: UpdateUserBody) -> Any:
    """Change a user's standing, password, details, balance or token balance."""
    return service.update_user(req.user, user_id, body)


@route(
    bp,
    "/admin/users/{user_id}/suspend",
    "POST",
    access=admin("users.manage"),
    uuid_params=USER_ID,
    body=schemas.SuspendBody,
    responses={200: schemas.AdminUserAnswer, 404: NOT_FOUND},
)
def suspend_user(req: Req, user_id: str, body: SuspendBody) -> Any:
    """Suspend a user; every session of theirs ends."""
    return service.set_status(req.user, user_id, "SUSPENDED", body.reason)


@route(
    bp,
    "/admin/users/{user_id}/activate",
    "POST",
    access=admin("users.manage"),
    uuid_params=USER_ID,
    body=NoBody,
    responses={200: schemas.AdminUserAnswer, 404: NOT_FOUND},
)
def activate_user(req: Req, user_id: str, body: NoBody) -> Any:
    """Make a user active again."""
    return service.set_status(req.user, user_id, "ACTIVE")


@route(
    bp,
    "/admin/users/{user_id}/roles",
    "PUT",
    access=admin("users.manage"),
    uuid_params=USER_ID,
    body=schemas.RolesBody,
    responses={200: schemas.AdminUserAnswer, 404: NOT_FOUND},
)
def set_user_roles(req: Req, user_id: str, body: RolesBody) -> Any:
    """Set a user's role and replace their admin access levels."""
    return service.set_roles(req.user, user_id, body)


@route(
    bp,
    "/admin/users/{user_id}/deletion-info",
    "GET",
    access=admin("users.view"),
    uuid_params=USER_ID,
    responses={200: schemas.DeletionInfo, 404: NOT_FOUND},
)
def user_deletion_info(req: Req, user_id: str) -> Any:
    """What deleting the user would take with it."""
    return service.deletion_info(user_id)


@route(
    bp,
    "/admin/users/{user_id}",
    "DELETE",
    access=admin("users.manage"),
    uuid_params=USER_ID,
    body=schemas.DeleteUserBody,
    query=schemas.DeleteUserQuery,
    responses={200: schemas.Message, 404: NOT_FOUND, 409: schemas.DeleteRefused},
)
def delete_user(req: Req, user_id: str, body: DeleteUserBody, query: DeleteUserQuery) -> Any:
    """Delete a user; one with invoices or subscriptions only with `force` (then erased, history kept)."""
    return service.delete_user(req.user, user_id, body.force or query.forced)


@route(
    bp,
    "/admin/users/{user_id}/addons",
    "GET",
    access=admin("users.view"),
    uuid_params=USER_ID,
    responses={200: schemas.UserAddonsAnswer, 404: NOT_FOUND},
)
def user_addons(req: Req, user_id: str) -> Any:
    """The user's add-on subscriptions with the first and last invoice of each."""
    return service.user_addons(user_id)


@route(
    bp,
    "/admin/users/{user_id}/impersonate",
    "POST",
    access=admin("users.impersonate"),
    uuid_params=USER_ID,
    body=NoBody,
    responses={200: schemas.ImpersonationAnswer, 404: NOT_FOUND},
)
def impersonate_user(req: Req, user_id: str, body: NoBody) -> Any:
    """A 600-second access token for the user, naming the admin."""
    return service.impersonate(req.user, user_id)
