"""Request and answer models of the e-mail template admin (contract admin.md §20).

Which event types exist and whether a body's templates parse are the service's to decide, after the checks the
contract orders first (`event_type required` before `Unknown event type`).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, RootModel

from chalicelib.core.validation import Answer, Body, Instant, Uuid


class TemplateFields(Body):
    """The editable fields of a template: `PUT /admin/email/templates/<id>`, and the rest of a create or import."""

    subject: str | None = Field(default=None, description="Sandboxed template of the subject line")
    html_body: str | None = Field(default=None, description="Sandboxed template of the HTML part (autoescaped)")
    text_body: str | None = Field(default=None, description="Sandboxed template of the plain-text part")
    is_active: bool | None = Field(default=None, description="Whether it is sent instead of the built-in default")

    def given(self) -> dict[str, Any]:
        """The fields the body sent (null counts as not sent)."""
        return {
            name: value
            for name, value in self.model_dump(include=set(TemplateFields.model_fields)).items()
            if value is not None
        }


class CreateTemplateBody(TemplateFields):
    """`POST /admin/email/templates` and each item of an import"""

    event_type: str | None = Field(default=None, description="One of `GET /admin/email/event-types`")


class ImportBody(RootModel[list[CreateTemplateBody]]):
    """`POST /admin/email/templates/import`: a JSON array of templates (documented here; the service checks it item by
    item, so that one bad item refuses the whole import with the contract's message)"""


class PreviewBody(Body):
    """`POST /admin/email/templates/preview`: the stored (or built-in) template, or the unsaved parts given"""

    event_type: str | None = None
    context: dict[str, Any] | None = Field(default=None, description="Values over the declared examples")
    subject: str | None = None
    html_body: str | None = None
    text_body: str | None = None


class TestSendBody(Body):
    """`POST /admin/email/test-send`"""

    event_type: str | None = None
    to_address: str | None = None


# --- answers ---------------------------------------------------------------------------------------------------


class Template(Answer):
    """A stored e-mail template"""

    id: Uuid
    event_type: str
    subject: str
    html_body: str
    text_body: str
    is_active: bool
    created_at: Instant
    updated_at: Instant


class Templates(RootModel[list[Template]]):
    """The stored templates, by event type"""


class Variable(Answer):
    description: str
    example: str


class EventType(Answer):
    """An event type the system mails for, with the variables its templates may use"""

    event_type: str
    description: str
    variables: dict[str, Variable]


class EventTypes(RootModel[list[EventType]]):
    """Every event type the system mails for"""


class ImportAnswer(Answer):
    """How many templates an import created and updated"""

    created: int
    updated: int


class Preview(Answer):
    """A template rendered with the declared examples and the given context"""

    subject: str
    html_body: str
    text_body: str


class Deleted(Answer):
    """The template is gone; the built-in default applies again"""

    deleted: bool


class Message(Answer):
    """What was done"""

    message: str
