"""The local stage's development routes (contract admin.md §19): the shared clock, jobs on demand, the sent
notifications and reseeding — admin-only, and 404 in every stage but `local`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core import clock
from chalicelib.core.config import get_settings
from chalicelib.http import routing
from tests.integration.conftest import ADMIN, USER, Api, sent_mail

DEV = "/api/v1/admin/dev"
ROUTES = (
    ("GET", f"{DEV}/clock"),
    ("POST", f"{DEV}/clock"),
    ("POST", f"{DEV}/jobs/outbox-relay/run"),
    ("GET", f"{DEV}/notifications"),
    ("POST", f"{DEV}/reseed"),
)


@pytest.fixture
def own_clock() -> Iterator[clock.OffsetClock]:
    """A movable clock of this test process (as `chalice local` started by hand has), put back afterwards."""
    movable = clock.OffsetClock(clock.MemoryOffset())
    previous = clock.use_clock(movable)
    yield movable
    clock.use_clock(previous)


def _seconds_from_real_time(answer: dict[str, object]) -> float:
    moment = datetime.fromisoformat(str(answer["now"]).replace("Z", "+00:00"))
    return (moment - datetime.now(UTC)).total_seconds()


def test_the_clock_reads_moves_and_resets(fresh_api: Api, own_clock: clock.OffsetClock) -> None:
    token = fresh_api.token(*ADMIN)
    read = fresh_api.get(f"{DEV}/clock", token=token)
    assert read.status == 200 and read.json["offset_seconds"] == 0
    assert abs(_seconds_from_real_time(read.json)) < 30

    moved = fresh_api.post(f"{DEV}/clock", {"advance_seconds": 3600}, token=token)
    assert moved.status == 200 and moved.json["offset_seconds"] == 3600
    assert abs(_seconds_from_real_time(moved.json) - 3600) < 30
    assert clock.now() - datetime.now(UTC) > timedelta(minutes=59)  # every "now" of the process follows

    token = fresh_api.token(*ADMIN)  # the token issued before expired an hour later
    target = datetime.now(UTC) + timedelta(days=3)
    moved = fresh_api.post(f"{DEV}/clock", {"set": target.strftime("%Y-%m-%dT%H:%M:%SZ")}, token=token)
    assert moved.status == 200, moved.json
    assert abs(moved.json["offset_seconds"] - 3 * 86_400) < 30
    assert moved.json["now"] == target.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_moved_clock_expires_the_tokens_issued_before(fresh_api: Api, own_clock: clock.OffsetClock) -> None:
    token = fresh_api.token(*ADMIN)
    assert fresh_api.post(f"{DEV}/clock", {"advance_seconds": 2 * 86_400}, token=token).status == 200
    expired = fresh_api.get(f"{DEV}/clock", token=token)
    assert (expired.status, expired.json) == (401, {"error": "Invalid or expired token"})
    fresh = fresh_api.token(*ADMIN)  # a login on the moved clock issues a token valid on it
    back = fresh_api.post(f"{DEV}/clock", {"reset": True}, token=fresh)
    assert back.status == 200 and back.json["offset_seconds"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"advance_seconds": 60, "reset": True},
        {"advance_seconds": 60, "set": "2030-01-01T00:00:00Z"},
        {"reset": None},
    ],
)
def test_a_move_names_exactly_one_of_the_three(api: Api, own_clock: clock.OffsetClock, body: object) -> None:
    answer = api.post(f"{DEV}/clock", body, token=api.token(*ADMIN))
    assert (answer.status, answer.json) == (400, {"error": "Exactly one of advance_seconds, set or reset is required"})
    assert own_clock.offset() == timedelta(0)


def test_a_move_that_is_not_an_object_is_refused(api: Api, own_clock: clock.OffsetClock) -> None:
    for body in ([], "advance", 60):
        answer = api.post(f"{DEV}/clock", body, token=api.token(*ADMIN))
        assert (answer.status, answer.json) == (400, {"error": "Request body must be a JSON object"})
    assert own_clock.offset() == timedelta(0)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"advance_seconds": 0}, "advance_seconds must be a positive integer"),
        ({"advance_seconds": -5}, "advance_seconds must be a positive integer"),
        ({"advance_seconds": 1.5}, "advance_seconds must be a positive integer"),
        ({"advance_seconds": "60"}, "advance_seconds must be a positive integer"),
        ({"advance_seconds": True}, "advance_seconds must be a positive integer"),
        ({"advance_seconds": 10**30}, "advance_seconds must not exceed 3162240000"),
        ({"set": "yesterday"}, "set must be an ISO-8601 date-time"),
        ({"set": 1700000000}, "set must be an ISO-8601 date-time"),
        ({"set": "9999-12-31T23:59:59Z"}, "The clock cannot move more than 3162240000 seconds ahead"),
        ({"set": "2020-01-01T00:00:00Z"}, "The clock cannot move backwards"),
        ({"reset": False}, "reset must be true"),
        ({"reset": "yes"}, "reset must be true"),
    ],
)
def test_refused_moves_change_nothing(api: Api, own_clock: clock.OffsetClock, body: object, message: str) -> None:
    answer = api.post(f"{DEV}/clock", body, token=api.token(*ADMIN))
    assert (answer.status, answer.json) == (400, {"error": message})
    assert own_clock.offset() == timedelta(0)


def test_setting_an_earlier_moment_than_the_moved_now_is_backwards(api: Api, own_clock: clock.OffsetClock) -> None:
    token = api.token(*ADMIN)
    assert api.post(f"{DEV}/clock", {"advance_seconds": 3600}, token=token).status == 200
    token = api.token(*ADMIN)
    earlier = (datetime.now(UTC) + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    answer = api.post(f"{DEV}/clock", {"set": earlier}, token=token)
    assert (answer.status, answer.json) == (400, {"error": "The clock cannot move backwards"})
    assert own_clock.offset() == timedelta(hours=1)


def test_the_routes_are_for_admins_with_the_system_permission(api: Api) -> None:
    anonymous = api.get(f"{DEV}/clock")
    assert anonymous.status == 401
    for method, path in ROUTES:
        answer = api.request(method, path, token=api.token(*USER), json_body={})
        assert (answer.status, answer.json) == (403, {"error": "Admin access required"}), path


def test_every_route_is_404_in_any_other_stage(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    token = api.token(*ADMIN)
    elsewhere = get_settings().model_copy(update={"stage": "dev"})
    monkeypatch.setattr(routing, "get_settings", lambda: elsewhere)
    for method, path in ROUTES:
        answer = api.request(method, path, token=token, json_body={"advance_seconds": 60})
        assert (answer.status, answer.json) == (404, {"error": "Not found"}), path
    anonymous = api.get(f"{DEV}/clock")  # before authentication: the path does not exist there
    assert (anonymous.status, anonymous.json) == (404, {"error": "Not found"})
    monkeypatch.undo()
    assert api.get(f"{DEV}/clock", token=token).status == 200


def test_a_lone_surrogate_never_reaches_the_clock(api: Api, own_clock: clock.OffsetClock) -> None:
    answer = api.request(
        "POST",
        f"{DEV}/clock",
        body='{"set": "\\ud800"}',
        token=api.token(*ADMIN),
        headers={"Content-Type": "application/json"},
    )
    assert (answer.status, answer.json) == (400, {"error": "Invalid JSON body"})
    assert own_clock.offset() == timedelta(0)


def test_an_unknown_job_is_404(api: Api) -> None:
    token = api.token(*ADMIN)
    for job in ("nope", "x" * 5000, "OUTBOX-RELAY"):
        answer = api.post(f"{DEV}/jobs/{job}/run", token=token)
        assert (answer.status, answer.json) == (404, {"error": f"Unknown job: {job}"})


def test_a_job_run_answers_after_the_consumers_it_set_going(fresh_api: Api) -> None:
    registered = fresh_api.post("/api/v1/auth/register", {"email": "ada@example.com", "password": "Abcdef1!"})
    assert registered.status == 200
    assert not [m for m in sent_mail() if m["to"] == ["ada@example.com"]]
    answer = fresh_api.post(f"{DEV}/jobs/outbox-relay/run", token=fresh_api.token(*ADMIN))
    assert answer.status == 200, answer.json
    assert answer.json["job"] == "outbox-relay"
    assert answer.json["result"]["published"] >= 1
    assert answer.json["result"]["delivered"]["mail"] >= 1
    assert "unsettled" not in answer.json["result"]["delivered"]
    assert [m["subject"] for m in sent_mail() if m["to"] == ["ada@example.com"]] == ["Welcome to VBWD"]


def test_all_runs_every_job(fresh_api: Api) -> None:
    from chalicelib.jobs import JOBS

    answer = fresh_api.post(f"{DEV}/jobs/all/run", token=fresh_api.token(*ADMIN))
    assert answer.status == 200, answer.json
    assert answer.json["job"] == "all"
    assert set(answer.json["result"]) == {job.name for job in JOBS} | {"delivered"}


def test_notifications_newest_first_filtered_and_paged(fresh_api: Api, manual_clock: clock.ManualClock) -> None:
    token = fresh_api.token(*ADMIN)
    for email in ("ada@example.com", "grace@example.com", "linus@example.com"):
        assert fresh_api.post("/api/v1/auth/register", {"email": email, "password": "Abcdef1!"}).status == 200
        assert fresh_api.post(f"{DEV}/jobs/outbox-relay/run", token=token).status == 200
        manual_clock.advance(timedelta(minutes=1))
    listed = fresh_api.get(f"{DEV}/notifications", token=token)
    assert listed.status == 200
    welcomes = [n for n in listed.json["notifications"] if n["template"] == "welcome"]
    assert [n["to"] for n in welcomes] == ["linus@example.com", "grace@example.com", "ada@example.com"]
    assert {n["channel"] for n in welcomes} == {"email"}

    only = fresh_api.get(f"{DEV}/notifications?to=grace@example.com", token=token)
    assert [n["to"] for n in only.json["notifications"]] == ["grace@example.com"]
    assert only.json["next_cursor"] is None
    assert fresh_api.get(f"{DEV}/notifications?channel=sms", token=token).json["notifications"] == []
    refused = fresh_api.get(f"{DEV}/notifications?channel=fax", token=token)
    assert (refused.status, refused.json) == (400, {"error": "Invalid channel: fax"})

    seen, path = [], f"{DEV}/notifications?channel=email&limit=1"
    while True:
        page = fresh_api.get(path, token=token)
        assert page.status == 200 and len(page.json["notifications"]) <= 1
        seen.extend(n["id"] for n in page.json["notifications"])
        if page.json["next_cursor"] is None:
            break
        path = f"{DEV}/notifications?channel=email&limit=1&cursor={page.json['next_cursor']}"
    assert seen == [n["id"] for n in listed.json["notifications"]]


def test_reseed_replaces_all_data_by_the_seed(fresh_api: Api) -> None:
    assert fresh_api.post("/api/v1/auth/register", {"email": "ada@example.com", "password": "Abcdef1!"}).status == 200
    answer = fresh_api.post(f"{DEV}/reseed", token=fresh_api.token(*ADMIN))
    assert (answer.status, answer.json) == (200, {"message": "Reseeded"})
    gone = fresh_api.post("/api/v1/auth/login", {"email": "ada@example.com", "password": "Abcdef1!"})
    assert gone.status == 401
    assert fresh_api.token(*ADMIN) and fresh_api.token(*USER)
    plans = fresh_api.get("/api/v1/tarif-plans")
    assert plans.status == 200 and plans.json
