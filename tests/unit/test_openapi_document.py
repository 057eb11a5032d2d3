"""The published OpenAPI document describes every route the app serves, with what the edge enforces."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

import app as application
from chalicelib.http.openapi import document, full_path
from chalicelib.http.routing import ROUTES, RouteSpec

OURS = [spec for spec in ROUTES if spec.view_name.startswith("chalicelib.")]  # tests declare probe apps too
DOCUMENTED = [spec for spec in OURS if not spec.hidden]
GENERATED_VIEWS = ("method_not_allowed_", "preflight_", "_not_found_")


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return document()


def test_the_document_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    assert doc["openapi"] == "3.1.0"
    validate(doc)


def test_every_route_the_app_serves_is_declared_through_route() -> None:
    """A Chalice route added without `route()` would bypass the edge (auth, validation, errors) and the document."""
    declared = {(full_path(spec), method) for spec in OURS for method in spec.methods}
    served = {
        (path, method)
        for path, methods in application.app.routes.items()
        for method, entry in methods.items()
        if not entry.view_name.startswith(GENERATED_VIEWS) and path != "/{proxy+}"
    }
    assert served - declared == set()
    assert declared - served == set()


@pytest.mark.parametrize("spec", DOCUMENTED, ids=lambda s: f"{'/'.join(s.methods)} {full_path(s)}")
def test_every_route_is_described_with_its_input_and_answers(doc: dict[str, Any], spec: RouteSpec) -> None:
    item = doc["paths"][full_path(spec)]
    for method in spec.methods:
        op = item[method.lower()]
        assert op["summary"], "a one-line docstring on the view is its summary"
        success = op["responses"][str(spec.status)]
        assert success.get("content"), f"the {spec.status} answer is not documented with a model"
        if method in ("POST", "PUT", "PATCH") and not spec.raw_body:
            assert spec.body is not None, "a body route names its body model (an empty `Body` if it reads none)"
            assert op["requestBody"]["content"]["application/json"]["schema"]
        if spec.access.level in ("user", "admin"):
            assert op["security"] == [{"bearer": []}]
            assert {"401", "403"} <= set(op["responses"])
        if spec.query is not None:
            names = {p["name"] for p in op["parameters"] if p["in"] == "query"}
            assert names == {field.alias or name for name, field in spec.query.model_fields.items()}
        for status, answer in op["responses"].items():
            if int(status) >= 400:
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"} or "$ref" in schema


def test_error_answers_share_one_shape(doc: dict[str, Any]) -> None:
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error"] and error["properties"]["error"] == {"type": "string"}
