"""Request validation with pydantic, reported the way the contract words it (README §1.4).

Two styles of failure exist in the contract, and a model can use both:
- field by field: `error` joins `"<field>: <message>"` in field order and `fields` maps each field to its messages
  (pydantic's own messages are translated into the wording VBWD clients know: "Unknown field.", "Longer than
  maximum length 100."); raise `rule(code, message…)` from a validator for a contract message of a field;
- one message for the request (`{"error": "amount is required"}`): raise `refuse(message)` from a field or model
  validator. Unknown fields of a strict body are reported first, field by field; otherwise the first refusal wins
  (model-level checks before field checks, fields in declaration order), so a model reproduces the contract's
  order of checks.

Bodies ignore unknown keys unless the route is *strict* (`StrictBody`, README §1.2); query models take the first
value of each parameter as a string and always answer with one message.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from chalicelib.core.errors import BadRequest, ValidationFailed

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


class Body(BaseModel):
    """A JSON request body. Unknown keys are ignored (README §1.2: VBWD screens send whole objects back).

    `REQUIRED` gives the field-style message for a missing field, `REQUIRED_PLAIN` the one-message answer.
    """

    model_config = ConfigDict(extra="ignore", defer_build=True)
    REQUIRED: ClassVar[dict[str, str]] = {}
    REQUIRED_PLAIN: ClassVar[dict[str, str]] = {}


class NoBody(Body):
    """The route reads no body: whatever JSON object is sent is ignored."""


class StrictBody(Body):
    """The body of a route the contract marks *strict*: unknown keys → 400 `<key>: Unknown field.`."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class QueryString(BaseModel):
    """The query string of a route: first values, as strings; unknown parameters are ignored."""

    model_config = ConfigDict(extra="ignore", defer_build=True)


class PagingQuery(QueryString):
    """The paging parameters every list accepts (README §1.11); `chalicelib.http.pagination` reads them."""

    limit: str | None = None
    offset: str | None = None
    page: str | None = None
    per_page: str | None = None
    cursor: str | None = None


class Answer(BaseModel):
    """A documented answer body (OpenAPI only: answers are built by serializers; tests hold them to these models).
    Undeclared keys are not allowed, so an answer that grows a key the document lacks fails the tests."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


Money = Annotated[str, Field(pattern=r"^-?[0-9]+(\.[0-9]+)?$", description="Decimal string, currency places")]
Instant = Annotated[str, Field(json_schema_extra={"format": "date-time"}, description="UTC, ISO-8601 with Z")]
Uuid = Annotated[str, Field(json_schema_extra={"format": "uuid"})]


class PageKeys(Answer):
    """The paging keys of a list answer (README §1.11)."""

    total: int
    limit: int
    offset: int
    page: int
    per_page: int
    pages: int
    next_cursor: str | None


class WholeListKeys(Answer):
    """The paging keys of a list the contract answers whole (README §1.11): all of them on a page, when paging was
    asked for; only `next_cursor` on the whole list, when it is longer than 1000 items
    (`chalicelib.http.pagination.whole_list`, `whole_list_or_page`). A list answer subclasses `WholeList` with its
    items; the rare whole list without `total` (`GET /user/addons`) subclasses this and declares `total` itself."""

    limit: int | None = None
    offset: int | None = None
    page: int | None = None
    per_page: int | None = None
    pages: int | None = None
    next_cursor: str | None = None


class WholeList(WholeListKeys):
    """A whole list's keys with its `total`, given whether or not paging was asked for."""

    total: int


def rule(code: str, *messages: str) -> PydanticCustomError:
    """A validator failure carrying one or more contract messages for its field."""
    return PydanticCustomError(code, "; ".join(messages), {"messages": list(messages)})


def refuse(message: str) -> PydanticCustomError:
    """A validator failure that answers the whole request with one message (400 `{"error": message}`)."""
    return PydanticCustomError("refused", message, {"refused": message})


def one_of(value: str | None, names: Collection[str], what: str) -> str | None:
    """A list filter that names one of `names` (`?status=`, `?type=`): case-insensitive, surrounding blanks
    ignored; None when it is absent or empty. Any other value is refused `Invalid <what>: <value>`."""
    if value is None or value == "":
        return None
    wanted = value.strip().upper()
    if wanted not in names:
        raise refuse(f"Invalid {what}: {value}")
    return wanted


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
        errors = exc.errors()
        unknown = any(error.get("type") == "extra_forbidden" for error in errors)
        if not unknown:
            plain = _first_refusal(model, errors)
            if plain is not None:
                raise BadRequest(plain) from exc
        messages = {**getattr(model, "REQUIRED", {}), **(required or {})}
        kept = [e for e in errors if not (e.get("ctx") or {}).get("refused")] or errors
        raise ValidationFailed(collect_fields(model, kept, data, messages)) from exc


def parse_query(model: type[T], params: Mapping[str, str]) -> T:
    """Validate query parameters into `model`; a failure is one message (the first, in the model's order)."""
    try:
        return model.model_validate(dict(params))
    except ValidationError as exc:
        errors = exc.errors()
        message = _first_refusal(model, errors, plain_only=False) or "Invalid query parameters"
        raise BadRequest(message) from exc


def _order(model: type[BaseModel], error: Mapping[str, Any]) -> int:
    location = error.get("loc") or ()
    if not location:
        return -1
    names = list(model.model_fields)
    return names.index(str(location[0])) if str(location[0]) in names else len(names)


def _first_refusal(model: type[BaseModel], errors: list[Any], *, plain_only: bool = True) -> str | None:
    """The first one-message failure: a `refuse()`, or a missing field with a `REQUIRED_PLAIN` message."""
    required_plain: dict[str, str] = getattr(model, "REQUIRED_PLAIN", {})
    found: list[tuple[int, str]] = []
    for error in errors:
        ctx = error.get("ctx") or {}
        location = error.get("loc") or ()
        name = str(location[0]) if location else ""
        if ctx.get("refused"):
            found.append((_order(model, error), str(ctx["refused"])))
        elif error.get("type") == "missing" and name in required_plain:
            found.append((_order(model, error), required_plain[name]))
        elif not plain_only:
            found.append((_order(model, error), _messages(error)[0]))
    return min(found, key=lambda pair: pair[0])[1] if found else None


def collect_fields(
    model: type[BaseModel], errors: list[Any], data: Mapping[str, Any], required: Mapping[str, str]
) -> dict[str, list[str]]:
    by_field: dict[str, list[str]] = {}
    for error in errors:
        location = error.get("loc") or ("",)
        field = str(location[0])
        messages = [required[field]] if error.get("type") == "missing" and field in required else _messages(error)
        by_field.setdefault(field, []).extend(messages)
    declared = [name for name in model.model_fields if name in by_field]
    unknown = [name for name in data if name in by_field and name not in model.model_fields]
    rest = [name for name in by_field if name not in declared and name not in unknown]
    return {name: by_field[name] for name in (*declared, *unknown, *rest)}
