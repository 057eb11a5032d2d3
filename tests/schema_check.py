"""Holds every answer the tests see to the OpenAPI document the API publishes (`chalicelib.http.openapi`).

For the operation a request matched: an error answer must be the documented error object; a route that documents
its success answer must give only documented statuses, each matching its schema (undeclared keys included). So an
answer that drifts from the document fails whichever test produced it.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from jsonschema import Draft202012Validator

_PARAM = re.compile(r"\\{[^}]+\\}")


@functools.cache
def _document() -> dict[str, Any]:
    import app  # noqa: F401 — registers every route
    from chalicelib.http.openapi import document

    return document()


@functools.cache
def _matchers() -> list[tuple[re.Pattern[str], str]]:
    found = []
    for template in _document()["paths"]:
        pattern = _PARAM.sub("[^/]+", re.escape(template))
        found.append((re.compile(f"^{pattern}/?$"), template))
    # Literal segments win over parameters (README §1.1): fewer parameters first.
    found.sort(key=lambda pair: pair[1].count("{"))
    return found


@functools.cache
def _validator(template: str, method: str, status: str) -> Draft202012Validator | None:
    response = _document()["paths"][template][method]["responses"].get(status)
    schema = (response or {}).get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return None
    return Draft202012Validator({**schema, "components": _document()["components"]})


def operation_of(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    bare = path.split("?", 1)[0]
    for pattern, template in _matchers():
        if pattern.match(bare):
            op = _document()["paths"][template].get(method.lower())
            return (template, op) if op is not None else None
    return None


def check_answer(method: str, path: str, status: int, content_type: str, body: bytes) -> None:
    found = operation_of(method, path)
    if found is None:
        return  # not an API operation of the document (405s, OPTIONS, unknown paths, the docs page itself)
    template, op = found
    responses = op["responses"]
    success = responses.get(str(op_success(responses)))
    documented = success is not None and "content" in success
    if str(status) not in responses:
        assert not documented, f"{method} {template} answered {status}, which its document does not list"
        return
    if not content_type.startswith("application/json") or not body:
        return
    validator = _validator(template, method.lower(), str(status))
    if validator is None:
        return
    if status < 400 and not documented:
        return
    errors = sorted(validator.iter_errors(json.loads(body)), key=lambda e: list(e.path))
    assert not errors, f"{method} {template} {status}: answer does not match the document: " + "; ".join(
        f"{'/'.join(map(str, e.path)) or '<body>'}: {e.message}" for e in errors[:5]
    )


def op_success(responses: dict[str, Any]) -> int:
    return min(int(status) for status in responses if int(status) < 400)
