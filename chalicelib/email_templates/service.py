"""The e-mail templates (contract admin.md §20): the admin's stored templates, and which one a mail is rendered from.

Every mail of an event type is rendered from its stored template while that exists and is active, otherwise from
the built-in default of `chalicelib.email_templates.event_types` — both in the same sandbox, with the same declared
variables (`compose`, called by the `mail` consumer). A stored template that fails to render does not cost the
customer the mail: the failure is logged and the default is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chalicelib.core import clock
from chalicelib.core.errors import BadRequest, NotFound, Unprocessable
from chalicelib.core.logging import logger
from chalicelib.core.times import iso
from chalicelib.email_templates import repository
from chalicelib.email_templates.event_types import EVENT_TYPES, EventType
from chalicelib.email_templates.models import EDITABLE, EmailTemplateItem
from chalicelib.email_templates.sandbox import Parts, Rendered, TemplateFailed, TemplateInvalid, check, render

if TYPE_CHECKING:
    from chalicelib.email_templates.schemas import CreateTemplateBody, PreviewBody, TemplateFields, TestSendBody

TEMPLATE_NOT_FOUND = "Template not found"
IMPORT_REQUIRED = "JSON array of templates required"
TEST_SENDS_PER_HOUR = 20
TEST_SEND_ACTION = "email-test-send"
SOURCE_FIELDS = ("subject", "html_body", "text_body")


# --- the mails the system sends --------------------------------------------------------------------------------


def compose(event_type: str, data: Mapping[str, Any]) -> Rendered:
    """The mail of an event: its stored active template, else the built-in default, rendered with the event's data."""
    declared = EVENT_TYPES[event_type]
    stored = repository.for_event(event_type)
    if stored is not None and stored.is_active:
        try:
            return render(_parts(stored), data, declared.names)
        except (TemplateInvalid, TemplateFailed) as failure:
            logger.warning(
                "stored e-mail template failed; the default is sent", event_type=event_type, error=str(failure)
            )
    return render(declared.default, data, declared.names)


# --- admin.md §20 ----------------------------------------------------------------------------------------------


def list_templates() -> list[dict[str, Any]]:
    return [_answer(item) for item in repository.all_templates()]


def get_template(template_id: str) -> dict[str, Any]:
    return _answer(_found(template_id))


def create_template(body: CreateTemplateBody) -> dict[str, Any]:
    declared = _declared(body.event_type)
    fields = _checked(body)
    item = repository.new_template(declared.event_type, fields, clock.now())
    try:
        repository.create(item)
    except repository.TemplateExists as exists:
        raise BadRequest(f"Template already exists for {declared.event_type}") from exists
    return _answer(item)


def update_template(template_id: str, body: TemplateFields) -> dict[str, Any]:
    item = _found(template_id)
    updated = repository.update(item, _checked(body), clock.now())
    if updated is None:
        raise NotFound(TEMPLATE_NOT_FOUND)
    return _answer(updated)


def delete_template(template_id: str) -> dict[str, bool]:
    if not repository.delete(_found(template_id)):
        raise NotFound(TEMPLATE_NOT_FOUND)
    return {"deleted": True}


def import_templates(items: Any) -> dict[str, int]:
    """Upsert by event type, all or nothing: every item is checked before anything is written. Items without an
    `event_type` are skipped; an event type named twice takes the fields of both, the later winning."""
    from chalicelib.core.validation import parse_body
    from chalicelib.email_templates.schemas import CreateTemplateBody

    if not isinstance(items, list) or not items:
        raise BadRequest(IMPORT_REQUIRED)
    wanted: dict[str, dict[str, Any]] = {}
    for raw in items:
        if not isinstance(raw, dict):
            raise BadRequest(IMPORT_REQUIRED)
        body = parse_body(CreateTemplateBody, raw)
        if not body.event_type:
            continue
        declared = _declared(body.event_type)
        wanted.setdefault(declared.event_type, {}).update(_checked(body))
    stored = {item.event_type: item for item in repository.all_templates()}
    now = clock.now()
    created = [repository.new_template(name, fields, now) for name, fields in wanted.items() if name not in stored]
    updated = [(stored[name], fields) for name, fields in wanted.items() if name in stored]
    if created or updated:
        repository.upsert_all(created, updated, now)
    return {"created": len(created), "updated": len(updated)}


