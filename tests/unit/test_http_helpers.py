from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, field_validator

from chalicelib.auth.permissions import ALL_ADMIN_KEYS, grants
from chalicelib.core.errors import BadRequest, Conflict, NotFound, RateLimited, ValidationFailed, status_of
from chalicelib.core.validation import parse_body, rule
from chalicelib.http.pagination import decode_cursor, encode_cursor, page_request, whole_list


class Query:
    """Stands in for the request in paging tests: its query parameters, its caller and its path."""

    def __init__(self, path: str = "/api/v1/things", user: str | None = None, **params: str) -> None:
        self.params = params
        self.path = path
        self.principal = type("Caller", (), {"user_id": user})() if user else None

    def query(self, name: str) -> str | None:
        return self.params.get(name)


def cursor_at(position: int, req: Query | None = None) -> str:
    return encode_cursor(req or Query(), position, {"position": position})


def test_no_paging_parameters_means_the_whole_list() -> None:
    assert page_request(Query(), 20) is None
    body = whole_list(Query(), {"things": list(range(5)), "x": 1}, "things")
    assert body == {"things": [0, 1, 2, 3, 4], "x": 1, "total": 5}


def test_limit_offset_page() -> None:
    body = whole_list(Query(limit="2", offset="2"), {"things": list(range(5))}, "things")
    assert body["things"] == [2, 3]
    assert {k: body[k] for k in ("total", "limit", "offset", "page", "per_page", "pages")} == {
        "total": 5,
        "limit": 2,
        "offset": 2,
        "page": 2,
        "per_page": 2,
        "pages": 3,
    }
    assert decode_cursor(Query(), body["next_cursor"]) == (4, {"position": 4})


def test_page_per_page_wins_and_values_are_clamped() -> None:
    page = page_request(Query(page="0", per_page="500", limit="3", offset="7"), 20)  # type: ignore[arg-type]
    assert (page.offset, page.limit) == (0, 100)
    page = page_request(Query(page="3", per_page="10"), 20)  # type: ignore[arg-type]
    assert (page.offset, page.limit) == (20, 10)
    page = page_request(Query(offset="-5"), 20)  # type: ignore[arg-type]
    assert (page.offset, page.limit) == (0, 20)


def test_cursor_wins_over_offset_and_the_last_page_has_none() -> None:
    body = whole_list(Query(cursor=cursor_at(4), offset="0"), {"t": list(range(5))}, "t")
    assert body["t"] == [4]
    assert body["next_cursor"] is None
    empty = whole_list(Query(limit="10"), {"t": []}, "t")
    assert (empty["total"], empty["pages"]) == (0, 0)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "abc"},
        {"page": "1.5"},
        {"cursor": "!!"},
        {"cursor": cursor_at(1)[:-3]},
        {"cursor": cursor_at(1).replace(".", "")},
        {"cursor": "eyJrIjp7InBvc2l0aW9uIjoxfSwibyI6MX0.AAAAAAAAAAAAAAAAAAAAAA"},
    ],
)
def test_bad_paging_parameters_are_400(params: dict[str, str]) -> None:
    with pytest.raises(BadRequest, match="Invalid pagination parameters"):
        page_request(Query(**params), 20)  # type: ignore[arg-type]


def test_a_cursor_is_bound_to_its_caller_and_its_list() -> None:
    mine = cursor_at(3, Query(user="a"))
    assert page_request(Query(user="a", cursor=mine), 20).offset == 3  # type: ignore[union-attr]
    with pytest.raises(BadRequest, match="Invalid pagination parameters"):
        page_request(Query(user="b", cursor=mine), 20)
    with pytest.raises(BadRequest, match="Invalid pagination parameters"):
        page_request(Query(path="/api/v1/other", user="a", cursor=mine), 20)


def test_an_altered_cursor_payload_is_refused() -> None:
    import base64
    import json

    payload, mac = cursor_at(3).split(".")
    raw = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw["o"] = 0
    forged = base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")
    with pytest.raises(BadRequest, match="Invalid pagination parameters"):
        page_request(Query(cursor=f"{forged}.{mac}"), 20)


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str
    count: int | None = None
    tags: dict[str, Any] | None = None

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Any:
        if value == "bad":
            raise rule("bad_name", "First problem", "Second problem")
        return value


def test_validation_messages_use_the_contract_wording_in_field_order() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_body(Sample, {"zzz": 1, "count": "x", "tags": 3, "name": "bad"})
    assert caught.value.fields == {
        "name": ["First problem", "Second problem"],
        "count": ["Not a valid integer."],
        "tags": ["Not a valid mapping."],
        "zzz": ["Unknown field."],
    }
    assert caught.value.message == (
        "name: First problem; name: Second problem; count: Not a valid integer.; tags: Not a valid mapping.; "
        "zzz: Unknown field."
    )


def test_required_messages_can_be_named_per_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_body(Sample, {}, required={"name": "Name is required"})
    assert caught.value.extra == {"fields": {"name": ["Name is required"]}}


def test_permission_matching() -> None:
    assert grants(["*"], "users.view")
    assert grants(["users.view"], "users.view")
    assert grants(["booking.*"], "booking.staff.manage")
    assert not grants(["booking.*"], "bookings.view")
    assert not grants(["users.view"], "users.manage")
    assert not grants([], "users.view")
    assert "booking.tenants.manage" in ALL_ADMIN_KEYS and len(ALL_ADMIN_KEYS) == 32  # README §1.3.1, all groups


def test_error_statuses_come_from_one_table() -> None:
    assert status_of(NotFound("x")) == 404
    assert status_of(Conflict("x")) == 409
    assert status_of(ValidationFailed({"a": ["b"]})) == 400
    limited = RateLimited("Rate limit exceeded", headers={"Retry-After": "5"}, message="5 per 1 minute")
    assert (status_of(limited), limited.extra, limited.headers) == (
        429,
        {"message": "5 per 1 minute"},
        {"Retry-After": "5"},
    )
