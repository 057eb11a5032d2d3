"""The OpenAPI 3.1 description of the API, generated from the route table and its models.

Every route declared with `chalicelib.http.routing.route` is here with its auth (bearer or none), its path, query
and header parameters, its request body (the pydantic model the edge validates into), its success answer (the
response model the route names, when it names one) and the error answers the edge can give it, each an
`{"error": …}` object. Nothing is written by hand, so the document cannot drift from what the edge enforces; a test
walks the route table to check every route is described, and the integration tests validate real answers against
the described ones.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from pydantic import BaseModel

from chalicelib.http.ratelimit import LimitScope
from chalicelib.http.routing import ROUTES, Binary, RouteSpec

API_PREFIX = "/api/v1"
ERROR_REF = {"$ref": "#/components/schemas/Error"}
_PARAM = re.compile(r"{([^}+]+)\+?}")

ERROR_DESCRIPTIONS = {
    400: "Bad request: invalid JSON, body or query validation, a business rule the client can fix",
    401: "Authentication failed (missing, malformed, expired or revoked token)",
    402: "Payment required",
    403: "Authenticated, but not allowed",
    404: "Not found (or the route's plugin is disabled)",
    409: "Conflict: concurrent modification, or an Idempotency-Key still in progress",
    413: "Request body too large",
    415: "Unsupported media type (JSON routes need application/json)",
    422: "Idempotency-Key reused with different parameters",
    429: "Rate limit exceeded",
    500: "Internal server error (carries request_id)",
    502: "Payment provider error",
    503: "Service unavailable (a dependency is unreachable)",
}


def full_path(spec: RouteSpec) -> str:
    return spec.path if spec.on_app else f"{API_PREFIX}{spec.path}"


class Schemas:
    """Every model the routes name, turned into JSON Schema in one pass, so two models that share a class name in
    different domains get distinct component names instead of one silently standing in for the other."""

    def __init__(self, wanted: list[tuple[type[BaseModel], str]]) -> None:
        from pydantic.json_schema import models_json_schema

        unique = list(dict.fromkeys(wanted))
        refs, definitions = models_json_schema(
            unique,  # type: ignore[arg-type]
            ref_template="#/components/schemas/{model}",
        )
        self.refs = dict(refs)
        self.components: dict[str, Any] = dict(definitions.get("$defs", {}))

    def ref(self, model: type[BaseModel], mode: str) -> dict[str, Any]:
        return dict(self.refs[(model, mode)])  # type: ignore[index]


def _wanted(routes: list[RouteSpec]) -> list[tuple[type[BaseModel], str]]:
    found: list[tuple[type[BaseModel], str]] = []
    for spec in routes:
        if spec.body is not None:
            found.append((spec.body, "validation"))
        for answer in (spec.responses or {}).values():
            model = answer[1] if isinstance(answer, tuple) else answer
            if isinstance(model, type) and issubclass(model, BaseModel):
                found.append((model, "serialization"))
    return found


def _schema_of(model: type[BaseModel], components: Schemas, mode: str) -> dict[str, Any]:
    return components.ref(model, mode)


def _answer_schema(answer: Any, components: Schemas) -> tuple[str, dict[str, Any] | None]:
    """A documented answer: a pydantic model, `(description, model)`, or a description alone."""
    if isinstance(answer, type) and issubclass(answer, BaseModel):
        return (answer.__doc__ or answer.__name__).strip().splitlines()[0], _schema_of(
            answer, components, "serialization"
        )
    if isinstance(answer, tuple):
        description, model = answer
        return str(description), _schema_of(model, components, "serialization") if model is not None else None
    return str(answer), None


def _parameters(spec: RouteSpec, components: Schemas) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for name in _PARAM.findall(spec.path):
        schema: dict[str, Any] = {"type": "string"}
        if name in spec.uuid_params:
            schema["format"] = "uuid"
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    if spec.query is not None:
        query_schema = spec.query.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, field_schema in query_schema.get("properties", {}).items():
            field_schema.pop("title", None)
            parameters.append({"name": name, "in": "query", "required": False, "schema": field_schema})
    if spec.idempotent:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "1–255 visible ASCII characters; a repeat within 24 h replays the first answer",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
            }
        )
    return parameters


def _error_statuses(spec: RouteSpec, method: str) -> set[int]:
    statuses = {400, 404, 500, 503}
    if spec.access.level in ("user", "admin"):
        statuses |= {401, 403}
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        statuses |= {409, 413, 415}
    if spec.idempotent:
        statuses |= {409, 422}
    if spec.limit is not LimitScope.NONE:
        statuses.add(429)
    return statuses


def operation(spec: RouteSpec, method: str, components: Schemas) -> dict[str, Any]:
    summary, _, description = spec.summary.partition("\n")
    op: dict[str, Any] = {
        "operationId": f"{spec.view_name}.{method.lower()}" if len(spec.methods) > 1 else spec.view_name,
        "summary": summary.strip() or spec.view_name.rsplit(".", 1)[-1].replace("_", " "),
        "tags": [spec.view_name.split(".")[1] if spec.view_name.count(".") > 1 else "api"],
        "parameters": _parameters(spec, components),
        "responses": {},
    }
    if description.strip():
        op["description"] = description.strip()
    if spec.plugin:
        op["x-plugin"] = spec.plugin
    if spec.stage:
        op["x-stage"] = spec.stage
    if spec.access.level == "admin":
        op["x-permission"] = spec.access.permission
    if spec.access.level in ("user", "admin"):
        op["security"] = [{"bearer": []}]
    elif spec.access.level == "optional":
        op["security"] = [{}, {"bearer": []}]
    if spec.body is not None:
        op["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": _schema_of(spec.body, components, "validation")}},
        }
    elif spec.raw_body:
        op["requestBody"] = {"content": {"application/json": {"schema": {"type": "object"}}}}
    responses: dict[str, Any] = {}
    documented = dict(spec.responses or {})
    if spec.status not in documented:
        documented[spec.status] = "Success"
    for status, answer in sorted(documented.items()):
        if isinstance(answer, Binary):
            file_schema = {"type": "string", "format": "binary"}
            responses[str(status)] = {
                "description": answer.description,
                "content": {answer.media_type: {"schema": file_schema}},
            }
            continue
        text, schema = _answer_schema(answer, components)
        if status >= 400:
            content = {"application/json": {"schema": schema or ERROR_REF}}
            responses[str(status)] = {"description": text, "content": content}
        elif schema is None:
            responses[str(status)] = {"description": text}
        else:
            responses[str(status)] = {"description": text, "content": {"application/json": {"schema": schema}}}
    for status in sorted(_error_statuses(spec, method)):
        responses.setdefault(
            str(status),
            {"description": ERROR_DESCRIPTIONS[status], "content": {"application/json": {"schema": ERROR_REF}}},
        )
    op["responses"] = responses
    return op


@functools.cache
def document(version: str = "0.1.0") -> dict[str, Any]:
    # The application's own routes (a test may declare a probe app with `route` in the same process).
    routes = [s for s in sorted(ROUTES, key=full_path) if not s.hidden and s.view_name.startswith("chalicelib.")]
    schemas = Schemas(_wanted(routes))
    components: dict[str, Any] = {
        **schemas.components,
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}},
            "additionalProperties": True,
            "description": "Every 4xx and 5xx answer (contract README §1.4); routes document extra keys",
        },
    }
    paths: dict[str, dict[str, Any]] = {}
    for spec in routes:
        item = paths.setdefault(full_path(spec).replace("+}", "}"), {})
        for method in spec.methods:
            item[method.lower()] = operation(spec, method, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "VBWD Serverless API",
            "version": version,
            "description": "Subscription billing on AWS Lambda, DynamoDB and EventBridge; wire-compatible with the "
            "VBWD /api/v1 API (the contract: shared/contract/).",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
