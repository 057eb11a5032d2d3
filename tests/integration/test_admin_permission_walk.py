"""The permission walk (issue 8, Deliver 2): every admin route of the route table, called as the seeded `observer`,
as a plain user and without a token.

Everything is derived from `chalicelib.http.routing.ROUTES`, so a route another change adds is walked the moment it
is declared. Path parameters are fresh uuids (or a made-up code), so no request needs — or touches — real data:
the walk judges the gate, not the route behind it.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from chalicelib.auth.access_levels import effective_admin_permissions
from chalicelib.auth.permissions import grants
from chalicelib.http.routing import ROUTES, RouteSpec
from chalicelib.users.repository import find_user_by_email
from tests.integration.conftest import Answer, Api

OBSERVER = ("observer@example.com", "ObserverPass123@")
PLAIN_USER = ("test@example.com", "TestPass123@")
PARAM = re.compile(r"\{(\w+)\}")


def _admin_routes() -> list[tuple[str, str, RouteSpec]]:
    import app  # noqa: F401 — declaring the app's blueprints fills the route table

    walked = [(method, spec.path, spec) for spec in ROUTES if spec.access.level == "admin" for method in spec.methods]
    return sorted(walked, key=lambda entry: (entry[1], entry[0]))


def _concrete(spec: RouteSpec) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(uuid.uuid4()) if name in spec.uuid_params else f"walk-{name.replace('_', '-')}"

    return "/api/v1" + PARAM.sub(fill, spec.path)


def _call(api: Api, method: str, spec: RouteSpec, token: str | None) -> Answer:
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return api.request(method, _concrete(spec), json_body=body, token=token)


@pytest.fixture(scope="module")
def tokens(api: Api) -> dict[str, str]:
    return {"observer": api.token(*OBSERVER), "user": api.token(*PLAIN_USER)}


@pytest.fixture(scope="module")
def observer_grants(api: Api) -> list[str]:
    observer = find_user_by_email(OBSERVER[0])
    assert observer is not None
    return effective_admin_permissions(observer)


def _enabled(plugin: str | None) -> bool:
    if plugin is None:
        return True
    from chalicelib.plugins.registry import is_enabled

    return is_enabled(plugin)


def test_the_walk_covers_the_admin_api() -> None:
    """The table is not empty by accident (a broken import would make every other check pass vacuously)."""
    paths = {path for _, path, _ in _admin_routes()}
    assert "/admin/invoices/{invoice_id}/mark-paid" in paths
    assert "/admin/users" in paths
    assert len(paths) >= 10


def test_observer_is_refused_exactly_what_it_lacks(
    api: Api, tokens: dict[str, str], observer_grants: list[str]
) -> None:
    wrong: list[tuple[str, str, int, Any]] = []
    for method, path, spec in _admin_routes():
        answer = _call(api, method, spec, tokens["observer"])
        permission = spec.access.permission
        if not _enabled(spec.plugin):
            if (answer.status, answer.json) != (404, {"error": "Plugin not enabled"}):
                wrong.append((method, path, answer.status, answer.json))
        elif permission is not None and not grants(observer_grants, permission):
            if (answer.status, answer.json) != (403, {"error": "Permission denied", "required": permission}):
                wrong.append((method, path, answer.status, answer.json))
        elif answer.status >= 500 or (answer.status == 403 and not _decided_by_the_view(spec, answer, observer_grants)):
            wrong.append((method, path, answer.status, answer.json))
    assert wrong == []


def _decided_by_the_view(spec: Any, answer: Any, observer_grants: list[str]) -> bool:
    """A route whose permission depends on its target (a plugin's config: `settings.system` or the plugin's own
    `*.configure` key, admin.md §15) names no permission of its own; it may refuse with the key it needed, and only
    one the observer lacks."""
    required = answer.json.get("required") if isinstance(answer.json, dict) else None
    return (
        spec.access.permission is None
        and answer.json.get("error") == "Permission denied"
        and isinstance(required, str)
        and not grants(observer_grants, required)
    )


def test_observer_may_read_but_never_write(observer_grants: list[str]) -> None:
    """The observer role is read-only: every write it is granted needs no permission at all (its own profile)."""
    granted_writes = [
        (method, path)
        for method, path, spec in _admin_routes()
        if method != "GET" and spec.access.permission is not None and grants(observer_grants, spec.access.permission)
    ]
    assert granted_writes == []


def test_a_plain_user_is_refused_every_admin_route(api: Api, tokens: dict[str, str]) -> None:
    wrong = []
    for method, path, spec in _admin_routes():
        answer = _call(api, method, spec, tokens["user"])
        expected = (
            (403, {"error": "Admin access required"})
            if _enabled(spec.plugin)
            else (404, {"error": "Plugin not enabled"})
        )
        if (answer.status, answer.json) != expected:
            wrong.append((method, path, answer.status, answer.json))
    assert wrong == []


def test_no_token_is_401_on_every_admin_route(api: Api) -> None:
    wrong = []
    for method, path, spec in _admin_routes():
        answer = _call(api, method, spec, None)
        expected_status = 401 if _enabled(spec.plugin) else 404
        if answer.status != expected_status or "error" not in (answer.json or {}):
            wrong.append((method, path, answer.status, answer.json))
    assert wrong == []
