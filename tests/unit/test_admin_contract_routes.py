"""The admin API against its contract: every route `admin.md` lists in the sections this product builds exists in
the route table, with the permission the contract names for it — read from the contract text itself, so a route
the contract adds or a route we drop shows up here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CONTRACT = Path(__file__).resolve().parents[2].parent / "shared" / "contract" / "admin.md"
BUILT_SECTIONS = {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20}  # §18 is the webhooks issue
METHODS = r"(?:GET|POST|PUT|DELETE|PATCH)(?:/(?:GET|POST|PUT|DELETE|PATCH))*"
# `METHOD /api/v1/admin/…` in prose and headings, `| METHOD | `/api/v1/admin/…` | …` in tables; `· /tail` or
# `· `/tail`` adds sibling routes that share everything up to the last segment.
INLINE = re.compile(rf"({METHODS}) `?(/api/v1/admin/[^\s`|?]*)`?((?:\s*·\s*`?/[^\s`|?]+`?)*)")
TABLE = re.compile(rf"^\|\s*({METHODS})\s*\|\s*`(/api/v1/admin/[^`?]*)[^`]*`((?:\s*·\s*`[^`]+`)*)")


def _normal(path: str) -> str:
    """`/api/v1/admin/users/<id>/` and `/admin/users/{user_id}` are the same route."""
    path = path.removeprefix("/api/v1")
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path).rstrip("/") or "/"


def _siblings(base: str, tails: str) -> list[str]:
    paths = [base]
    for tail in re.findall(r"/[^\s`·]+", tails):
        if tail.startswith("/api/v1/"):
            paths.append(tail)
        else:
            paths.append(base.rstrip("/").rsplit("/", 1)[0] + tail)
    return paths


def contract_routes() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    section = 0
    for line in CONTRACT.read_text().splitlines():
        heading = re.match(r"^##\s+(\d+)\.", line)
        if heading:
            section = int(heading.group(1))
        if section not in BUILT_SECTIONS:
            continue
        for pattern in (TABLE, INLINE):
            for methods, base, tails in pattern.findall(line):
                for path in _siblings(base, tails):
                    for method in methods.split("/"):
                        found.add((method, _normal(path)))
            if pattern is TABLE and TABLE.match(line):
                break
    return found


def implemented_routes() -> set[tuple[str, str]]:
    import app  # noqa: F401  (declares every route)
    from chalicelib.http.routing import ROUTES

    return {(method, _normal(spec.path)) for spec in ROUTES for method in spec.methods}


# Routes of the built sections not implemented yet. Keep it honest: this test fails when one of them lands (take it
# off the list) and when a route goes missing that is not on it.
NOT_BUILT: set[tuple[str, str]] = set()


def test_the_contract_parser_reads_the_index_it_should() -> None:
    routes = contract_routes()
    assert ("GET", "/admin/profile") in routes
    assert ("POST", "/admin/users/{}/activate") in routes  # a `· /activate` sibling
    assert ("GET", "/admin/addons/slug/{}") in routes  # a second path in one table cell
    assert ("DELETE", "/admin/access/user-levels/{}") in routes  # `GET/PUT/DELETE`
    assert not any(path.startswith("/admin/webhooks") for _, path in routes)  # §18 is another issue
    assert len(routes) > 140


def test_every_contract_route_of_the_built_sections_exists() -> None:
    missing = contract_routes() - implemented_routes()
    assert missing == NOT_BUILT, sorted(missing ^ NOT_BUILT)


@pytest.mark.parametrize("section", sorted(BUILT_SECTIONS))
def test_each_built_section_has_routes_in_the_contract(section: int) -> None:
    text = CONTRACT.read_text()
    assert re.search(rf"^## {section}\. ", text, re.M), f"admin.md has no section {section}"
