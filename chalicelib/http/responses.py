"""JSON responses and the error body of contract README §1.4."""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from chalicelib.core.errors import DomainError, status_of
from chalicelib.core.jsontext import dumps

JSON = "application/json"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    all_headers: dict[str, str | list[str]] = {"Content-Type": JSON}
    if headers:
        all_headers.update(headers)
    return Response(body=dumps(body), status_code=status, headers=all_headers)


def error_body(
    message: str, extra: dict[str, Any] | None = None, envelope: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if envelope:
        body.update(envelope)
    body["error"] = message
    if extra:
        body.update(extra)
    return body


def domain_error_response(error: DomainError, envelope: dict[str, Any] | None = None) -> Response:
    return json_response(error_body(error.message, error.extra, envelope), status_of(error), error.headers)


def internal_error_response(request_id: str | None, envelope: dict[str, Any] | None = None) -> Response:
    body = error_body("Internal server error", {"request_id": request_id}, envelope)
    return json_response(body, 500)


def unavailable_response(request_id: str | None, retry_after: int | None = None) -> Response:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return json_response({"error": "Service unavailable", "request_id": request_id}, 503, headers)


def attachment(content: bytes, media_type: str, filename: str) -> Response:
    """A document to download (invoice and credit-note PDFs): never cached, saved under `filename`."""
    return Response(
        body=content,
        status_code=200,
        headers={
            "Content-Type": media_type,
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
