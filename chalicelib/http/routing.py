"""The one way a route is declared.

`@route(bp, "/auth/login", "POST", access=PUBLIC, limit=LimitScope.AUTH, body=LoginBody)` registers a Chalice route
whose wrapper does everything a contract route shares — rate limit, plugin gate, body size and media type,
authentication, JSON parsing, id validation, validating the body and the query string into their pydantic models,
the Idempotency-Key, and turning domain errors into `{"error": …}` — so the view itself is a line or two: call one
service function with typed input, return its result. The wrapper renders the result: `render(result)` when the
route gives one (a result whose status depends on what happened), else the result as the JSON body with `status`.

The same declaration (`ROUTES`) is what the OpenAPI document is generated from.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Chalice, Response
from pydantic import BaseModel

from chalicelib.core import context
from chalicelib.core.config import get_settings
from chalicelib.core.errors import BadRequest, Conflict, DomainError, NotFound, ServiceUnavailable
from chalicelib.core.ids import is_uuid
from chalicelib.core.lazy import resolve
from chalicelib.core.logging import logger
from chalicelib.core.validation import parse_body, parse_query
from chalicelib.http.access import PUBLIC, Access, resolve_principal
from chalicelib.http.ratelimit import LimitScope, enforce
from chalicelib.http.request import Req
from chalicelib.http.responses import domain_error_response, internal_error_response, json_response

if TYPE_CHECKING:
    from chalicelib.http.idempotency import IdempotencyScope

CONCURRENT_MODIFICATION = "Concurrent modification, please retry"
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ALL_CONTENT_TYPES = ["*/*"]  # media types are checked by Req.check_body, with the contract's messages


@dataclass(frozen=True)
class Binary:
    """A documented answer that is a file, not JSON (`responses={200: Binary("application/pdf", "…")}`)."""

    media_type: str
    description: str


@dataclass(frozen=True)
class Reply:
    """A JSON answer whose status (or headers) a view chose."""

    body: Any
    status: int = 200
    headers: Mapping[str, str] | None = None


Render = Callable[[Any], Reply]


@dataclass(frozen=True)
class RouteSpec:
    path: str
    methods: tuple[str, ...]
    access: Access
    plugin: str | None
    limit: LimitScope
    uuid_params: tuple[str, ...]
    idempotent: bool = False
    raw_body: bool = False
    # The models, as given: classes or `ModelRef`s (`chalicelib.core.lazy.model_refs`), so that declaring a route
    # does not build its pydantic models on a cold start; `body`, `query` and `responses` resolve them when asked.
    body_ref: Any = None
    query_ref: Any = None
    status: int = 200
    render: Render | None = None
    responses_ref: Mapping[int, Any] | None = None  # documented answers (OpenAPI): status → model or description
    summary: str = ""
    view_name: str = ""
    on_app: bool = False  # declared on the app itself (outside /api/v1)
    hidden: bool = False  # left out of the OpenAPI document (the docs page's own assets)
    stage: str | None = None  # the one stage the route exists in (404 `Not found` in every other)

    @functools.cached_property
    def body(self) -> type[BaseModel] | None:
        return resolve(self.body_ref)  # type: ignore[no-any-return]

    @functools.cached_property
    def query(self) -> type[BaseModel] | None:
        return resolve(self.query_ref)  # type: ignore[no-any-return]

    @functools.cached_property
    def responses(self) -> dict[int, Any] | None:
        if self.responses_ref is None:
            return None
        return {status: _resolved_answer(answer) for status, answer in self.responses_ref.items()}

    def reply(self, result: Any) -> Reply:
        if isinstance(result, Reply):
            return result
        if self.render is not None:
            return self.render(result)
        return Reply(result, self.status)

    def stored_answer(self, result: Any) -> tuple[int, Any]:
        """What an Idempotency-Key record keeps for `result` (the answer this route gives for it)."""
        reply = self.reply(result)
        return reply.status, reply.body


def _resolved_answer(answer: Any) -> Any:
    if isinstance(answer, tuple):
        return tuple(resolve(part) for part in answer)
    return resolve(answer)


View = Callable[..., Any]
ROUTES: list[RouteSpec] = []


def route(
    target: Blueprint | Chalice,
    path: str,
    methods: str | tuple[str, ...] = "GET",
    *,
    access: Access = PUBLIC,
    plugin: str | None = None,
    limit: LimitScope = LimitScope.DEFAULT,
    envelope: Mapping[str, Any] | None = None,
    uuid_params: tuple[str, ...] = (),
    idempotent: bool = False,
    raw_body: bool = False,
    body: Any = None,
    query: Any = None,
    status: int = 200,
    render: Render | None = None,
    responses: Mapping[int, Any] | None = None,
    hidden: bool = False,
    stage: str | None = None,
) -> Callable[[View], View]:
    """Declare a route. `idempotent` routes honour `Idempotency-Key` (contract README §1.10); `raw_body` routes
    read the bytes themselves (signed webhooks verify them before any parsing). `body` and `query` are the
    pydantic models the request is validated into before the view runs; the view receives them as the keyword
    arguments `body` and `query` — except a `raw_body` route's `body`, which is documented only: its view validates
    the bytes into it once it has verified them. A route with a `stage` exists only there: in any other stage it
    answers 404 `Not found` before anything else, as a path that does not exist does."""
    method_list = (methods,) if isinstance(methods, str) else tuple(methods)

    def decorate(view: View) -> View:
        spec = RouteSpec(
            path,
            method_list,
            access,
            plugin,
            limit,
            uuid_params,
            idempotent,
            raw_body,
            body,
            query,
            status,
            render,
            responses,
            summary=(view.__doc__ or "").strip(),
            view_name=f"{view.__module__}.{view.__name__}",
            on_app=isinstance(target, Chalice),
            hidden=hidden,
            stage=stage,
        )

        @functools.wraps(view)
        def endpoint(**params: str) -> Response:
            return _handle(view, spec, envelope, params)

        target.route(path, methods=list(method_list), content_types=ALL_CONTENT_TYPES)(endpoint)
        ROUTES.append(spec)
        return view

    return decorate


def _handle(view: View, spec: RouteSpec, envelope: Mapping[str, Any] | None, params: dict[str, str]) -> Response:
    req = Req(context.current_request.get(), context.request_id.get(), params)
    envelope_dict = dict(envelope) if envelope else None
    limit_headers: dict[str, str] = {}
    scope: IdempotencyScope | None = None
    try:
        if spec.stage is not None and get_settings().stage != spec.stage:
            raise NotFound("Not found")
        limit_headers = enforce(spec.limit, req.client_ip)
        if spec.plugin is not None:
            from chalicelib.plugins.registry import is_enabled

            if not is_enabled(spec.plugin):
                raise NotFound("Plugin not enabled")
        req.check_body(get_settings().max_body_bytes, parse=not spec.raw_body)
        req.principal = resolve_principal(req, spec.access)
        if req.principal is not None and req.principal.impersonator_id is not None:
            from chalicelib.activity.audit import impersonated_request

            impersonated_request(req.principal, req.method, req.path)
        for name in spec.uuid_params:
            if not is_uuid(params.get(name)):
                raise BadRequest("Invalid id")
            params[name] = params[name].lower()
        began = None
        if spec.idempotent and req.principal is not None:
            from chalicelib.http.idempotency import begin

            began = begin(req, req.principal.user_id, spec.stored_answer)
        if isinstance(began, Response):
            response = began
        else:
            scope = began
            req.idempotency = scope
            # After the key is claimed: a refused body is an answer like any other 4xx, stored and replayed.
            inputs: dict[str, Any] = {}
            if spec.body is not None and not spec.raw_body:
                inputs["body"] = parse_body(spec.body, req.json)
            if spec.query is not None:
                inputs["query"] = parse_query(spec.query, req.query_dict())
            response = _to_response(spec, view(req, **params, **inputs))
            if spec.access.level == "admin" and req.method != "GET" and response.status_code < 300:
                _audit(req, spec, params)
    except DomainError as error:
        response = domain_error_response(error, envelope_dict)
    except Exception as exc:
        if _lost_race(exc):
            # A write refused because state it read changed, which the service did not retry: the client may.
            logger.warning("lost race reached the edge", error=str(exc))
            response = domain_error_response(Conflict(CONCURRENT_MODIFICATION), envelope_dict)
        elif _is_unreachable(exc):
            logger.exception("dependency unreachable")
            unavailable = ServiceUnavailable("Service unavailable", request_id=req.request_id)
            response = domain_error_response(unavailable, envelope_dict)
        else:
            logger.exception("unhandled error")
            response = internal_error_response(req.request_id, envelope_dict)
    if scope is not None:
        from chalicelib.http.idempotency import finish

        finish(scope, response)
    for name, value in limit_headers.items():
        response.headers.setdefault(name, value)
    return response


def _audit(req: Req, spec: RouteSpec, params: dict[str, str]) -> None:
    """Every admin write that succeeded is in the audit log (admin.md intro): who, which route, the ids in its path
    and the names of the fields it sent — never their values, so no password or secret reaches the log. A replayed
    Idempotency-Key answer did nothing and is not logged again. The entry is written after the change; losing it
    to an outage must not turn a committed change into an error, so a failed write is logged and swallowed."""
    from chalicelib.activity.audit import admin_request

    try:
        from chalicelib.core.jsontext import parse_json

        body = parse_json(req.body_bytes) if req.body_bytes else None  # an array body (an import) names no fields
        fields = sorted(body) if isinstance(body, dict) else []
        admin_request(req.user, req.method, req.path, spec.view_name.rsplit(".", 1)[-1], dict(params), fields)
    except Exception:
        logger.exception("audit entry not written")


def _to_response(spec: RouteSpec, result: Any) -> Response:
    if isinstance(result, Response):
        return result
    reply = spec.reply(result)
    return json_response(reply.body, reply.status, dict(reply.headers or {}))


def _lost_race(exc: BaseException) -> bool:
    """A refused transaction or conditional write (checked without importing the store on a cold start)."""
    transactions = sys.modules.get("chalicelib.store.transactions")
    if transactions is not None and isinstance(exc, transactions.TransactionCancelled):
        return True
    errors = sys.modules.get("chalicelib.store.errors")
    return errors is not None and errors.is_condition_failure(exc)


def _is_unreachable(exc: BaseException) -> bool:
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

    unreachable = (BotoConnectionError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError)
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, unreachable):
            return True
        seen = seen.__cause__ or getattr(seen, "cause", None)
    return False
