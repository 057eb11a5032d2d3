"""Bodies built to break a parser or a serializer get a 400 on every JSON route, before anything else runs.

The route table is walked, so a route added later is covered without touching this file.
"""

from __future__ import annotations

import json

import pytest

import app  # noqa: F401 — declares every route
from chalicelib.core.errors import BadRequest
from chalicelib.core.jsontext import MAX_JSON_DEPTH, dumps, json_depth_exceeds, parse_json_object
from chalicelib.http.openapi import full_path
from chalicelib.http.routing import ROUTES
from tests.integration.conftest import USER, Api

DEEP = ("[" * 2000 + "]" * 2000).encode()
DEEP_OBJECT = ('{"a":' * 500 + "1" + "}" * 500).encode()
LONE_SURROGATE = b'{"email":"\\ud800","amount":1,"plan_id":"\\udfff"}'


def _json_routes() -> list[tuple[str, str]]:
    found = []
    for spec in ROUTES:
        for method in spec.methods:
            if method in ("POST", "PUT", "PATCH") and not spec.raw_body:
                path = full_path(spec)
                for name in spec.uuid_params:
                    path = path.replace(f"{{{name}}}", "5f0c7a1e-3b7e-4c55-9a43-0c2d7a9e1b11")
                found.append((method, path.replace("{", "").replace("}", "")))
    return found


JSON_ROUTES = _json_routes()


@pytest.fixture(scope="module")
def user_token(api: Api) -> str:
    return api.token(*USER)


@pytest.fixture(scope="module", autouse=True)
def every_plugin_enabled(api: Api) -> None:
    """A disabled plugin's routes answer 404 before reading a body (as a missing path): the seed's one disabled
    provider is switched on so that its routes are held to the body rules too."""
    from tests.integration.buyers import set_plugin

    set_plugin("yookassa", True)


@pytest.mark.parametrize(("method", "path"), JSON_ROUTES, ids=[f"{m} {p}" for m, p in JSON_ROUTES])
@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["deep-array", "deep-object"])
def test_deep_json_is_refused_before_authentication(api: Api, method: str, path: str, body: bytes) -> None:
    answer = api.request(method, path, body=body, headers={"Content-Type": "application/json"})
    assert answer.status == 400, answer.body[:200]
    assert (answer.json["error"], answer.json["max_depth"]) == ("Invalid JSON body", MAX_JSON_DEPTH)


@pytest.mark.parametrize(("method", "path"), JSON_ROUTES, ids=[f"{m} {p}" for m, p in JSON_ROUTES])
def test_lone_surrogates_are_refused(api: Api, user_token: str, method: str, path: str) -> None:
    answer = api.request(
        method, path, body=LONE_SURROGATE, token=user_token, headers={"Content-Type": "application/json"}
    )
    assert answer.status == 400, answer.body[:200]
    assert answer.json["error"] == "Invalid JSON body"


def test_the_depth_limit_is_exact_and_ignores_brackets_inside_strings() -> None:
    assert not json_depth_exceeds(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    assert json_depth_exceeds(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
    assert not json_depth_exceeds(json.dumps({"text": "[" * 5000, "escaped": '\\"[[[['}).encode())
    assert parse_json_object(json.dumps({"a": [[[{"b": "]]]]"}]]]}).encode()) == {"a": [[[{"b": "]]]]"}]]]}


def test_paired_surrogates_are_text() -> None:
    assert parse_json_object(b'{"smile":"\\ud83d\\ude00"}') == {"smile": "\U0001f600"}
    with pytest.raises(BadRequest):
        parse_json_object(b'{"k\\udc00":"v"}')  # in a key, too


def test_decimal_values_serialize_instead_of_failing_an_answer() -> None:
    from decimal import Decimal

    assert dumps({"x": Decimal("1.5"), "y": Decimal("2")}) == '{"x":1.5,"y":2}'
