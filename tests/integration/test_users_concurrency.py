"""Concurrent writes of one user's details (contract auth.md §4.3; README §1.12): every request that answers 200 is
applied and none is lost to another; one that lost every retry answers 409, none answers 500. The shared seeded
account only gains the users the tests register."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest

from chalicelib.users.repository import find_details, find_user
from tests.integration.conftest import at_once, outbox_events

pytestmark = pytest.mark.usefixtures("atomic_dynamodb")
PASSWORD = "Secret123!"


def register(api) -> tuple[str, str]:
    email = f"race-details-{uuid.uuid4().hex[:12]}@example.com"
    answer = api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD})
    assert answer.status == 200, answer.json
    return answer.json["user_id"], answer.json["token"]


def test_simultaneous_config_changes_are_all_merged(api):
    """Each PUT merges its key into what the winner before it stored (a lost race is read and decided again)."""
    user_id, token = register(api)

    answers = at_once(6, lambda n: api.put("/api/v1/user/details", {"config": {f"k{n}": n + 0.5}}, token=token))

    statuses = Counter(a.status for a in answers)
    assert set(statuses) <= {200, 409} and statuses[200] >= 1, [a.json for a in answers]
    assert {a.json["error"] for a in answers if a.status == 409} <= {"Concurrent modification, please retry"}
    applied = [n for n, a in enumerate(answers) if a.status == 200]
    details = find_details(user_id)
    assert details is not None
    assert details.config == {f"k{n}": n + 0.5 for n in applied}
    changes = [e["data"] for e in outbox_events("user.updated") if e["data"]["user_id"] == user_id]
    assert len(changes) == len(applied)


def test_simultaneous_name_changes_leave_the_login_name_of_the_stored_names(api):
    user_id, token = register(api)

    def rename(n: int):
        return api.put("/api/v1/user/details", {"first_name": f"Ada{n}", "last_name": "Byron"}, token=token)

    answers = at_once(6, rename)

    statuses = Counter(a.status for a in answers)
    assert set(statuses) <= {200, 409} and statuses[200] >= 1, [a.json for a in answers]
    details, user = find_details(user_id), find_user(user_id)
    assert details is not None and user is not None
    assert user.display_name == f"{details.first_name} Byron"
    assert details.first_name in {f"Ada{n}" for n, a in enumerate(answers) if a.status == 200}
