"""The user access level a registration grants (contract auth.md §3.1, README deliberate difference 70).

The seeded case is in test_auth_register.py; here each test gets an account of its own without seed data: a stage
whose catalog has no `logged-in` level still registers users (without a level), and grants the level once it exists.
"""

from __future__ import annotations

import uuid

from chalicelib.catalog.models import UserAccessLevelItem
from chalicelib.catalog.repository import bump_version
from chalicelib.core import clock
from chalicelib.store.transactions import Transaction
from chalicelib.users.repository import find_user
from tests.contract import LOGGED_IN_LEVEL, LOGGED_IN_PERMISSIONS
from tests.integration.conftest import Api

REGISTER = "/api/v1/auth/register"
PASSWORD = "Secret123!"


def register(api: Api) -> tuple[str, dict]:
    email = f"levels-{uuid.uuid4().hex[:12]}@example.com"
    answer = api.post(REGISTER, {"email": email, "password": PASSWORD})
    assert answer.status == 200, answer.json
    return email, answer.json


def add_logged_in_level() -> None:
    """What the seed writes for `logged-in`, as an admin tool or a late seed would add it."""
    now = clock.now()
    level = UserAccessLevelItem(
        *UserAccessLevelItem.key(LOGGED_IN_LEVEL["id"]),
        id=LOGGED_IN_LEVEL["id"],
        slug="logged-in",
        name="Logged in",
        is_system=True,
        permissions=LOGGED_IN_PERMISSIONS,
        created_at=now,
        updated_at=now,
    )
    tx = Transaction()
    tx.create(level, label="level")
    bump_version(tx, now)
    tx.commit()


def test_an_unseeded_stage_registers_users_without_a_level(empty_api: Api) -> None:
    email, registered = register(empty_api)
    assert (registered["user"]["user_access_levels"], registered["user"]["user_permissions"]) == ([], [])
    assert list(find_user(registered["user_id"]).user_access_level_ids) == []
    login = empty_api.login(email, PASSWORD)
    me = empty_api.get("/api/v1/auth/me", token=login["token"])
    assert me.status == 200
    assert (me.json["user_access_levels"], me.json["user_permissions"]) == ([], [])


def test_the_level_is_granted_as_soon_as_the_catalog_has_it(empty_api: Api) -> None:
    _, before = register(empty_api)
    add_logged_in_level()
    _, after = register(empty_api)
    assert after["user"]["user_access_levels"] == [LOGGED_IN_LEVEL]
    assert after["user"]["user_permissions"] == LOGGED_IN_PERMISSIONS
    assert list(find_user(after["user_id"]).user_access_level_ids) == [LOGGED_IN_LEVEL["id"]]
    # Registration grants the level once, in its own transaction; earlier accounts are not changed behind them.
    assert list(find_user(before["user_id"]).user_access_level_ids) == []
