"""The import graph of `chalicelib` has no cycle between layers (issue 6 §3).

Edges are what a module imports at its top level (`if TYPE_CHECKING:` blocks left out), and — for the lazy graph —
also what its functions import and the modules it names in strings (importlib registries such as the payment
providers', `lazy_module("…")`). A cycle there is a loop a lazy import only hides: `payments.capture → providers →
sandbox → capture` was one.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MONEY = ("chalicelib.checkout", "chalicelib.invoices", "chalicelib.payments")


def _modules() -> dict[str, Path]:
    found = {}
    for path in (ROOT / "chalicelib").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _imports(path: Path, lazy: bool) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if lazy:
                    visit(node.body)
                continue
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    found.add(submodule if submodule in MODULES else node.module)
            for name in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, name, None)
                if isinstance(children, list):
                    visit(children)

    visit(tree.body)
    if lazy:
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("chalicelib."):
                found.add(node.value.split(":")[0])
    return {name for name in found if name in MODULES}


def _cycles(lazy: bool) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph = {name: _imports(path, lazy) - {name} for name, path in MODULES.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def strong(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                strong(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            strong(node)
    return cycles


def test_no_module_level_import_cycle() -> None:
    assert _cycles(lazy=False) == []


def test_no_cycle_through_the_money_path_even_counting_lazy_imports() -> None:
    through_money = [c for c in _cycles(lazy=True) if any(m.startswith(MONEY) for m in c)]
    assert through_money == []
