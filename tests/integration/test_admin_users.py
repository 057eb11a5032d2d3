"""Admin profile and user administration (contract admin.md §2, §3): every status and message of the routes.

Every test acts on users it created itself (through the admin API or a registration), so the module shares one
seeded account.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.contract import PASSWORD, WEAK_PASSWORDS
from tests.integration.buyers import buy, german_buyer, register_buyer
from tests.integration.conftest import ADMIN, Api, outbox_events

USERS = "/api/v1/admin/users"
SUPER = ("super@example.com", "SuperPass123@")


@pytest.fixture(scope="module")
def admin_token(api: Api) -> str:
    return api.token(*ADMIN)


@pytest.fixture(scope="module")
def super_token(api: Api) -> str:
    return api.token(*SUPER)


def _email(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"


def create(api: Api, token: str, **fields: Any) -> dict[str, Any]:
    body = {"email": _email("made"), "password": PASSWORD, **fields}
    answer = api.post(USERS, body, token=token)
    assert answer.status == 201, answer.json
    return answer.json  # type: ignore[no-any-return]


def events_of(event_type: str, user_id: str) -> list[dict[str, Any]]:
    return [e for e in outbox_events(event_type) if e["data"].get("user_id") == user_id]


# --- §2 admin profile -------------------------------------------------------------------------------------------------


def test_the_admin_profile_shows_and_merges_config(api: Api, admin_token: str) -> None:
    first = api.put("/api/v1/admin/profile", {"config": {"language": "de"}, "city": "Berlin"}, token=admin_token)
    second = api.put("/api/v1/admin/profile", {"config": {"theme": "dark"}, "unknown": 1}, token=admin_token)
    shown = api.get("/api/v1/admin/profile", token=admin_token)

    assert (first.status, second.status, shown.status) == (200, 200, 200)
    assert second.json["message"] == "Profile updated"
    user = shown.json["user"]
    assert (user["email"], user["role"], user["is_active"]) == (ADMIN[0], "ADMIN", True)
    assert user["details"]["config"] == {"language": "de", "theme": "dark"}
    assert user["details"]["city"] == "Berlin"
    assert isinstance(user["details"]["balance"], int | float)


def test_the_admin_profile_refuses_a_field_beyond_its_limit(api: Api, admin_token: str) -> None:
    answer = api.put("/api/v1/admin/profile", {"first_name": "x" * 101}, token=admin_token)
    assert answer.status == 400
    assert answer.json["fields"] == {"first_name": ["Longer than maximum length 100."]}


# --- §3.1 create ------------------------------------------------------------------------------------------------------


def test_an_admin_creates_a_user_who_can_sign_in(api: Api, admin_token: str) -> None:
    email = _email("Created").upper()
    details = {"first_name": "Ada", "last_name": "Lovelace", "country": "de", "city": "London"}
    answer = api.post(USERS, {"email": email, "password": PASSWORD, "details": details}, token=admin_token)

    assert answer.status == 201, answer.json
    user = answer.json
    assert (user["email"], user["status"], user["role"], user["name"]) == (
        email.lower(),
        "ACTIVE",
        "USER",
        "Ada Lovelace",
    )
    assert user["details"]["country"] == "DE" and user["token_balance"] == 0
    assert [s["slug"] for s in user["user_access_levels"]] == ["logged-in"]
    assert [e["data"] for e in events_of("user.registered", user["id"])] == [
        {"user_id": user["id"], "email": email.lower(), "source": "admin"}
    ]
    assert api.login(email.lower(), PASSWORD)["user_id"] == user["id"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"password": PASSWORD}, "Email is required"),
        ({"email": "not-an-email", "password": PASSWORD}, "Invalid email format"),
        ({"email": "x@example.com"}, "Password is required"),
        *[({"email": "x@example.com", "password": weak}, message) for weak, message in WEAK_PASSWORDS[:2]],
        ({"email": "x@example.com", "password": PASSWORD, "status": "sleeping"}, "Invalid status: sleeping"),
        ({"email": "x@example.com", "password": PASSWORD, "role": "king"}, "Invalid role: king"),
    ],
)
def test_create_refuses_bad_input(api: Api, admin_token: str, body: dict[str, Any], error: str) -> None:
    answer = api.post(USERS, body, token=admin_token)
    assert (answer.status, answer.json) == (400, {"error": error})


def test_create_refuses_bad_details_field_by_field(api: Api, admin_token: str) -> None:
    body = {"email": _email("d"), "password": PASSWORD, "details": {"city": "x" * 101}}
    answer = api.post(USERS, body, token=admin_token)
    assert answer.status == 400
    assert answer.json["error"] == "city: Longer than maximum length 100."
    assert answer.json["fields"] == {"city": ["Longer than maximum length 100."]}


def test_only_a_super_admin_assigns_super_admin(api: Api, admin_token: str, super_token: str) -> None:
    refused = api.post(USERS, {"email": _email("s"), "password": PASSWORD, "role": "super_admin"}, token=admin_token)
    assert (refused.status, refused.json) == (403, {"error": "Only a super admin can assign the SUPER_ADMIN role"})
    assert create(api, super_token, role="SUPER_ADMIN", status="pending")["role"] == "SUPER_ADMIN"


def test_create_refuses_an_address_taken_in_any_case(api: Api, admin_token: str) -> None:
    email = _email("dup")
    create(api, admin_token, email=email)
    answer = api.post(USERS, {"email": email.upper(), "password": PASSWORD}, token=admin_token)
    assert (answer.status, answer.json) == (409, {"error": "User with this email already exists"})


# --- §3.2 list --------------------------------------------------------------------------------------------------------


def test_the_list_is_newest_first_with_totals_and_filters(api: Api, admin_token: str) -> None:
    tag = f"lst{uuid.uuid4().hex[:6]}"
    made = [create(api, admin_token, email=f"{tag}-{n}@example.com") for n in range(3)]
    vendor = create(api, admin_token, email=f"{tag}-v@example.com", role="VENDOR", status="SUSPENDED")

    everyone = api.get(f"{USERS}?limit=2", token=admin_token).json
    assert [u["id"] for u in everyone["users"]] == [vendor["id"], made[2]["id"]]
    assert everyone["next_cursor"] and everyone["pages"] == -(-everyone["total"] // 2)
    following = api.get(f"{USERS}?limit=2&cursor={everyone['next_cursor']}", token=admin_token).json
    assert [u["id"] for u in following["users"]] == [made[1]["id"], made[0]["id"]]
    assert following["offset"] == 2

    suspended = api.get(f"{USERS}?status=suspended&per_page=100", token=admin_token).json
    assert vendor["id"] in [u["id"] for u in suspended["users"]]
    assert {u["status"] for u in suspended["users"]} == {"SUSPENDED"} and suspended["total"] == len(suspended["users"])
    vendors = api.get(f"{USERS}?role=VENDOR&status=SUSPENDED", token=admin_token).json
    assert [u["id"] for u in vendors["users"]] == [vendor["id"]] and vendors["total"] == 1

    found = api.get(f"{USERS}?search={tag.upper()}-", token=admin_token).json
    assert sorted(u["email"] for u in found["users"]) == [u["email"] for u in [*made, vendor]]
    assert found["total"] == 4
    active_found = api.get(f"{USERS}?search={tag}&status=ACTIVE", token=admin_token).json
    assert active_found["total"] == 3
    assert api.get(f"{USERS}?status=", token=admin_token).json["total"] == everyone["total"]


@pytest.mark.parametrize("search", ["x" * 256, "é" * 300, "%00", "🙂" * 200, "a%23b"])
def test_a_hostile_search_finds_nothing_and_never_fails(api: Api, admin_token: str, search: str) -> None:
    answer = api.get(f"{USERS}?search={search}", token=admin_token)
    assert (answer.status, answer.json["users"], answer.json["total"]) == (200, [], 0)


@pytest.mark.parametrize(
    ("query", "error"), [("status=gone", "Invalid status: gone"), ("role=king", "Invalid role: king")]
)
def test_the_list_refuses_unknown_filters(api: Api, admin_token: str, query: str, error: str) -> None:
    answer = api.get(f"{USERS}?{query}", token=admin_token)
    assert (answer.status, answer.json) == (400, {"error": error})


# --- §3.3 / §3.4 detail and update ------------------------------------------------------------------------------------


def test_the_detail_has_subscription_and_stats(api: Api, admin_token: str) -> None:
    buyer = german_buyer(api, "detail")
    buy(api, buyer, plan="basic")
    answer = api.get(f"{USERS}/{buyer.user_id}", token=admin_token)

    assert answer.status == 200
    user = answer.json["user"]
    assert user["subscription"]["plan"] == "Basic" and user["subscription"]["status"] == "PENDING"
    assert user["stats"]["invoice_count"] == 1 and user["stats"]["total_payments"] == "0.00"
    assert user["stats"]["last_login"] is None


def test_an_unknown_user_is_404_everywhere(api: Api, admin_token: str) -> None:
    unknown = f"{USERS}/{uuid.uuid4()}"
    answers = [
        api.get(unknown, token=admin_token),
        api.put(unknown, {"name": "x"}, token=admin_token),
        api.post(f"{unknown}/suspend", {}, token=admin_token),
        api.post(f"{unknown}/activate", {}, token=admin_token),
        api.put(f"{unknown}/roles", {"roles": ["USER"]}, token=admin_token),
        api.get(f"{unknown}/deletion-info", token=admin_token),
        api.request("DELETE", unknown, token=admin_token),
        api.get(f"{unknown}/addons", token=admin_token),
        api.post(f"{unknown}/impersonate", {}, token=admin_token),
    ]
    assert {(a.status, a.json["error"]) for a in answers} == {(404, "User not found")}


def test_an_update_changes_standing_details_and_balances(api: Api, admin_token: str) -> None:
    user = create(api, admin_token, role="VENDOR")
    body = {
        "is_active": False,
        "role": "user",
        "name": "Grace Brewster Hopper",
        "phone": "",
        "balance": 12.5,
        "token_balance": 40,
    }
    answer = api.put(f"{USERS}/{user['id']}", body, token=admin_token)

    assert answer.status == 200, answer.json
    changed = answer.json["user"]
    assert (changed["status"], changed["is_active"], changed["role"]) == ("SUSPENDED", False, "USER")
    assert (changed["details"]["first_name"], changed["details"]["last_name"]) == ("Grace", "Brewster Hopper")
    assert changed["details"]["balance"] == 12.5 and changed["token_balance"] == 40
    lowered = api.put(f"{USERS}/{user['id']}", {"token_balance": 15}, token=admin_token).json["user"]
    unchanged = api.put(f"{USERS}/{user['id']}", {"token_balance": 15}, token=admin_token)
    assert lowered["token_balance"] == 15 and unchanged.status == 200
    entries = [
        e["data"] for e in outbox_events() if e["type"].startswith("tokens.") and e["data"]["user_id"] == user["id"]
    ]
    assert [(e["amount"], e["transaction_type"], e["balance_after"]) for e in entries] == [
        (40, "ADJUSTMENT", 40),
        (-25, "ADJUSTMENT", 15),
    ]
    assert [e["data"]["reason"] for e in events_of("user.suspended", user["id"])] == [None]


def test_a_password_set_by_an_admin_ends_every_session(api: Api, admin_token: str) -> None:
    buyer = register_buyer(api, "pwd")
    answer = api.put(f"{USERS}/{buyer.user_id}", {"password": "Newpass1!x"}, token=admin_token)

    assert answer.status == 200
    assert api.get("/api/v1/auth/me", token=buyer.token).status == 401
    assert api.login(buyer.email, "Newpass1!x")["user_id"] == buyer.user_id
    assert [e["data"]["via"] for e in events_of("user.password_changed", buyer.user_id)] == ["admin"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"status": "gone"}, "Invalid status: gone"),
        ({"role": "king"}, "Invalid role: king"),
        ({"password": "weak"}, "Password must be at least 8 characters"),
        ({"balance": -1}, "Balance cannot be negative"),
        ({"balance": "lots"}, "Invalid balance"),
        ({"token_balance": -3}, "Token balance must be a non-negative integer"),
        ({"token_balance": 2.5}, "Token balance must be a non-negative integer"),
    ],
)
def test_an_update_refuses_bad_values(api: Api, admin_token: str, body: dict[str, Any], error: str) -> None:
    user = create(api, admin_token)
    answer = api.put(f"{USERS}/{user['id']}", body, token=admin_token)
    assert (answer.status, answer.json) == (400, {"error": error})


def test_an_update_refuses_a_too_long_detail(api: Api, admin_token: str) -> None:
    user = create(api, admin_token)
    answer = api.put(f"{USERS}/{user['id']}", {"city": "x" * 101}, token=admin_token)
    assert (answer.status, answer.json["fields"]) == (400, {"city": ["Longer than maximum length 100."]})


def test_the_admin_cannot_change_their_own_standing_or_make_super_admins(api: Api, admin_token: str) -> None:
    me = api.get("/api/v1/auth/me", token=admin_token).json["id"]
    own = api.put(f"{USERS}/{me}", {"role": "USER"}, token=admin_token)
    user = create(api, admin_token)
    elevate = api.put(f"{USERS}/{user['id']}", {"role": "SUPER_ADMIN"}, token=admin_token)
    assert (own.status, own.json) == (400, {"error": "You cannot change your own role or status"})
    assert (elevate.status, elevate.json) == (403, {"error": "Only a super admin can assign the SUPER_ADMIN role"})


def test_only_a_super_admin_changes_a_super_admins_role_or_status(api: Api, admin_token: str, super_token: str) -> None:
    boss = create(api, super_token, role="SUPER_ADMIN")
    demoted = api.put(f"{USERS}/{boss['id']}", {"role": "USER"}, token=admin_token)
    assert (demoted.status, demoted.json) == (403, {"error": "Only a super admin can assign the SUPER_ADMIN role"})
    renamed = api.put(f"{USERS}/{boss['id']}", {"name": "Big Boss"}, token=admin_token)
    assert (renamed.status, renamed.json["user"]["name"]) == (200, "Big Boss")
    assert (
        api.put(f"{USERS}/{boss['id']}", {"is_active": False}, token=super_token).json["user"]["status"] == "SUSPENDED"
    )


# --- §3.5 suspend and activate ----------------------------------------------------------------------------------------


def test_suspend_ends_sessions_and_activate_restores(api: Api, admin_token: str) -> None:
    buyer = register_buyer(api, "susp")
    suspended = api.post(f"{USERS}/{buyer.user_id}/suspend", {"reason": "fraud"}, token=admin_token)
    assert suspended.status == 200
    assert (suspended.json["message"], suspended.json["user"]["status"]) == ("User suspended successfully", "SUSPENDED")
    assert api.get("/api/v1/auth/me", token=buyer.token).status == 401

    activated = api.post(f"{USERS}/{buyer.user_id}/activate", token=admin_token)
    assert (activated.status, activated.json["message"]) == (200, "User activated successfully")
    assert activated.json["user"]["status"] == "ACTIVE"
    assert api.get("/api/v1/auth/me", token=buyer.token).status == 401  # the old session stays ended
    assert api.login(buyer.email, PASSWORD)["user_id"] == buyer.user_id
    assert [e["data"] for e in events_of("user.suspended", buyer.user_id)] == [
        {"user_id": buyer.user_id, "reason": "fraud"}
    ]
    assert len(events_of("user.activated", buyer.user_id)) == 1


def test_an_admin_cannot_suspend_themselves(api: Api, admin_token: str) -> None:
    me = api.get("/api/v1/auth/me", token=admin_token).json["id"]
    answer = api.post(f"{USERS}/{me}/suspend", {}, token=admin_token)
    assert (answer.status, answer.json) == (400, {"error": "You cannot suspend yourself"})


# --- §3.6 roles -------------------------------------------------------------------------------------------------------


def test_roles_set_the_role_and_replace_the_levels(api: Api, admin_token: str) -> None:
    user = create(api, admin_token)
    answer = api.put(f"{USERS}/{user['id']}/roles", {"roles": ["admin", "observer"]}, token=admin_token)
    assert (answer.status, answer.json["message"]) == (200, "Roles updated")
    changed = answer.json["user"]
    assert (changed["role"], [level["slug"] for level in changed["access_levels"]]) == ("ADMIN", ["observer"])
    assert "users.view" in changed["permissions"] and "users.manage" not in changed["permissions"]
    cleared = api.put(f"{USERS}/{user['id']}/roles", {"roles": ["ADMIN"]}, token=admin_token).json["user"]
    assert cleared["access_levels"] == [] and cleared["permissions"] == ["*"]


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({}, 400, "At least one role is required"),
        ({"roles": []}, 400, "At least one role is required"),
        ({"roles": ["ADMIN", "wizard"]}, 400, "Invalid role: wizard"),
        ({"roles": ["SUPER_ADMIN"]}, 403, "Only a super admin can assign the SUPER_ADMIN role"),
    ],
)
def test_roles_refuse_bad_input(api: Api, admin_token: str, body: dict[str, Any], status: int, error: str) -> None:
    user = create(api, admin_token)
    answer = api.put(f"{USERS}/{user['id']}/roles", body, token=admin_token)
    assert (answer.status, answer.json) == (status, {"error": error})


# --- §3.7 / §3.8 deletion ---------------------------------------------------------------------------------------------


def test_a_user_without_history_is_deleted(api: Api, admin_token: str) -> None:
    user = create(api, admin_token)
    info = api.get(f"{USERS}/{user['id']}/deletion-info", token=admin_token).json
    assert info == {
        "user_id": user["id"],
        "email": user["email"],
        "has_cascade_dependencies": False,
        "invoice_count": 0,
        "subscription_count": 0,
    }
    answer = api.request("DELETE", f"{USERS}/{user['id']}", token=admin_token)
    assert (answer.status, answer.json) == (200, {"message": "User deleted successfully"})
    assert api.get(f"{USERS}/{user['id']}", token=admin_token).status == 404
    assert create(api, admin_token, email=user["email"])["email"] == user["email"]  # the address is free again
    assert len(events_of("user.deleted", user["id"])) == 1


def test_a_user_with_history_needs_force_and_is_erased(api: Api, admin_token: str) -> None:
    buyer = german_buyer(api, "erase")
    bought = buy(api, buyer, plan="basic")
    path = f"{USERS}/{buyer.user_id}"
    assert api.get(f"{path}/deletion-info", token=admin_token).json["has_cascade_dependencies"] is True

    refused = api.request("DELETE", path, token=admin_token)
    assert refused.status == 409
    assert refused.json == {
        "error": "Cannot delete user with 1 invoice(s) and 1 subscription(s). User has transaction history.",
        "has_dependencies": True,
        "invoice_count": 1,
        "subscription_count": 1,
    }
    forced = api.request("DELETE", f"{path}?force=true", token=admin_token)
    assert (forced.status, forced.json) == (200, {"message": "User deleted successfully"})
    assert api.get(path, token=admin_token).status == 404
    assert api.get("/api/v1/auth/me", token=buyer.token).status == 401
    deleted = api.get(f"{USERS}?status=DELETED&per_page=100", token=admin_token).json["users"]
    [erased] = [u for u in deleted if u["id"] == buyer.user_id]
    assert erased["email"] == f"deleted-{buyer.user_id}@deleted.invalid" and "details" not in erased
    cancelled = events_of("subscription.cancelled", buyer.user_id)
    assert [e["data"]["reason"] for e in cancelled] == ["admin"]
    voided = [e["data"] for e in outbox_events("invoice.voided") if e["data"]["invoice_id"] == bought["invoice"]["id"]]
    assert len(voided) == 1


def test_deletion_refusals(api: Api, admin_token: str, super_token: str) -> None:
    me = api.get("/api/v1/auth/me", token=admin_token).json["id"]
    own = api.request("DELETE", f"{USERS}/{me}", token=admin_token)
    boss = create(api, super_token, role="SUPER_ADMIN")
    above = api.request("DELETE", f"{USERS}/{boss['id']}", token=admin_token)
    assert (own.status, own.json) == (400, {"error": "You cannot delete yourself"})
    assert (above.status, above.json) == (403, {"error": "Only a super admin can delete a super admin"})


# --- §3.9 add-ons, §3.10 impersonation --------------------------------------------------------------------------------


def test_the_add_ons_of_a_user_with_their_invoices(api: Api, admin_token: str) -> None:
    buyer = german_buyer(api, "addons")
    bought = buy(api, buyer, plan="basic", addons=("extra-storage-50gb",))
    answer = api.get(f"{USERS}/{buyer.user_id}/addons", token=admin_token)
    assert answer.status == 200
    [row] = answer.json["addon_subscriptions"]
    assert row["addon_name"] == "Extra Storage 50 GB" and row["status"] == "PENDING"
    assert row["first_invoice"]["id"] == row["last_invoice"]["id"] == bought["invoice"]["id"]
    assert row["invoice_status"] == "PENDING"


def test_impersonation_issues_a_short_token_for_the_user(api: Api, admin_token: str) -> None:
    buyer = register_buyer(api, "imp")
    answer = api.post(f"{USERS}/{buyer.user_id}/impersonate", token=admin_token)

    assert answer.status == 200
    body = answer.json
    assert (body["expires_in"], body["token_type"], body["user"]["id"]) == (600, "Bearer", buyer.user_id)
    assert body["impersonated_by"]["email"] == ADMIN[0]
    me = api.get("/api/v1/auth/me", token=body["token"]).json
    assert me["id"] == buyer.user_id and me["impersonator"]["email"] == ADMIN[0]
    [event] = [e for e in outbox_events("admin.impersonation_started") if e["data"]["user_id"] == buyer.user_id]
    assert event["data"]["admin_id"] == body["impersonated_by"]["id"] and event["data"]["expires_at"]


def test_impersonation_refusals(api: Api, admin_token: str) -> None:
    me = api.get("/api/v1/auth/me", token=admin_token).json["id"]
    colleague = create(api, admin_token, role="ADMIN")
    sleeper = create(api, admin_token, status="SUSPENDED")
    answers = {
        "self": api.post(f"{USERS}/{me}/impersonate", token=admin_token),
        "admin": api.post(f"{USERS}/{colleague['id']}/impersonate", token=admin_token),
        "inactive": api.post(f"{USERS}/{sleeper['id']}/impersonate", token=admin_token),
    }
    assert {name: (a.status, a.json["error"]) for name, a in answers.items()} == {
        "self": (400, "You cannot impersonate yourself"),
        "admin": (403, "Cannot impersonate an administrator"),
        "inactive": (400, "User account is not active"),
    }


def test_the_list_totals_are_the_users_they_count(api: Api, admin_token: str) -> None:
    """Whatever this module's writes did so far (creates, standing changes, deletes), the maintained totals match
    the users (the invariant `make check` and the CLI's `check` run); a total moved by hand is found."""
    from chalicelib.audit.invariants import check_user_totals
    from chalicelib.users.models import UserTotalItem

    user = create(api, admin_token, role="VENDOR")
    api.put(f"{USERS}/{user['id']}", {"status": "PENDING"}, token=admin_token)
    assert check_user_totals() == []
    UserTotalItem(*UserTotalItem.key("PENDING", "VENDOR")).update(actions=[UserTotalItem.value.add(1)])
    assert [v.subject for v in check_user_totals()] == ["COUNT#USERS#PENDING#ROLE#VENDOR"]
    UserTotalItem(*UserTotalItem.key("PENDING", "VENDOR")).update(actions=[UserTotalItem.value.add(-1)])