def preview(body: PreviewBody) -> dict[str, str]:
    declared = _declared(body.event_type)
    base = _effective_parts(declared, active_only=False)
    given = {name: getattr(body, name) for name in SOURCE_FIELDS if getattr(body, name) is not None}
    parts = Parts(**{name: given.get(name, getattr(base, name)) for name in SOURCE_FIELDS})
    rendered = _render_or_422(parts, {**declared.examples(), **(body.context or {})}, declared)
    return {"subject": rendered.subject, "html_body": rendered.html_body, "text_body": rendered.text_body}


def event_types() -> list[dict[str, Any]]:
    return [
        {
            "event_type": declared.event_type,
            "description": declared.description,
            "variables": {
                name: {"description": description, "example": example}
                for name, (description, example) in declared.variables.items()
            },
        }
        for declared in sorted(EVENT_TYPES.values(), key=lambda e: e.event_type)
    ]


def test_send(admin_id: str, body: TestSendBody) -> dict[str, str]:
    """Send the mail an event type would send (stored active template or default), filled with the declared
    examples, to any address — at most TEST_SENDS_PER_HOUR per admin and hour."""
    from chalicelib.auth.schemas import EMAIL_PATTERN
    from chalicelib.notifications.mail import send_email
    from chalicelib.store.ratelimits import spend_hourly_allowance

    if not body.event_type or not body.to_address:
        raise BadRequest("event_type and to_address required")
    to_address = body.to_address.strip()
    if not EMAIL_PATTERN.match(to_address) or len(to_address) > 255:
        raise BadRequest("Invalid email format")
    declared = _declared(body.event_type)
    spend_hourly_allowance(TEST_SEND_ACTION, admin_id, TEST_SENDS_PER_HOUR, clock.now())
    rendered = _render_or_422(_effective_parts(declared, active_only=True), declared.examples(), declared)
    send_email(
        to_address,
        rendered.subject,
        rendered.text_body,
        f"test:{declared.event_type}",
        html_body=rendered.html_body or None,
    )
    return {"message": f"Test email sent to {to_address}"}


# --- helpers ---------------------------------------------------------------------------------------------------


def _declared(event_type: str | None) -> EventType:
    if not event_type:
        raise BadRequest("event_type required")
    declared = EVENT_TYPES.get(event_type)
    if declared is None:
        raise BadRequest(f"Unknown event type: {event_type}")
    return declared


def _checked(body: TemplateFields) -> dict[str, Any]:
    """The fields a body gives, its templates checked: 400 `Invalid template: <field>: <reason>`."""
    fields = body.given()
    for name in SOURCE_FIELDS:
        if name in fields:
            try:
                check(fields[name])
            except TemplateInvalid as invalid:
                raise BadRequest(f"Invalid template: {name}: {invalid}") from invalid
    return {name: fields[name] for name in EDITABLE if name in fields}


def _found(template_id: str) -> EmailTemplateItem:
    item = repository.find(template_id)
    if item is None:
        raise NotFound(TEMPLATE_NOT_FOUND)
    return item


def _effective_parts(declared: EventType, *, active_only: bool) -> Parts:
    stored = repository.for_event(declared.event_type)
    if stored is not None and (stored.is_active or not active_only):
        return _parts(stored)
    return declared.default


def _render_or_422(parts: Parts, values: Mapping[str, Any], declared: EventType) -> Rendered:
    try:
        return render(parts, values, declared.names)
    except (TemplateInvalid, TemplateFailed) as failure:
        raise Unprocessable(f"Template error: {failure}") from failure


def _parts(item: EmailTemplateItem) -> Parts:
    return Parts(subject=item.subject or "", html_body=item.html_body or "", text_body=item.text_body or "")


def _answer(item: EmailTemplateItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "event_type": item.event_type,
        "subject": item.subject or "",
        "html_body": item.html_body or "",
        "text_body": item.text_body or "",
        "is_active": bool(item.is_active),
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
    }
