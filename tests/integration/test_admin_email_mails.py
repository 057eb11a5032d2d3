"""Stored e-mail templates (admin.md §20) on a world of their own each: create, read, update, delete and import, and
every mail the system sends rendered from them — the stored active template of its event type, else the built-in
default."""

from __future__ import annotations

from email import message_from_string, policy

from moto.backends import get_backend

from chalicelib.activity.models import ActivityItem
from chalicelib.notifications.models import NotificationItem
from tests.contract import PLUGIN_NOT_ENABLED
from tests.integration.buyers import buy_basic_and_tokens, paid, register_buyer, set_plugin
from tests.integration.conftest import ADMIN, Api, at_once, drain_events
from tests.integration.test_admin_email_templates import BASE, ROUTES, TEMPLATES, create, delete, mails_to, register

WELCOME = {
    "event_type": "user.registered",
    "subject": "Hi {{ email }}",
    "html_body": "<p>Welcome, <b>{{ email }}</b> {{ user_name }}</p>",
    "text_body": "Welcome aboard, {{ email }} ({{ source }}).{{ undeclared }}",
}


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


def test_a_second_template_of_an_event_type_is_refused(fresh_api: Api) -> None:
    token = fresh_api.token(*ADMIN)
    create(fresh_api, token, {"event_type": "user.password_changed"})
    again = fresh_api.post(TEMPLATES, {"event_type": "user.password_changed"}, token=token)
    assert (again.status, again.json) == (400, {"error": "Template already exists for user.password_changed"})


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
    [entry] = [e for e in ActivityItem.gsi1.query("SOURCE#admin") if e.type == "admin.import_email_templates"]
    assert entry.data["fields"] == []  # an array body names no fields


def test_concurrent_creates_of_one_event_type_store_one_template(fresh_api: Api, atomic_dynamodb: None) -> None:
    token = fresh_api.token(*ADMIN)
    body = {"event_type": "invoice.created", "subject": "Invoice {{ invoice_number }}"}
    answers = at_once(6, lambda _: fresh_api.post(TEMPLATES, body, token=token))
    assert sorted(a.status for a in answers) == [201] + [400] * 5
    assert {a.json["error"] for a in answers if a.status == 400} == {"Template already exists for invoice.created"}
    assert len(fresh_api.get(TEMPLATES, token=token).json) == 1


def test_the_routes_belong_to_the_email_plugin(fresh_api: Api) -> None:
    token = fresh_api.token(*ADMIN)
    set_plugin("email", False)
    for method, path, body, _ in ROUTES:
        answer = fresh_api.request(method, path, json_body=body, token=token)
        assert (answer.status, answer.json) == (404, PLUGIN_NOT_ENABLED), (method, path)


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


def test_a_stored_receipt_template_keeps_the_pdf_and_adds_its_html_part(fresh_api: Api) -> None:
    token = fresh_api.token(*ADMIN)
    receipt = {
        "event_type": "invoice.paid",
        "subject": "Paid: {{ invoice_number }}",
        "html_body": "<p>{{ amount }} {{ currency }} from <b>{{ user_email }}</b></p>",
        "text_body": "Thank you, {{ user_email }}: {{ amount }} {{ currency }}.",
    }
    create(fresh_api, token, receipt)
    buyer = register_buyer(fresh_api, "templated")
    bought = buy_basic_and_tokens(fresh_api, buyer.token, payment_method_code="sandbox")
    invoice = paid(fresh_api, buyer.token, bought["invoice"]["id"])["invoice"]
    drain_events()

    [mail] = [m for m in mails_to(buyer.email) if m["subject"].startswith("Paid: ")]
    assert mail["subject"] == f"Paid: {invoice['invoice_number']}"
    assert mail["body"] == f"Thank you, {buyer.email}: {invoice['total_amount']} {invoice['currency']}.\n"
    assert list(mail["attachments"]) == [f"invoice-{invoice['invoice_number']}.pdf"]
    [raw] = [
        m
        for m in get_backend("ses")["123456789012"]["us-east-1"].sent_messages
        if hasattr(m, "raw_data") and buyer.email in m.destinations
    ]
    html = message_from_string(raw.raw_data, policy=policy.default).get_body(preferencelist=("html",))
    assert html is not None
    assert (
        html.get_content().strip()
        == f"<p>{invoice['total_amount']} {invoice['currency']} from <b>{buyer.email}</b></p>"
    )
