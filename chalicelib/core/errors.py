"""Typed domain errors and the one table that maps them to HTTP.

Services raise these; the HTTP layer turns them into `{"error": message, ...extra}` with the status of
`HTTP_STATUS`. Anything that is not a `DomainError` becomes a 500 without internals.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a client may see. `extra` keys are merged into the JSON body."""

    def __init__(self, message: str, /, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra
        self.headers = headers or {}


class BadRequest(DomainError):
    """The request is malformed or breaks a business rule the client can fix."""


class ValidationFailed(BadRequest):
    """Field-by-field validation failure: `error` joins the messages, `fields` lists them per field."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        joined = "; ".join(f"{name}: {message}" for name, messages in fields.items() for message in messages)
        super().__init__(joined, fields=fields)
        self.fields = fields


class Unauthorized(DomainError):
    """We do not know who the caller is (contract README §1.3: only authentication failures)."""


class PaymentRequired(DomainError):
    pass


class Forbidden(DomainError):
    """We know who the caller is and they may not do this."""


class NotFound(DomainError):
    pass


class MethodNotAllowed(DomainError):
    pass


class Conflict(DomainError):
    pass


class PayloadTooLarge(DomainError):
    pass


class UnsupportedMediaType(DomainError):
    pass


class Unprocessable(DomainError):
    pass


class RateLimited(DomainError):
    pass


class ProviderFailed(DomainError):
    pass


class ServiceUnavailable(DomainError):
    pass


HTTP_STATUS: dict[type[DomainError], int] = {
    BadRequest: 400,
    ValidationFailed: 400,
    Unauthorized: 401,
    PaymentRequired: 402,
    Forbidden: 403,
    NotFound: 404,
    MethodNotAllowed: 405,
    Conflict: 409,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    Unprocessable: 422,
    RateLimited: 429,
    ProviderFailed: 502,
    ServiceUnavailable: 503,
}


def status_of(error: DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500
