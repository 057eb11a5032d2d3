"""E-mail template admin (contract admin.md §20, plugin `email`): bare JSON answers, as VBWD gives them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.core.jsontext import parse_json
from chalicelib.core.lazy import lazy_module, model_refs
from chalicelib.http.access import admin
from chalicelib.http.request import Req
from chalicelib.http.routing import route

if TYPE_CHECKING:
    from chalicelib.email_templates.schemas import CreateTemplateBody, PreviewBody, TemplateFields, TestSendBody

bp = Blueprint(__name__)
schemas = model_refs("chalicelib.email_templates.schemas")
service = lazy_module("chalicelib.email_templates.service")
VIEW = admin("email.templates.view")
MANAGE = admin("email.templates.manage")
PLUGIN = "email"
TEMPLATE_ID = ("template_id",)


@route(bp, "/admin/email/templates", "GET", access=VIEW, plugin=PLUGIN, responses={200: schemas.Templates})
def list_email_templates(req: Req) -> Any:
    """The stored templates, by event type (event types without one are sent from their built-in default)."""
    return service.list_templates()


@route(
    bp,
    "/admin/email/templates",
    "POST",
    access=MANAGE,
    plugin=PLUGIN,
    body=schemas.CreateTemplateBody,
    status=201,
    responses={201: schemas.Template},
)
def create_email_template(req: Req, body: CreateTemplateBody) -> Any:
    """Store the template of an event type; it is sent instead of the built-in default while active."""
    return service.create_template(body)


@route(
    bp,
    "/admin/email/templates/import",
    "POST",
    access=MANAGE,
    plugin=PLUGIN,
    raw_body=True,  # the body is an array: read by the view, `body` only documents it
    body=schemas.ImportBody,
    responses={200: schemas.ImportAnswer},
)
def import_email_templates(req: Req) -> Any:
    """Create or update templates by event type from a JSON array, all or nothing."""
    req.require_json_media_type()
    return service.import_templates(parse_json(req.body_bytes) if req.body_bytes else None)


@route(
    bp,
    "/admin/email/templates/preview",
    "POST",
    access=VIEW,
    plugin=PLUGIN,
    body=schemas.PreviewBody,
    responses={200: schemas.Preview, 422: "Template error: the template failed to render"},
)
def preview_email_template(req: Req, body: PreviewBody) -> Any:
    """Render an event type's template — or the unsaved parts given — with `context` over the declared examples."""
    return service.preview(body)


@route(
    bp,
    "/admin/email/templates/{template_id}",
    "GET",
    access=VIEW,
    plugin=PLUGIN,
    uuid_params=TEMPLATE_ID,
    responses={200: schemas.Template},
)
def get_email_template(req: Req, template_id: str) -> Any:
    """One stored template."""
    return service.get_template(template_id)


@route(
    bp,
    "/admin/email/templates/{template_id}",
    "PUT",
    access=MANAGE,
    plugin=PLUGIN,
    uuid_params=TEMPLATE_ID,
    body=schemas.TemplateFields,
    responses={200: schemas.Template},
)
def update_email_template(req: Req, template_id: str, body: TemplateFields) -> Any:
    """Change a stored template's subject, bodies or whether it is active (only the fields sent)."""
    return service.update_template(template_id, body)


@route(
    bp,
    "/admin/email/templates/{template_id}",
    "DELETE",
    access=MANAGE,
    plugin=PLUGIN,
    uuid_params=TEMPLATE_ID,
    responses={200: schemas.Deleted},
)
def delete_email_template(req: Req, template_id: str) -> Any:
    """Delete a stored template: its event type is sent from the built-in default again."""
    return service.delete_template(template_id)


@route(bp, "/admin/email/event-types", "GET", access=VIEW, plugin=PLUGIN, responses={200: schemas.EventTypes})
def list_email_event_types(req: Req) -> Any:
    """The event types the system mails for, with the variables their templates may use and an example of each."""
    return service.event_types()


@route(
    bp,
    "/admin/email/test-send",
    "POST",
    access=MANAGE,
    plugin=PLUGIN,
    body=schemas.TestSendBody,
    responses={200: schemas.Message},
)
def test_send_email(req: Req, body: TestSendBody) -> Any:
    """Send an event type's mail, filled with the declared examples, to an address (at most 20 per hour)."""
    return service.test_send(req.user.user_id, body)
