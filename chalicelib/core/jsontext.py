"""JSON text in and out: the request-body parser every JSON input goes through, and the one serializer.

Input (contract README §1.2): an object, at most 64 levels deep, valid UTF-8 text throughout; numbers with a
fraction become `Decimal` so money stays exact. Output: compact UTF-8 JSON; a `Decimal` that reaches it (an echoed
input) is written as its exact number text instead of failing the answer.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from chalicelib.core.errors import BadRequest

MAX_JSON_DEPTH = 64
INVALID_JSON = "Invalid JSON body"
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `body` nests arrays/objects deeper than `limit` (checked before parsing: deep input would make the
    parser, and everything that walks its result, recurse until the interpreter gives up)."""
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        depth += 1 if byte in (0x5B, 0x7B) else -1
        if depth > limit:
            return True
    return False


def _has_lone_surrogate(value: Any) -> bool:
    """A `\\ud800` escape without its pair decodes to text no UTF-8 store or answer can hold."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The contract's JSON body (README §1.2): an object, at most 64 levels deep, valid UTF-8 text throughout.
    Numbers with a fraction become `Decimal` (money inputs stay exact)."""
    if not body:
        return {}
    parsed = parse_json(body)
    if not isinstance(parsed, dict):
        raise BadRequest("Request body must be a JSON object")
    return parsed


def parse_json(body: bytes) -> Any:
    """Any JSON value under the rules of `parse_json_object` (the few routes whose body is an array)."""
    if json_depth_exceeds(body):
        raise BadRequest(INVALID_JSON, max_depth=MAX_JSON_DEPTH)
    try:
        parsed = json.loads(body.decode("utf-8"), parse_float=Decimal, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadRequest(INVALID_JSON) from exc
    if _SURROGATE_ESCAPE.search(body) and _has_lone_surrogate(parsed):
        raise BadRequest(INVALID_JSON)
    return parsed


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_default)


def dumps_canonical(value: Any) -> str:
    """Keys sorted, no insignificant whitespace (fingerprints, signatures)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
