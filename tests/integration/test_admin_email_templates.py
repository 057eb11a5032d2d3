"""E-mail templates (admin.md §20): the admin routes with every status and message, and every mail the system sends
rendered from them — the stored active template of its event type, else the built-in default."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.activity.models import ActivityItem
from chalicelib.notifications.models import NotificationItem
from tests.integration.conftest import ADMIN, USER, Answer, Api, drain_events, sent_mail

BASE = "/api/v1/admin/email"
TEMPLATES = f"{BASE}/templates"
OBSERVER = ("observer@example.com", "ObserverPass123@")
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
WELCOME = {
    "event_type": "user.registered",
    "subject": "Hi {{ email }}",
    "html_body": "<p>Welcome, <b>{{ email }}</b> {{ user_name }}</p>",
    "text_body": "Welcome aboard, {{ email }} ({{ source }}).{{ undeclared }}",
}


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


# --- the routes ------------------------------------------------------------------------------------------------


def test_event_types_declare_their_variables_with_examples(api: Api, admin: str) -> None:
    answer = api.get(f"{BASE}/event-types", token=admin)
    assert answer.status == 200
    names = [e["event_type"] for e in answer.json]
    assert names == sorted(names) and {"user.registered", "invoice.paid", "subscription.expired"} <= set(names)
    [welcome] = [e for e in answer.json if e["event_type"] == "user.registered"]
    assert set(welcome["variables"]) == {"user_id", "email", "source"}
    assert all(v["description"] and v["example"] for e in answer.json for v in e["variables"].values())


def test_a_template_is_created_read_listed_updated_and_deleted(fresh_api: Api) -> None:
    api = fresh_api
    token = api.token(*ADMIN)
    assert api.get(TEMPLATES, token=token).json == []

    made = create(api, token, {"event_type": "auth.locked", "subject": "Locked until {{ until }}"})
    assert made["event_type"] == "auth.locked" and made["subject"] == "Locked until {{ until }}"
    assert (made["html_body"], made["text_body"], made["is_active"]) == ("", "", True)
    assert made["created_at"] == made["updated_at"] and made["created_at"].endswith("Z")
    second = create(api, token, {"event_type": "auth.refresh_reuse_detected", "is_active": False})

    listed = api.get(TEMPLATES, token=token).json
    assert [t["event_type"] for t in listed] == ["auth.locked", "auth.refresh_reuse_detected"]
    assert api.get(f"{TEMPLATES}/{made['id']}", token=token).json == made

    changed = api.put(f"{TEMPLATES}/{made['id']}", {"text_body": "Paused until {{ until }}.", "id": "x"}, token=token)
    assert changed.status == 200
    assert changed.json["subject"] == made["subject"] and changed.json["text_body"] == "Paused until {{ until }}."
    assert changed.json["id"] == made["id"] and changed.json["is_active"] is True
    assert api.put(f"{TEMPLATES}/{second['id']}", {"is_active": True}, token=token).json["is_active"] is True

    assert delete(api, f"{TEMPLATES}/{made['id']}", token).json == {"deleted": True}
    gone = api.get(f"{TEMPLATES}/{made['id']}", token=token)
    assert (gone.status, gone.json) == (404, {"error": "Template not found"})
    assert delete(api, f"{TEMPLATES}/{made['id']}", token).status == 404
    assert [t["id"] for t in api.get(TEMPLATES, token=token).json] == [second["id"]]

    audited = sorted(e.type for e in ActivityItem.gsi1.query("SOURCE#admin") if e.type.startswith("admin."))
    assert audited == [
        "admin.create_email_template",
        "admin.create_email_template",
        "admin.delete_email_template",
        "admin.update_email_template",
        "admin.update_email_template",
    ]


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


def test_a_second_template_of_an_event_type_is_refused(fresh_api: Api) -> None:
    token = fresh_api.token(*ADMIN)
    create(fresh_api, token, {"event_type": "user.password_changed"})
    again = fresh_api.post(TEMPLATES, {"event_type": "user.password_changed"}, token=token)
    assert (again.status, again.json) == (400, {"error": "Template already exists for user.password_changed"})


@pytest.mark.parametrize(("method", "body"), [("GET", None), ("PUT", {"subject": "x"}), ("DELETE", None)])
def test_a_template_id_must_be_a_uuid_and_exist(api: Api, admin: str, method: str, body: Any) -> None:
    invalid = api.request(method, f"{TEMPLATES}/not-a-uuid", json_body=body, token=admin)
    assert (invalid.status, invalid.json) == (400, {"error": "Invalid id"})
    missing = api.request(method, f"{TEMPLATES}/{UNKNOWN_ID}", json_body=body, token=admin)
    assert (missing.status, missing.json) == (404, {"error": "Template not found"})


def test_an_update_with_an_invalid_template_changes_nothing(fresh_api: Api) -> None:
    token = fresh_api.token(*ADMIN)
    made = create(fresh_api, token, {"event_type": "user.registered", "subject": "Hello"})
    refused = fresh_api.put(
        f"{TEMPLATES}/{made['id']}", {"subject": "Hi", "text_body": "{{ ''.__class__ }}"}, token=token
    )
    assert refused.status == 400 and refused.json["error"].startswith("Invalid template: text_body: attribute access")
    assert fresh_api.get(f"{TEMPLATES}/{made['id']}", token=token).json == made


def test_import_upserts_by_event_type_and_skips_items_without_one(fresh_api: Api) -> None:
    token = fresh_api.token(*ADMIN)
    existing = create(fresh_api, token, {"event_type": "auth.locked", "subject": "old", "text_body": "kept"})
    answer = fresh_api.post(
        f"{TEMPLATES}/import",
        [
            {"event_type": "auth.locked", "subject": "new {{ until }}"},
            {"event_type": "invoice.paid", "subject": "Paid {{ invoice_number }}", "is_active": False},
            {"subject": "no event type: skipped"},
        ],
        token=token,
    )
    assert (answer.status, answer.json) == (200, {"created": 1, "updated": 1})
    by_type = {t["event_type"]: t for t in fresh_api.get(TEMPLATES, token=token).json}
    assert set(by_type) == {"auth.locked", "invoice.paid"}
    assert by_type["auth.locked"]["id"] == existing["id"]
    assert (by_type["auth.locked"]["subject"], by_type["auth.locked"]["text_body"]) == ("new {{ until }}", "kept")
    assert by_type["invoice.paid"]["is_active"] is False


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
    assert api.get(TEMPLATES, token=admin).json == []  # (the tests on the module's `api` store no template)


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


# --- every mail comes from them --------------------------------------------------------------------------------


def test_a_stored_template_changes_the_welcome_mail_and_deleting_it_restores_the_default(fresh_api: Api) -> None:
    api = fresh_api
    token = api.token(*ADMIN)
    made = create(api, token, WELCOME)

    register(api, "grace@example.com")
    [mail] = mails_to("grace@example.com")
    assert mail["subject"] == "Hi grace@example.com"
    assert mail["body"] == "<p>Welcome, <b>grace@example.com</b> </p>"  # SES keeps the HTML part; user_name undeclared
    [logged] = [n for n in NotificationItem.scan() if n.to == "grace@example.com"]
    assert logged.body == "Welcome aboard, grace@example.com (self)." and logged.template == "welcome"

    assert api.put(f"{TEMPLATES}/{made['id']}", {"is_active": False}, token=token).status == 200
    register(api, "inactive@example.com")
    assert [m["subject"] for m in mails_to("inactive@example.com")] == ["Welcome to VBWD"]

    assert api.put(f"{TEMPLATES}/{made['id']}", {"is_active": True}, token=token).status == 200
    assert delete(api, f"{TEMPLATES}/{made['id']}", token).status == 200
    register(api, "ada@example.com")
    [restored] = mails_to("ada@example.com")
    assert restored["subject"] == "Welcome to VBWD"
    assert "your account ada@example.com is ready" in restored["body"]


def test_a_stored_template_that_fails_to_render_falls_back_to_the_default(fresh_api: Api) -> None:
    token = fresh_api.token(*ADMIN)
    create(fresh_api, token, {"event_type": "user.registered", "subject": "{{ email + 1 }}"})
    register(fresh_api, "fallback@example.com")
    assert [m["subject"] for m in mails_to("fallback@example.com")] == ["Welcome to VBWD"]


def test_the_test_send_uses_the_stored_active_template(fresh_api: Api) -> None:
    token = fresh_api.token(*ADMIN)
    create(fresh_api, token, {**WELCOME, "html_body": ""})
    body = {"event_type": "user.registered", "to_address": "stored@example.com"}
    assert fresh_api.post(f"{BASE}/test-send", body, token=token).status == 200
    [mail] = mails_to("stored@example.com")
    assert (mail["subject"], mail["body"]) == ("Hi ada@example.com", "Welcome aboard, ada@example.com (self).")
