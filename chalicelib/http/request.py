"""The request as a route sees it: parsed JSON body, first-value query parameters, client IP, principal."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.core.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from chalicelib.core.jsontext import parse_json_object

if TYPE_CHECKING:
    from chalice.app import Request

    from chalicelib.auth.principal import Principal
    from chalicelib.http.idempotency import IdempotencyScope

_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


class Req:
    def __init__(self, request: Request, request_id: str | None, params: dict[str, str]) -> None:
        self.raw = request
        self.request_id = request_id
        self.params = params
        self.principal: Principal | None = None
        self.idempotency: IdempotencyScope | None = None

    # --- transport -----------------------------------------------------------------------------------------

    @property
    def method(self) -> str:
        return str(self.raw.method).upper()

    @property
    def path(self) -> str:
        return str(self.raw.context.get("path") or self.raw.context.get("resourcePath") or "")

    def header(self, name: str) -> str | None:
        value = self.raw.headers.get(name)
        return None if value is None else str(value)

    @property
    def user(self) -> Principal:
        """The authenticated caller of a route whose access level requires one."""
        if self.principal is None:
            raise RuntimeError("this route has no authenticated caller")
        return self.principal

    @property
    def client_ip(self) -> str:
        identity = self.raw.context.get("identity") or {}
        return str(identity.get("sourceIp") or "unknown")

    @property
    def body_bytes(self) -> bytes:
        raw = self.raw.raw_body
        return raw if isinstance(raw, bytes) else (raw or "").encode()

    # --- query ---------------------------------------------------------------------------------------------

    def query(self, name: str) -> str | None:
        """First value of a query parameter (contract README §1.2: repeated parameters use the first)."""
        params = self.raw.query_params
        if not params or name not in params:
            return None
        values = params.getlist(name)
        return str(values[0]) if values else None

    def query_dict(self) -> dict[str, str]:
        """Every query parameter with its first value."""
        params = self.raw.query_params
        if not params:
            return {}
        return {str(name): str(params.getlist(name)[0]) for name in params if params.getlist(name)}

    def query_bool(self, name: str, default: bool = False) -> bool:
        value = self.query(name)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise BadRequest(f"Invalid value for {name}")

    # --- body ----------------------------------------------------------------------------------------------

    def check_body(self, max_bytes: int, *, parse: bool = True) -> None:
        """Size, media type and JSON validity, in the order of contract README §1.2 (413, 415, 400)."""
        body = self.body_bytes
        if len(body) > max_bytes:
            raise PayloadTooLarge("Request body too large", max_bytes=max_bytes)
        if not body or not parse:
            return
        self.require_json_media_type()
        _ = self.json

    def require_json_media_type(self) -> None:
        """A non-empty body must say it is JSON (415 otherwise); `raw_body` routes that take JSON call it too."""
        if not self.body_bytes:
            return
        content_type = (self.header("content-type") or "").split(";", 1)[0].strip().lower()
        if content_type != "application/json":
            raise UnsupportedMediaType("Unsupported media type")

    @cached_property
    def json(self) -> dict[str, Any]:
        return parse_json_object(self.body_bytes)
