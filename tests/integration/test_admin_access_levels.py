"""Admin access levels and user access levels (admin.md §16): CRUD with system levels protected, permissions from
the registry, holders counted as they are assigned, export and import."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.ids import seed_id
from tests.integration.buyers import german_buyer
from tests.integration.conftest import ADMIN, Api

OBSERVER = ("observer@example.com", "ObserverPass123@")
ACCESS = "/api/v1/admin/access"
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def admin(api: Api) -> str:
    return api.token(*ADMIN)


def _level(api: Api, admin: str, path: str, **body: Any) -> dict[str, Any]:
    answer = api.post(f"{ACCESS}/{path}", body, token=admin)
    assert answer.status == 201, answer.json
    return answer.json["level"]  # type: ignore[no-any-return]


def _by_slug(api: Api, admin: str, path: str) -> dict[str, dict[str, Any]]:
    return {level["slug"]: level for level in api.get(f"{ACCESS}/{path}", token=admin).json["levels"]}


def test_seeded_levels_are_listed_by_name_with_their_holder_counts(api: Api, admin: str) -> None:
    levels = api.get(f"{ACCESS}/levels", token=admin).json["levels"]
    assert [level["name"] for level in levels] == sorted(level["name"] for level in levels)
    by_slug = {level["slug"]: level for level in levels}
    assert by_slug["observer"]["is_system"] is True and by_slug["observer"]["user_count"] == 1
    observer_id = seed_id("user", OBSERVER[0])
    users = api.get(f"{ACCESS}/levels/{by_slug['observer']['id']}/users", token=admin).json
    assert users["users"] == [{"id": observer_id, "email": OBSERVER[0], "name": users["users"][0]["name"]}]
    assert users["total"] == 1
    members = _by_slug(api, admin, "user-levels")
    assert "linked_plan_slug" in members["logged-in"] and members["logged-in"]["user_count"] >= 1


def test_an_admin_level_is_created_changed_and_deleted(api: Api, admin: str) -> None:
    level = _level(api, admin, "levels", name="Support Desk", permissions=["users.view", "invoices.*"])
    assert (level["slug"], level["is_system"], level["user_count"]) == ("support-desk", False, 0)
    assert "linked_plan_slug" not in level
    path = f"{ACCESS}/levels/{level['id']}"
    assert api.get(path, token=admin).json["level"] == level
    changed = api.put(path, {"description": "Front line", "slug": "support"}, token=admin).json["level"]
    assert (changed["description"], changed["slug"]) == ("Front line", "support")
    assert api.request("DELETE", path, token=admin).json == {"message": "Access level deleted"}
    assert api.get(path, token=admin).json == {"error": "Access level not found"}
    _level(api, admin, "levels", name="Support", slug="support")  # the slug is free again


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"slug": "x"}, "Name is required"),
        ({"name": "X", "slug": "Not A Slug"}, "Invalid slug"),
        ({"name": "X", "slug": "observer"}, "Access level with slug 'observer' already exists"),
        ({"name": "X", "permissions": ["users.fly"]}, "Unknown permission: users.fly"),
        ({"name": "X", "permissions": ["nothing.*"]}, "Unknown permission: nothing.*"),
    ],
)
def test_creating_an_admin_level_is_refused(api: Api, admin: str, body: dict[str, Any], error: str) -> None:
    answer = api.post(f"{ACCESS}/levels", body, token=admin)
    assert (answer.status, answer.json) == (400, {"error": error})


def test_system_levels_are_protected(api: Api, admin: str) -> None:
    observer = _by_slug(api, admin, "levels")["observer"]
    path = f"{ACCESS}/levels/{observer['id']}"
    for body in ({"permissions": ["*"]}, {"slug": "watcher"}):
        answer = api.put(path, body, token=admin)
        assert (answer.status, answer.json) == (400, {"error": "System access levels cannot be modified"})
    assert api.put(path, {"description": "Reads only"}, token=admin).status == 200
    deleted = api.request("DELETE", path, token=admin)
    assert (deleted.status, deleted.json) == (400, {"error": "System access levels cannot be deleted"})
    for method in ("GET", "PUT", "DELETE"):
        answer = api.request(method, f"{ACCESS}/levels/{UNKNOWN}", json_body={}, token=admin)
        assert (answer.status, answer.json) == (404, {"error": "Access level not found"})


def test_permissions_are_listed_by_group(api: Api, admin: str) -> None:
    groups = api.get(f"{ACCESS}/permissions", token=admin).json["permissions"]
    assert set(groups) == {"core", "subscription", "booking", "payments", "email"}  # README §1.3.1's groups
    assert {"key": "settings.system", "description": groups["core"][8]["description"]} in groups["core"]
    user_side = api.get(f"{ACCESS}/user-permissions", token=admin).json["permissions"]
    assert [p["key"] for p in user_side["core"]][:1] == ["subscription.plans.view"]


def test_assigning_and_removing_a_role_moves_the_holders(fresh_api: Api) -> None:
    api, admin = fresh_api, fresh_api.token(*ADMIN)
    level = _level(api, admin, "levels", name="Auditors", permissions=["invoices.view"])
    buyer_id = api.get("/api/v1/auth/me", token=german_buyer(api, "auditor").token).json["id"]
    path = f"{ACCESS}/users/{buyer_id}/roles"
    assigned = api.post(path, {"role_id": level["id"]}, token=admin)
    assert assigned.status == 200 and assigned.json["message"] == "Access level assigned"
    assert [lv["slug"] for lv in assigned.json["user"]["access_levels"]] == ["auditors"]
    assert api.post(path, {"role_id": level["id"]}, token=admin).status == 200  # held already: unchanged
    assert api.get(f"{ACCESS}/levels/{level['id']}", token=admin).json["level"]["user_count"] == 1
    users = api.get(f"{ACCESS}/levels/{level['id']}/users", token=admin).json
    assert ([u["id"] for u in users["users"]], users["total"]) == ([buyer_id], 1)

    removed = api.request("DELETE", f"{path}/{level['id']}", token=admin)
    assert removed.json["message"] == "Access level removed" and removed.json["user"]["access_levels"] == []
    assert api.get(f"{ACCESS}/levels/{level['id']}", token=admin).json["level"]["user_count"] == 0
    again = api.request("DELETE", f"{path}/{level['id']}", token=admin)
    assert (again.status, again.json) == (404, {"error": "Access level not found"})

    from chalicelib.access.members import counts
    from chalicelib.users.models import UserItem, user_key
    from chalicelib.users.repository import find_user

    api.post(path, {"role_id": level["id"]}, token=admin)
    gone = german_buyer(api, "gone")
    api.post(f"{ACCESS}/users/{gone.user_id}/roles", {"role_id": level["id"]}, token=admin)
    UserItem.get(*user_key(gone.user_id), consistent_read=True).delete()  # removed without its holdings
    deleted = api.request("DELETE", f"{ACCESS}/levels/{level['id']}", token=admin)
    assert deleted.json == {"message": "Access level deleted"}
    user = find_user(buyer_id)
    assert user is not None and level["id"] not in user.access_level_ids  # removed from its users
    assert counts([level["id"]]) == {level["id"]: 0}


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        ("users/{user}/roles", {}, 400, "role_id is required"),
        ("users/{unknown}/roles", {"role_id": "{level}"}, 404, "User not found"),
        ("users/{user}/roles", {"role_id": UNKNOWN}, 404, "Access level not found"),
        ("users/{user}/user-access-levels", {"level_id": UNKNOWN}, 404, "Access level not found"),
        ("users/{unknown}/user-access-levels", {"level_id": UNKNOWN}, 404, "User not found"),
    ],
)
def test_assigning_is_refused(api: Api, admin: str, path: str, body: dict[str, Any], status: int, error: str) -> None:
    level = _by_slug(api, admin, "levels")["observer"]["id"]
    names = {"user": seed_id("user", OBSERVER[0]), "unknown": UNKNOWN, "level": level}
    filled = {k: v.format(**names) for k, v in body.items()}
    answer = api.post(f"{ACCESS}/{path.format(**names)}", filled, token=admin)
    assert (answer.status, answer.json) == (status, {"error": error})


def test_user_levels_are_linked_to_plans_and_assigned(fresh_api: Api) -> None:
    api, admin = fresh_api, fresh_api.token(*ADMIN)
    refused = api.post(f"{ACCESS}/user-levels", {"name": "Gold", "linked_plan_slug": "gold"}, token=admin)
    assert (refused.status, refused.json) == (400, {"error": "Plan 'gold' not found"})
    unknown = api.post(f"{ACCESS}/user-levels", {"name": "Gold", "permissions": ["users.view"]}, token=admin)
    assert unknown.json == {"error": "Unknown permission: users.view"}  # an admin key is not a user key
    level = _level(api, admin, "user-levels", name="Gold", linked_plan_slug="pro", permissions=["user.profile.view"])
    assert level["linked_plan_slug"] == "pro"
    assert api.get(f"{ACCESS}/user-levels/{level['id']}/content", token=admin).json == {"pages": [], "widgets": []}
    buyer_id = api.get("/api/v1/auth/me", token=german_buyer(api, "gold").token).json["id"]
    path = f"{ACCESS}/users/{buyer_id}/user-access-levels"
    assigned = api.post(path, {"level_id": level["id"]}, token=admin).json
    assert assigned["message"] == "User access level assigned"
    assert "gold" in [lv["slug"] for lv in assigned["user"]["user_access_levels"]]
    assert api.get(f"{ACCESS}/user-levels/{level['id']}", token=admin).json["level"]["user_count"] == 1
    removed = api.request("DELETE", f"{path}/{level['id']}", token=admin).json
    assert removed["message"] == "User access level removed"
    system = _by_slug(api, admin, "user-levels")["logged-in"]
    blocked = api.request("DELETE", f"{ACCESS}/user-levels/{system['id']}", token=admin)
    assert blocked.json == {"error": "System access levels cannot be deleted"}


def test_levels_are_exported_and_imported_by_slug(fresh_api: Api) -> None:
    api, admin = fresh_api, fresh_api.token(*ADMIN)
    manager = _by_slug(api, admin, "levels")["booking-manager"]
    exported = api.post(f"{ACCESS}/export", {"ids": [manager["id"]]}, token=admin).json
    assert exported == {
        "version": 1,
        "roles": [
            {
                "name": manager["name"],
                "slug": "booking-manager",
                "description": manager["description"],
                "permissions": manager["permissions"],
            }
        ],
    }
    everything = api.post(f"{ACCESS}/export", {}, token=admin).json["roles"]
    assert len(everything) == len(_by_slug(api, admin, "levels"))

    roles = [
        {**exported["roles"][0], "permissions": ["booking.bookings.view"]},
        {"name": "Readers", "slug": "readers", "description": None, "permissions": ["users.view"]},
        {"name": "Observer", "slug": "observer", "permissions": ["*"]},
    ]
    assert api.post(f"{ACCESS}/import", {"roles": roles}, token=admin).json == {"imported": 2, "skipped": 1}
    levels = _by_slug(api, admin, "levels")
    assert levels["booking-manager"]["permissions"] == ["booking.bookings.view"]
    assert levels["readers"]["permissions"] == ["users.view"]
    assert levels["observer"]["permissions"] != ["*"]

    assert api.post(f"{ACCESS}/import", {"roles": []}, token=admin).json == {"error": "roles list required"}
    bad = [{"name": "B", "slug": "b", "permissions": ["no.such"]}]
    assert api.post(f"{ACCESS}/import", {"roles": bad}, token=admin).json == {"error": "Unknown permission: no.such"}
    member = api.post(f"{ACCESS}/user-levels/export", {}, token=admin).json
    assert {"version", "levels"} == set(member) and member["levels"]
    assert api.post(f"{ACCESS}/user-levels/import", {}, token=admin).json == {"error": "levels list required"}
    renamed = [{**member["levels"][-1], "name": "Renamed"}]
    answer = api.post(f"{ACCESS}/user-levels/import", {"levels": renamed}, token=admin).json
    assert answer in ({"imported": 1, "skipped": 0}, {"imported": 0, "skipped": 1})


def test_only_settings_system_reaches_access_levels(api: Api) -> None:
    observer, customer = api.token(*OBSERVER), german_buyer(api, "no-access").token
    for method, path in [
        ("GET", f"{ACCESS}/levels"),
        ("POST", f"{ACCESS}/levels"),
        ("GET", f"{ACCESS}/permissions"),
        ("POST", f"{ACCESS}/export"),
        ("GET", f"{ACCESS}/user-levels"),
        ("POST", f"{ACCESS}/users/{UNKNOWN}/roles"),
    ]:
        answer = api.request(method, path, json_body={}, token=observer)
        assert (answer.status, answer.json) == (403, {"error": "Permission denied", "required": "settings.system"})
        assert api.request(method, path, json_body={}, token=customer).json == {"error": "Admin access required"}


def test_the_users_roles_route_and_a_forced_delete_move_the_holders_too(fresh_api: Api) -> None:
    """`PUT /admin/users/<id>/roles` (admin.md §3.6) replaces the levels and a forced delete (§3.8) drops them: the
    holders and `user_count` of §16 follow both, as they follow §16's own assign and remove."""
    api, admin = fresh_api, fresh_api.token(*ADMIN)
    level = _level(api, admin, "levels", name="Support", permissions=["users.view"])
    buyer = german_buyer(api, "support-agent")
    buyer_id = api.get("/api/v1/auth/me", token=buyer.token).json["id"]

    def holders() -> tuple[int, list[str]]:
        count = api.get(f"{ACCESS}/levels/{level['id']}", token=admin).json["level"]["user_count"]
        users = api.get(f"{ACCESS}/levels/{level['id']}/users", token=admin).json["users"]
        return count, [u["id"] for u in users]

    roles = f"/api/v1/admin/users/{buyer_id}/roles"
    assert api.put(roles, {"roles": ["ADMIN", "support"]}, token=admin).status == 200
    assert holders() == (1, [buyer_id])
    assert api.put(roles, {"roles": ["ADMIN"]}, token=admin).status == 200  # an enum value alone clears the slugs
    assert holders() == (0, [])
    assert api.put(roles, {"roles": ["USER", "support"]}, token=admin).status == 200
    assert holders() == (1, [buyer_id])
    api.post("/api/v1/user/checkout", {"plan_id": seed_id("plan", "basic")}, token=buyer.token)  # some history
    deleted = api.request("DELETE", f"/api/v1/admin/users/{buyer_id}?force=true", token=admin)
    assert deleted.status == 200, deleted.json
    assert holders() == (0, [])
