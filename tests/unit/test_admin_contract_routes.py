"""The admin API against its contract: every route `admin.md` lists in the sections this product builds exists in
the route table — read from the contract text itself, so a route the contract adds or a route we drop shows up here.

The contract lives beside the repository (`../shared/contract/`, or `VBWD_CONTRACT_DIR`), which a clone elsewhere
does not have; `tests/unit/admin_contract_routes.json` is the index as last read from it. Where the contract is
present the index must equal it (regenerate with `python -m tests.unit.test_admin_contract_routes`); everywhere the
route table must hold every route of the index."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = Path(os.environ.get("VBWD_CONTRACT_DIR", ROOT.parent / "shared" / "contract")) / "admin.md"
INDEX = Path(__file__).with_name("admin_contract_routes.json")
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


def indexed_routes() -> set[tuple[str, str]]:
    return {(method, path) for method, path in json.loads(INDEX.read_text())}


def write_index() -> None:
    rows = ",\n".join(f"  {json.dumps(list(route))}" for route in sorted(contract_routes()))
    INDEX.write_text(f"[\n{rows}\n]\n")


def implemented_routes() -> set[tuple[str, str]]:
    import app  # noqa: F401  (declares every route)
    from chalicelib.http.routing import ROUTES

    return {(method, _normal(spec.path)) for spec in ROUTES for method in spec.methods}


# Routes of the built sections not implemented yet. Keep it honest: this test fails when one of them lands (take it
# off the list) and when a route goes missing that is not on it.
NOT_BUILT: set[tuple[str, str]] = set()


needs_contract = pytest.mark.skipif(not CONTRACT.exists(), reason="the contract is not beside this clone")


@needs_contract
def test_the_kept_index_is_the_contract_s() -> None:
    assert indexed_routes() == contract_routes(), "run python -m tests.unit.test_admin_contract_routes"


@needs_contract
def test_the_contract_parser_reads_the_index_it_should() -> None:
    routes = contract_routes()
    assert ("GET", "/admin/profile") in routes
    assert ("POST", "/admin/users/{}/activate") in routes  # a `· /activate` sibling
    assert ("GET", "/admin/addons/slug/{}") in routes  # a second path in one table cell
    assert ("DELETE", "/admin/access/user-levels/{}") in routes  # `GET/PUT/DELETE`
    assert not any(path.startswith("/admin/webhooks") for _, path in routes)  # §18 is another issue
    assert len(routes) > 140


def test_every_contract_route_of_the_built_sections_exists() -> None:
    routes = indexed_routes()
    assert len(routes) > 140
    missing = routes - implemented_routes()
    assert missing == NOT_BUILT, sorted(missing ^ NOT_BUILT)


@needs_contract
@pytest.mark.parametrize("section", sorted(BUILT_SECTIONS))
def test_each_built_section_has_routes_in_the_contract(section: int) -> None:
    text = CONTRACT.read_text()
    assert re.search(rf"^## {section}\. ", text, re.M), f"admin.md has no section {section}"


if __name__ == "__main__":
    write_index()
