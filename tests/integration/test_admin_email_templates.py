"""E-mail template routes (admin.md §20) on one shared seeded world: every refusal and message, previews in the
sandbox, test sends through SES and their hourly limit, and who may call them. The tests of this module store no
template (those that do are in test_admin_email_mails.py, each on a world of its own)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.integration.conftest import ADMIN, USER, Answer, Api, drain_events, sent_mail

BASE = "/api/v1/admin/email"
TEMPLATES = f"{BASE}/templates"
OBSERVER = ("observer@example.com", "ObserverPass123@")
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def admin(api: Api) -> str:
    return api.token(*ADMIN)


def delete(api: Api, path: str, token: str) -> Answer:
    return api.request("DELETE", path, token=token)


def create(api: Api, token: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = api.post(TEMPLATES, body, token=token)
    assert answer.status == 201, answer.json
    return answer.json  # type: ignore[no-any-return]


def register(api: Api, email: str) -> None:
    assert api.post("/api/v1/auth/register", {"email": email, "password": "Abcdef1!"}).status == 200
    drain_events()


def mails_to(email: str) -> list[dict[str, Any]]:
    return [m for m in sent_mail() if m["to"] == [email]]


def test_event_types_declare_their_variables_with_examples(api: Api, admin: str) -> None:
    answer = api.get(f"{BASE}/event-types", token=admin)
    assert answer.status == 200
    names = [e["event_type"] for e in answer.json]
    assert names == sorted(names) and {"user.registered", "invoice.paid", "subscription.expired"} <= set(names)
    [welcome] = [e for e in answer.json if e["event_type"] == "user.registered"]
    assert set(welcome["variables"]) == {"user_id", "email", "source"}
    assert all(v["description"] and v["example"] for e in answer.json for v in e["variables"].values())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "event_type required"),
        ({"event_type": ""}, "event_type required"),
        ({"event_type": "user.exploded"}, "Unknown event type: user.exploded"),
        ({"event_type": "user.registered", "subject": "{{ email"}, "Invalid template: subject: "),
        ({"event_type": "user.registered", "html_body": "{% for x in email %}{% endfor %}"}, "Invalid template: "),
        ({"event_type": "user.registered", "text_body": "{% include '/etc/passwd' %}"}, "Invalid template: "),
    ],
)
def test_create_refusals(api: Api, admin: str, body: dict[str, Any], message: str) -> None:
    answer = api.post(TEMPLATES, body, token=admin)
    assert answer.status == 400 and answer.json["error"].startswith(message), answer.json
    assert answer.json["error"] == message or message.endswith(": ")


@pytest.mark.parametrize(("method", "body"), [("GET", None), ("PUT", {"subject": "x"}), ("DELETE", None)])
def test_a_template_id_must_be_a_uuid_and_exist(api: Api, admin: str, method: str, body: Any) -> None:
    invalid = api.request(method, f"{TEMPLATES}/not-a-uuid", json_body=body, token=admin)
    assert (invalid.status, invalid.json) == (400, {"error": "Invalid id"})
    missing = api.request(method, f"{TEMPLATES}/{UNKNOWN_ID}", json_body=body, token=admin)
    assert (missing.status, missing.json) == (404, {"error": "Template not found"})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"event_type": "auth.locked"}, "JSON array of templates required"),
        ([], "JSON array of templates required"),
        (["auth.locked"], "JSON array of templates required"),
        (
            [{"event_type": "auth.locked", "subject": "fine"}, {"event_type": "invoice.paid", "text_body": "{% if %}"}],
            "Invalid template: text_body: ",
        ),
        ([{"event_type": "auth.locked"}, {"event_type": "nope"}], "Unknown event type: nope"),
    ],
)
def test_an_import_with_one_bad_item_writes_nothing(api: Api, admin: str, body: Any, message: str) -> None:
    answer = api.post(f"{TEMPLATES}/import", body, token=admin)
    assert answer.status == 400 and answer.json["error"].startswith(message), answer.json
    assert api.get(TEMPLATES, token=admin).json == []


def test_import_takes_only_json(api: Api, admin: str) -> None:
    wrong_type = api.request(
        "POST", f"{TEMPLATES}/import", body="[]", token=admin, headers={"Content-Type": "text/plain"}
    )
    assert (wrong_type.status, wrong_type.json) == (415, {"error": "Unsupported media type"})
    broken = api.request(
        "POST", f"{TEMPLATES}/import", body="[{", token=admin, headers={"Content-Type": "application/json"}
    )
    assert (broken.status, broken.json) == (400, {"error": "Invalid JSON body"})
    empty = api.request("POST", f"{TEMPLATES}/import", token=admin)
    assert (empty.status, empty.json) == (400, {"error": "JSON array of templates required"})


def test_preview_renders_the_default_with_the_declared_examples_and_the_context_over_them(api: Api, admin: str) -> None:
    answer = api.post(f"{TEMPLATES}/preview", {"event_type": "invoice.paid"}, token=admin)
    assert answer.status == 200
    assert answer.json["subject"] == "Receipt for invoice INV-2026-000042"
    assert "Hello Ada Lovelace," in answer.json["text_body"] and answer.json["html_body"] == ""

    context = {"user_name": "Grace", "invoice_number": "INV-1", "not_declared": "secret"}
    given = api.post(
        f"{TEMPLATES}/preview",
        {
            "event_type": "invoice.paid",
            "context": context,
            "html_body": "<i>{{ user_name }}</i> {{ not_declared }} {{ amount }}",
        },
        token=admin,
    )
    assert given.status == 200
    assert given.json["subject"] == "Receipt for invoice INV-1"
    assert given.json["html_body"] == "<i>Grace</i>  29.99"
    assert "Hello Grace," in given.json["text_body"]


def test_preview_escapes_html_and_gets_nothing_out_of_an_injection(api: Api, admin: str) -> None:
    escaped = api.post(
        f"{TEMPLATES}/preview",
        {"event_type": "user.registered", "context": {"email": "<script>x</script>"}, "html_body": "{{ email }}"},
        token=admin,
    )
    assert escaped.json["html_body"] == "&lt;script&gt;x&lt;/script&gt;"
    for source in ("{{ ''.__class__.__mro__ }}", "{{ cycler.__init__.__globals__ }}", "{% import 'os' as os %}"):
        refused = api.post(f"{TEMPLATES}/preview", {"event_type": "user.registered", "text_body": source}, token=admin)
        assert refused.status == 422 and refused.json["error"].startswith("Template error: "), refused.json
        assert "<class" not in refused.json["error"] and "globals" not in refused.json["error"].lower()


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "event_type required"),
        ({"event_type": "user.nope"}, 400, "Unknown event type: user.nope"),
        ({"event_type": "user.registered", "subject": "{{ 1 +"}, 422, "Template error: "),
        (
            {"event_type": "user.registered", "text_body": "{{ missing + 1 }}"},
            422,
            "Template error: 'missing' is undefined",
        ),
        ({"event_type": "user.registered", "text_body": "{{ 'x' * 10**9 }}"}, 422, "Template error: "),
    ],
)
def test_preview_refusals(api: Api, admin: str, body: dict[str, Any], status: int, message: str) -> None:
    answer = api.post(f"{TEMPLATES}/preview", body, token=admin)
    assert answer.status == status and answer.json["error"].startswith(message), answer.json


def test_a_test_send_goes_through_ses_and_shows_in_the_dev_notifications(api: Api, admin: str) -> None:
    answer = api.post(
        f"{BASE}/test-send", {"event_type": "user.registered", "to_address": "qa@example.com"}, token=admin
    )
    assert (answer.status, answer.json) == (200, {"message": "Test email sent to qa@example.com"})
    [mail] = mails_to("qa@example.com")
    assert mail["subject"] == "Welcome to VBWD" and "your account ada@example.com is ready" in mail["body"]
    [logged] = api.get("/api/v1/admin/dev/notifications?to=qa@example.com", token=admin).json["notifications"]
    assert (logged["subject"], logged["template"]) == ("Welcome to VBWD", "test:user.registered")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "event_type and to_address required"),
        ({"event_type": "user.registered"}, "event_type and to_address required"),
        ({"to_address": "qa@example.com"}, "event_type and to_address required"),
        ({"event_type": "user.registered", "to_address": "not-an-address"}, "Invalid email format"),
        ({"event_type": "user.nope", "to_address": "qa@example.com"}, "Unknown event type: user.nope"),
    ],
)
def test_test_send_refusals(api: Api, admin: str, body: dict[str, Any], message: str) -> None:
    answer = api.post(f"{BASE}/test-send", body, token=admin)
    assert (answer.status, answer.json) == (400, {"error": message})


def test_the_twenty_first_test_send_of_an_hour_is_refused(api: Api, manual_clock: Any) -> None:
    token = api.token("super@example.com", "SuperPass123@")
    body = {"event_type": "auth.locked", "to_address": "limit@example.com"}
    statuses = [api.post(f"{BASE}/test-send", body, token=token).status for _ in range(21)]
    assert statuses == [200] * 20 + [429]
    refused = api.post(f"{BASE}/test-send", body, token=token)
    assert refused.json == {"error": "Rate limit exceeded", "message": "20 per 1 hour"}
    assert int(refused.headers["retry-after"]) == 3600
    assert len(mails_to("limit@example.com")) == 20
    assert api.post(f"{BASE}/test-send", body, token=api.token(*ADMIN)).status == 200  # counted per admin
    manual_clock.advance(timedelta(hours=1))
    token = api.token("super@example.com", "SuperPass123@")
    assert api.post(f"{BASE}/test-send", body, token=token).status == 200


ROUTES = [
    ("GET", TEMPLATES, None, "email.templates.view"),
    ("POST", TEMPLATES, {"event_type": "auth.locked"}, "email.templates.manage"),
    ("POST", f"{TEMPLATES}/import", [{"event_type": "auth.locked"}], "email.templates.manage"),
    ("POST", f"{TEMPLATES}/preview", {"event_type": "auth.locked"}, "email.templates.view"),
    ("GET", f"{TEMPLATES}/{UNKNOWN_ID}", None, "email.templates.view"),
    ("PUT", f"{TEMPLATES}/{UNKNOWN_ID}", {"subject": "x"}, "email.templates.manage"),
    ("DELETE", f"{TEMPLATES}/{UNKNOWN_ID}", None, "email.templates.manage"),
    ("GET", f"{BASE}/event-types", None, "email.templates.view"),
    (
        "POST",
        f"{BASE}/test-send",
        {"event_type": "auth.locked", "to_address": "qa@example.com"},
        "email.templates.manage",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "permission"), ROUTES)
def test_the_observer_and_users_are_refused(api: Api, method: str, path: str, body: Any, permission: str) -> None:
    observer = api.request(method, path, json_body=body, token=api.token(*OBSERVER))
    assert (observer.status, observer.json) == (403, {"error": "Permission denied", "required": permission})
    user = api.request(method, path, json_body=body, token=api.token(*USER))
    assert (user.status, user.json) == (403, {"error": "Admin access required"})
    anonymous = api.request(method, path, json_body=body)
    assert anonymous.status == 401


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (TEMPLATES, {"event_type": 5}, "event_type: Not a valid string."),
        (TEMPLATES, {"event_type": "auth.locked", "subject": ["x"]}, "subject: Not a valid string."),
        (TEMPLATES, {"event_type": "auth.locked", "is_active": "maybe"}, "is_active: Not a valid boolean."),
        (f"{TEMPLATES}/preview", {"event_type": "auth.locked", "context": "text"}, "context: Not a valid mapping."),
        (f"{TEMPLATES}/import", [{"event_type": "auth.locked", "text_body": 7}], "text_body: Not a valid string."),
        (f"{TEMPLATES}/import", [{"event_type": ["auth.locked"]}], "event_type: Not a valid string."),
        (f"{BASE}/test-send", {"event_type": "auth.locked", "to_address": 5}, "to_address: Not a valid string."),
        (
            f"{BASE}/test-send",
            {"event_type": "auth.locked", "to_address": "a@b.co" + "m" * 300},
            "Invalid email format",
        ),
    ],
)
def test_wrong_types_are_refused_field_by_field(api: Api, admin: str, path: str, body: Any, message: str) -> None:
    answer = api.post(path, body, token=admin)
    assert (answer.status, answer.json["error"]) == (400, message)


def test_a_structured_context_value_previews_as_json(api: Api, admin: str) -> None:
    body = {"event_type": "auth.locked", "context": {"until": {"deep": [1, None]}}, "text_body": "{{ until }}"}
    answer = api.post(f"{TEMPLATES}/preview", body, token=admin)
    assert (answer.status, answer.json["text_body"]) == (200, '{"deep":[1,null]}')
