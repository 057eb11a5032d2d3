"""The admin role and permission checks of the route declarations (README §1.3, §1.3.1; auth.md §1.4).

A small probe app declares routes the way the admin API will (`route(..., access=admin("users.view"))`) and runs
on the module's shared seeded account, so the seeded admins, their roles and the 401/403 answers are the real ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.app import Blueprint
from chalice.test import Client

from chalicelib.auth.sessions import open_impersonation_session
from chalicelib.core import clock
from chalicelib.core.ids import seed_id
from chalicelib.http.access import USER, admin
from chalicelib.http.platform import create_app
from chalicelib.http.request import Req
from chalicelib.http.routing import ROUTES, route
from chalicelib.store.transactions import Transaction
from chalicelib.users.repository import find_user
from tests.integration.conftest import Api

ADMIN_REQUIRED = {"error": "Admin access required"}
IMPERSONATING = {"error": "Not allowed while impersonating"}
LOGINS = {
    "admin": ("admin@example.com", "AdminPass123@"),
    "super": ("super@example.com", "SuperPass123@"),
    "observer": ("observer@example.com", "ObserverPass123@"),
    "salon": ("salon.admin@demo.local", "DemoPass123!"),
    "user": ("test@example.com", "TestPass123@"),
}


def _probe_app() -> Any:
    bp = Blueprint("tests.integration.admin_probe")

    @route(bp, "/admin/probe", "GET", access=admin("users.view"))
    def probe_view(req: Req) -> dict[str, Any]:
        return {"ok": True, "user_id": req.principal.user_id}

    @route(bp, "/admin/probe/manage", "POST", access=admin("users.manage"))
    def probe_manage(req: Req) -> dict[str, Any]:
        return {"ok": True}

    @route(bp, "/admin/probe/booking", "GET", access=admin("booking.bookings.view"))
    def probe_booking(req: Req) -> dict[str, Any]:
        return {"ok": True}

    @route(bp, "/admin/probe/any", "GET", access=admin())
    def probe_any(req: Req) -> dict[str, Any]:
        return {"ok": True}

    @route(bp, "/admin/probe/{item_id}", "DELETE", access=admin("users.manage"))
    def probe_admin_delete(req: Req, item_id: str) -> dict[str, Any]:
        return {"deleted": item_id}

    @route(bp, "/things/{thing_id}", "DELETE", access=USER)
    def probe_delete(req: Req, thing_id: str) -> dict[str, Any]:
        return {"deleted": thing_id}

    @route(bp, "/things", "GET", access=USER)
    def probe_list(req: Req) -> dict[str, Any]:
        return {"user_id": req.principal.user_id}

    return create_app("t", [bp], root=lambda app: None)


@pytest.fixture(scope="module")
def probe(api: Api) -> Iterator[Api]:
    declared = len(ROUTES)
    app = _probe_app()
    del ROUTES[declared:]  # the probe's routes are no part of the product's route table
    with Client(app) as client:
        yield Api(client)


@pytest.fixture(scope="module")
def tokens(api: Api) -> dict[str, str]:
    return {name: api.token(email, password) for name, (email, password) in LOGINS.items()}


def impersonation_token(user_id: str, admin_email: str = "admin@example.com") -> str:
    tx = Transaction()
    issued = open_impersonation_session(tx, find_user(user_id), seed_id("user", admin_email), clock.now())
    tx.commit()
    return issued.access.token


def own_user(api: Api) -> dict[str, Any]:
    email = f"probe-{uuid.uuid4().hex[:12]}@example.com"
    answer = api.post("/api/v1/auth/register", {"email": email, "password": "Secret123!"})
    assert answer.status == 200
    return answer.json  # type: ignore[no-any-return]


# --- 401 -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/admin/probe", "/api/v1/admin/probe/any"])
def test_admin_routes_need_a_token(probe, path):
    answer = probe.get(path)
    assert answer.status == 401
    assert answer.json == {"error": "Authorization header is required"}


def test_admin_routes_refuse_bad_tokens_with_401(probe):
    assert probe.get("/api/v1/admin/probe", token="nope").json == {"error": "Invalid or expired token"}
    bad_format = probe.get("/api/v1/admin/probe", headers={"Authorization": "Basic abc"})
    assert bad_format.status == 401
    assert bad_format.json == {"error": "Invalid Authorization header format"}


# --- role ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/admin/probe", "/api/v1/admin/probe/any", "/api/v1/admin/probe/booking"])
def test_a_user_token_is_refused_with_403(probe, tokens, path):
    answer = probe.get(path, token=tokens["user"])
    assert answer.status == 403
    assert answer.json == ADMIN_REQUIRED


@pytest.mark.parametrize("who", ["admin", "super"])
def test_admins_without_roles_may_do_everything(probe, tokens, who):
    for path in ("/api/v1/admin/probe", "/api/v1/admin/probe/any", "/api/v1/admin/probe/booking"):
        answer = probe.get(path, token=tokens[who])
        assert answer.status == 200, (path, answer.json)
    assert probe.post("/api/v1/admin/probe/manage", {}, token=tokens[who]).json == {"ok": True}
    email = LOGINS[who][0]
    assert probe.get("/api/v1/admin/probe", token=tokens[who]).json == {"ok": True, "user_id": seed_id("user", email)}


# --- permissions -----------------------------------------------------------------------------------------------


def test_the_observer_has_users_view(probe, tokens):
    answer = probe.get("/api/v1/admin/probe", token=tokens["observer"])
    assert answer.status == 200
    assert answer.json == {"ok": True, "user_id": seed_id("user", "observer@example.com")}


def test_the_observer_lacks_users_manage(probe, tokens):
    answer = probe.post("/api/v1/admin/probe/manage", {}, token=tokens["observer"])
    assert answer.status == 403
    assert answer.json == {"error": "Permission denied", "required": "users.manage"}


def test_an_admin_route_without_a_permission_only_needs_the_role(probe, tokens):
    assert probe.get("/api/v1/admin/probe/any", token=tokens["observer"]).status == 200
    assert probe.get("/api/v1/admin/probe/any", token=tokens["salon"]).status == 200


def test_the_booking_manager_has_booking_permissions_only(probe, tokens):
    assert probe.get("/api/v1/admin/probe/booking", token=tokens["salon"]).status == 200
    answer = probe.get("/api/v1/admin/probe", token=tokens["salon"])
    assert answer.status == 403
    assert answer.json == {"error": "Permission denied", "required": "users.view"}


def test_the_permission_check_runs_after_the_role_check(probe, tokens):
    # A plain user on a route whose permission it lacks still hears about the role first.
    answer = probe.post("/api/v1/admin/probe/manage", {}, token=tokens["user"])
    assert answer.status == 403
    assert answer.json == ADMIN_REQUIRED


# --- impersonation ---------------------------------------------------------------------------------------------


def test_an_impersonation_token_of_a_user_is_refused_on_admin_routes(api, probe):
    user = own_user(api)
    borrowed = impersonation_token(user["user_id"])
    for path in ("/api/v1/admin/probe", "/api/v1/admin/probe/any"):
        answer = probe.get(path, token=borrowed)
        assert answer.status == 403
        assert answer.json == ADMIN_REQUIRED
    # It still works on user routes.
    assert probe.get("/api/v1/things", token=borrowed).json == {"user_id": user["user_id"]}


def test_an_impersonation_token_of_an_admin_is_refused_on_admin_routes(probe):
    borrowed = impersonation_token(seed_id("user", "observer@example.com"), admin_email="super@example.com")
    answer = probe.get("/api/v1/admin/probe", token=borrowed)
    assert answer.status == 403
    assert answer.json == ADMIN_REQUIRED


def test_delete_routes_refuse_impersonation_tokens(api, probe):
    user = own_user(api)
    borrowed = impersonation_token(user["user_id"])
    answer = probe.request("DELETE", "/api/v1/things/abc", token=borrowed)
    assert answer.status == 403
    assert answer.json == IMPERSONATING

    own = probe.request("DELETE", "/api/v1/things/abc", token=user["token"])
    assert own.status == 200
    assert own.json == {"deleted": "abc"}


def test_admin_delete_routes_refuse_impersonation_tokens_as_admin_routes(probe):
    borrowed = impersonation_token(seed_id("user", "admin@example.com"), admin_email="super@example.com")
    answer = probe.request("DELETE", "/api/v1/admin/probe/abc", token=borrowed)
    assert answer.status == 403
    assert answer.json == ADMIN_REQUIRED


def test_the_probe_app_completes_its_route_table(probe, tokens):
    missing = probe.get("/api/v1/admin/nothing-here", token=tokens["admin"])
    assert missing.status == 404
    assert missing.json == {"error": "Not found"}
    wrong_method = probe.request("PUT", "/api/v1/admin/probe", token=tokens["admin"])
    assert wrong_method.status == 405
    assert wrong_method.json == {"error": "Method not allowed"}
