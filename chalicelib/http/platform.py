"""What every route shares at the edge: request ids, CORS, security and caching headers, JSON for every failure.

`create_app` builds the Chalice app from blueprints and then completes the route table the way the contract
needs it: every path answers OPTIONS (204 preflight) and every method it lacks (405 with `Allow`); a greedy
`/{proxy+}` route answers unknown paths with 404 `Not found`.
"""

from __future__ import annotations

import itertools
import re
import time
import uuid
from collections.abc import Callable, Iterable

from chalice.app import Blueprint, CaseInsensitiveMapping, Chalice, Request, Response

from chalicelib.core import context
from chalicelib.core.config import get_settings
from chalicelib.core.logging import logger
from chalicelib.http.responses import JSON, internal_error_response, json_response
from chalicelib.http.routing import ALL_CONTENT_TYPES, HTTP_METHODS

API_PREFIX = "/api/v1"
_VISIBLE_ASCII = re.compile(r"^[\x21-\x7e]{1,128}$")
EXPOSED_HEADERS = (
    "X-Request-Id, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, "
    "Content-Disposition, Idempotent-Replayed"
)
ALLOWED_REQUEST_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-Id, X-Tenant"
# On every answer: nothing is sniffed, framed, referred or run from it; HTTPS only outside the `local` stage.
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("Referrer-Policy", "no-referrer"),
)
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"
_counter = itertools.count()


def create_app(app_name: str, blueprints: Iterable[Blueprint], *, root: Callable[[Chalice], None]) -> Chalice:
    app = Chalice(app_name=app_name)
    app.api.binary_types.extend(["application/pdf", "multipart/form-data"])
    app.register_middleware(http_middleware, "http")
    root(app)
    for blueprint in blueprints:
        app.register_blueprint(blueprint, url_prefix=API_PREFIX)
    complete_route_table(app)
    return app


def complete_route_table(app: Chalice) -> None:
    for path, methods in list(app.routes.items()):
        allowed = sorted(m for m in methods if m != "OPTIONS")
        for method in HTTP_METHODS:
            if method not in methods:
                _register(app, path, method, _method_not_allowed(allowed))
        if "OPTIONS" not in methods:
            _register(app, path, "OPTIONS", _preflight([*allowed, "OPTIONS"]))
    for method in (*HTTP_METHODS, "OPTIONS"):
        _register(app, "/{proxy+}", method, _not_found)


def _register(app: Chalice, path: str, method: str, view: Callable[..., Response]) -> None:
    view.__name__ = f"{view.__name__}_{next(_counter)}"
    app.route(path, methods=[method], content_types=ALL_CONTENT_TYPES)(view)


def _method_not_allowed(allowed: list[str]) -> Callable[..., Response]:
    def method_not_allowed(**_: str) -> Response:
        return json_response({"error": "Method not allowed"}, 405, {"Allow": ", ".join(allowed)})

    return method_not_allowed


def _preflight(allowed: list[str]) -> Callable[..., Response]:
    def preflight(**_: str) -> Response:
        return Response(
            body="",
            status_code=204,
            headers={
                "Access-Control-Allow-Methods": ", ".join(allowed),
                "Access-Control-Allow-Headers": ALLOWED_REQUEST_HEADERS,
                "Access-Control-Max-Age": "600",
            },
        )

    return preflight


def _not_found(**_: str) -> Response:
    return json_response({"error": "Not found"}, 404)


def http_middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    if event is not None:
        _accept_anything_when_unsaid(event)
    incoming = event.headers.get("x-request-id") if event is not None else None
    request_id = incoming if isinstance(incoming, str) and _VISIBLE_ASCII.match(incoming) else str(uuid.uuid4())
    request_token = context.request_id.set(request_id)
    event_token = context.current_request.set(event)
    memo_token = context.request_memo.set({})
    logger.thread_safe_append_keys(request_id=request_id)
    started = time.perf_counter()
    try:
        response = get_response(event)
    except Exception:
        logger.exception("unhandled error outside a route")
        response = internal_error_response(request_id)
    finally:
        context.request_id.reset(request_token)
        context.current_request.reset(event_token)
        context.request_memo.reset(memo_token)
    response = _normalize_framework_error(response, request_id)
    _decorate(event, response, request_id)
    logger.info(
        "request",
        method=getattr(event, "method", None),
        path=(getattr(event, "context", None) or {}).get("resourcePath"),
        status=response.status_code,
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    logger.thread_safe_remove_keys(["request_id"])
    return response


def _accept_anything_when_unsaid(event: Request) -> None:
    """A request without `Accept` accepts any media type (RFC 9110 §12.5.1).

    Chalice refuses a binary response (the invoice PDF) unless `Accept` names a binary type, so the missing
    header is spelled out as `*/*` before routing.
    """
    if "accept" not in event.headers:
        event.headers = CaseInsensitiveMapping({**dict(event.headers.items()), "accept": "*/*"})


def _normalize_framework_error(response: Response, request_id: str) -> Response:
    """Chalice's own error bodies (`{"Code": …, "Message": …}`) never reach a client."""
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict) or "Code" not in body:
        return response
    status = response.status_code
    messages = {
        400: "Bad request",
        403: "Forbidden",
        404: "Not found",
        405: "Method not allowed",
        413: "Request body too large",
        415: "Unsupported media type",
    }
    if status >= 500:
        return internal_error_response(request_id)
    return json_response(
        {"error": messages.get(status, "Bad request")},
        status,
        {k: str(v) for k, v in response.headers.items() if k.lower() == "allow"},
    )


def _decorate(event: Request | None, response: Response, request_id: str) -> None:
    headers = response.headers
    present = {name.lower() for name in headers}
    headers["X-Request-Id"] = request_id
    if response.status_code >= 400 and "content-type" not in present:
        headers["Content-Type"] = JSON
    for name, value in SECURITY_HEADERS:
        if name.lower() not in present:  # a page that needs its own policy (the API docs) keeps it
            headers[name] = value
    if get_settings().stage != "local":
        headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
    if event is None:
        return
    origin = event.headers.get("origin")
    allowed = get_settings().allowed_origins
    if origin and ("*" in allowed or origin in allowed):
        headers["Access-Control-Allow-Origin"] = "*" if "*" in allowed else origin
        headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        if "*" not in allowed:
            headers["Vary"] = "Origin"
    if event.headers.get("authorization"):
        headers["Cache-Control"] = "no-store"
