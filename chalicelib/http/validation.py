"""Body validation with pydantic, reported in the contract's field format (README §1.4).

`error` joins `"<field>: <message>"` in field order; `fields` maps each field to its messages. pydantic's own
messages are translated into the wording VBWD clients know ("Unknown field.", "Longer than maximum length 100.").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from chalicelib.core.errors import ValidationFailed

T = TypeVar("T", bound=BaseModel)

_TYPE_MESSAGES = {
    "extra_forbidden": "Unknown field.",
    "string_type": "Not a valid string.",
    "dict_type": "Not a valid mapping.",
    "int_type": "Not a valid integer.",
    "int_parsing": "Not a valid integer.",
    "int_from_float": "Not a valid integer.",
    "bool_type": "Not a valid boolean.",
    "bool_parsing": "Not a valid boolean.",
    "list_type": "Not a valid list.",
    "decimal_type": "Not a valid number.",
    "decimal_parsing": "Not a valid number.",
    "missing": "Missing data for required field.",
}


def rule(code: str, *messages: str) -> PydanticCustomError:
    """A validator failure carrying one or more contract messages for its field."""
    return PydanticCustomError(code, "; ".join(messages), {"messages": list(messages)})


def _messages(error: Mapping[str, Any]) -> list[str]:
    ctx = error.get("ctx") or {}
    if isinstance(ctx.get("messages"), list):
        return [str(m) for m in ctx["messages"]]
    kind = str(error.get("type"))
    if kind == "string_too_long":
        return [f"Longer than maximum length {ctx.get('max_length')}."]
    if kind in _TYPE_MESSAGES:
        return [_TYPE_MESSAGES[kind]]
    return [str(error.get("msg", "Invalid value."))]


def parse_body(
    model: type[T],
    data: Mapping[str, Any],
    *,
    required: Mapping[str, str] | None = None,
) -> T:
    """Validate `data` into `model`; `required` gives per-field messages for missing values."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise ValidationFailed(collect_fields(model, exc, data, required or {})) from exc


def collect_fields(
    model: type[BaseModel], exc: ValidationError, data: Mapping[str, Any], required: Mapping[str, str]
) -> dict[str, list[str]]:
    by_field: dict[str, list[str]] = {}
    for error in exc.errors():
        location = error.get("loc") or ("",)
        field = str(location[0])
        messages = [required[field]] if error.get("type") == "missing" and field in required else _messages(error)
        by_field.setdefault(field, []).extend(messages)
    declared = [name for name in model.model_fields if name in by_field]
    unknown = [name for name in data if name in by_field and name not in model.model_fields]
    rest = [name for name in by_field if name not in declared and name not in unknown]
    return {name: by_field[name] for name in (*declared, *unknown, *rest)}
