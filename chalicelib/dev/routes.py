"""The local stage's development routes (contract admin.md §19; `settings.system`). Each is declared
`stage="local"`: in every other stage it answers 404 `Not found` before anything else, as a path that does not
exist does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.core.lazy import lazy_module, model_refs
from chalicelib.core.validation import NoBody
from chalicelib.http.access import admin
from chalicelib.http.pagination import encode_cursor, page_or_default
from chalicelib.http.request import Req
from chalicelib.http.routing import route

if TYPE_CHECKING:
    from chalicelib.dev.schemas import ClockBody, NotificationsQuery

bp = Blueprint(__name__)
schemas = model_refs("chalicelib.dev.schemas")
service = lazy_module("chalicelib.dev.service")
SYSTEM = admin("settings.system")
LOCAL = "local"
DEFAULT_PAGE = 50


@route(bp, "/admin/dev/clock", "GET", access=SYSTEM, stage=LOCAL, responses={200: schemas.ClockAnswer})
def read_clock(req: Req) -> Any:
    """The system's now (every process of the local stack shares it) and its offset from the machine's time."""
    return service.read_clock().answer()


@route(
    bp,
    "/admin/dev/clock",
    "POST",
    access=SYSTEM,
    stage=LOCAL,
    body=schemas.ClockBody,
    responses={200: schemas.ClockAnswer},
)
def move_clock(req: Req, body: ClockBody) -> Any:
    """Advance, set or reset the clock of the API, the worker, the scheduler and token expiry at once."""
    return service.move_clock(body).answer()


@route(
    bp,
    "/admin/dev/jobs/{job}/run",
    "POST",
    access=SYSTEM,
    stage=LOCAL,
    body=NoBody,
    responses={200: schemas.JobRunAnswer},
)
def run_job(req: Req, job: str, body: NoBody) -> Any:
    """Run a scheduled job now (or `all` of them) and deliver the events and tasks it set going before answering."""
    return service.run_job(job)


@route(
    bp,
    "/admin/dev/notifications",
    "GET",
    access=SYSTEM,
    stage=LOCAL,
    query=schemas.NotificationsQuery,
    responses={200: schemas.NotificationsAnswer},
)
def notifications(req: Req, query: NotificationsQuery) -> Any:
    """The e-mails and SMS the system sent, newest first (the notification log)."""
    paging = page_or_default(req, DEFAULT_PAGE)
    items, next_key = service.notifications(paging.request, query.to, query.channel)
    cursor = encode_cursor(req, paging.offset + len(items), next_key) if next_key is not None else None
    return {"notifications": items, "next_cursor": cursor}


@route(bp, "/admin/dev/reseed", "POST", access=SYSTEM, stage=LOCAL, body=NoBody, responses={200: schemas.ReseedAnswer})
def reseed(req: Req, body: NoBody) -> Any:
    """Replace all data by the seed data."""
    return service.reseed()
