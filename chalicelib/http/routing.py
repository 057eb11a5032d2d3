"""The one way a route is declared.

`@route(bp, "/auth/login", "POST", access=PUBLIC, limit=LimitScope.AUTH)` registers a Chalice route whose wrapper
does everything a contract route shares — rate limit, plugin gate, body size and media type, authentication,
JSON parsing, id validation, and turning domain errors into `{"error": …}` — so the view itself stays a few lines:
parse, call one service function, shape the answer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Chalice, Response

from chalicelib.core import context
from chalicelib.core.config import get_settings
from chalicelib.core.errors import BadRequest, DomainError, NotFound, ServiceUnavailable
from chalicelib.core.ids import is_uuid
from chalicelib.core.logging import logger
from chalicelib.http.access import PUBLIC, Access, resolve_principal
from chalicelib.http.ratelimit import LimitScope, enforce
from chalicelib.http.request import Req
from chalicelib.http.responses import domain_error_response, internal_error_response, json_response

if TYPE_CHECKING:
    from chalicelib.http.idempotency import IdempotencyScope

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ALL_CONTENT_TYPES = ["*/*"]  # media types are checked by Req.check_body, with the contract's messages


@dataclass(frozen=True)
class Reply:
    body: Any
    status: int = 200
    headers: Mapping[str, str] | None = None


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
) -> Callable[[View], View]:
    """Declare a route. `idempotent` routes honour `Idempotency-Key` (contract README §1.10); `raw_body` routes
    read the bytes themselves (signed webhooks verify them before any parsing)."""
    method_list = (methods,) if isinstance(methods, str) else tuple(methods)
    spec = RouteSpec(path, method_list, access, plugin, limit, uuid_params, idempotent, raw_body)

    def decorate(view: View) -> View:
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

            began = begin(req, req.principal.user_id)
        if isinstance(began, Response):
            response = began
        else:
            scope = began
            req.idempotency = scope
            response = _to_response(view(req, **params))
    except DomainError as error:
        response = domain_error_response(error, envelope_dict)
    except Exception as exc:
        if _is_unreachable(exc):
            logger.exception("dependency unreachable")
            response = domain_error_response(ServiceUnavailable("Service unavailable", request_id=req.request_id))
        else:
            logger.exception("unhandled error")
            response = internal_error_response(req.request_id, envelope_dict)
    if scope is not None:
        from chalicelib.http.idempotency import finish

        finish(scope, response)
    for name, value in limit_headers.items():
        response.headers.setdefault(name, value)
    return response


def _to_response(result: Any) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, Reply):
        return json_response(result.body, result.status, dict(result.headers or {}))
    return json_response(result)


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
