"""The template engine every e-mail is rendered with (contract admin.md §20): Jinja2's sandbox, narrowed further.

A template is written by an administrator and filled with data a customer typed (names, addresses), so rendering it
must reveal nothing of the process, read nothing from disk and finish quickly whatever it says. Three layers:

- **What a template may say** is checked on its syntax tree before it is stored or rendered: output, `if`/`elif`/
  `else`, comments, literals, comparisons and arithmetic, slices of a value (`due_date[:10]`) and a short list of
  filters whose output is at most a constant times their input. No loops, assignments, macros, calls, attribute
  access, imports, includes, extends or blocks — so a template's work is linear in its own size and its values'
  (no `{% for %}` over `{% for %}`, no string doubled by `{% set %}` twenty times), and nothing can reach a Python
  object's attributes or a file.
- **What it can see**: only the variables declared for its event type, as text or numbers; the environment has no
  globals (`range`, `cycler`, `joiner`, `lipsum`, `namespace`, `dict`), no loader and no `self`. An undeclared
  variable renders empty.
- **The sandbox** (`SandboxedEnvironment`) still stands behind the checks: unsafe attributes are refused, and the
  operators that can blow up (`*`, `%` on text, `**` on large numbers) are intercepted at run time.

`html_body` is autoescaped; subjects and text bodies are not. Jinja2 is imported on first use, not on a cold start.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment, Template
    from jinja2.nodes import Node

# One part of a template (subject, html_body or text_body), in UTF-8: three of them fit one DynamoDB item (400 KB).
MAX_SOURCE_BYTES = 100_000
MAX_OUTPUT_CHARS = 90_000  # one rendered body: the notification log keeps the text one in a DynamoDB item
MAX_SUBJECT_CHARS = 998  # one header line (RFC 5322)
MAX_VALUE_CHARS = 10_000  # one variable's text
MAX_POWER_BASE = 10**6
MAX_POWER_EXPONENT = 100
MAX_NUMBER_BITS = 4_000

# Filters whose output is bounded by a constant times their input, so no chain of them can grow a value
# exponentially (`urlencode`, `replace`, `join`, `center`, `indent`, `format`, `wordwrap` can; `safe` would let a
# customer's text into html_body unescaped).
FILTERS = frozenset(
    {
        "abs",
        "capitalize",
        "count",
        "d",
        "default",
        "e",
        "escape",
        "first",
        "float",
        "int",
        "last",
        "length",
        "lower",
        "round",
        "string",
        "striptags",
        "title",
        "trim",
        "truncate",
        "upper",
        "wordcount",
    }
)
TESTS = frozenset(
    {
        "defined",
        "undefined",
        "none",
        "number",
        "string",
        "boolean",
        "true",
        "false",
        "integer",
        "float",
        "lower",
        "upper",
        "divisibleby",
        "odd",
        "even",
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "in",
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "equalto",
        "sameas",
    }
)
# Names the compiler gives a meaning of its own (`self` is the template object itself).
RESERVED_NAMES = frozenset({"self", "loop", "caller", "varargs", "kwargs"})
ALLOWED_NODES = frozenset(
    {
        "Template",
        "Output",
        "TemplateData",
        "Const",
        "Name",
        "If",
        "CondExpr",
        "And",
        "Or",
        "Not",
        "Neg",
        "Pos",
        "Compare",
        "Operand",
        "Concat",
        "Filter",
        "Test",
        "Keyword",
        "Add",
        "Sub",
        "Mul",
        "Div",
        "FloorDiv",
        "Mod",
        "Pow",
        "List",
        "Tuple",
        "Getitem",
        "Slice",
    }
)
NODE_WORDS = {
    "For": "loops",
    "Macro": "macros",
    "CallBlock": "call blocks",
    "Call": "function calls",
    "Assign": "assignments",
    "AssignBlock": "assignments",
    "With": "with blocks",
    "Import": "imports",
    "FromImport": "imports",
    "Include": "includes",
    "Extends": "extends",
    "Block": "blocks",
    "Getattr": "attribute access",
    "FilterBlock": "filter blocks",
    "ScopedEvalContextModifier": "autoescape blocks",
    "EvalContextModifier": "autoescape blocks",
    "Dict": "dict literals",
}


class TemplateInvalid(Exception):
    """A template that cannot be stored: its syntax, or something it may not say. `str()` is the reason."""


class TemplateFailed(Exception):
    """A valid template that failed while rendering (an operation refused, a filter given a wrong value)."""


@dataclass(frozen=True)
class Parts:
    """A template's three sources."""

    subject: str
    html_body: str
    text_body: str


@dataclass(frozen=True)
class Rendered:
    subject: str
    html_body: str
    text_body: str


def check(source: str) -> None:
    """Raise `TemplateInvalid` unless `source` parses and says only what a mail template may say."""
    _compiled(source, html=False)


def render(parts: Parts, variables: Mapping[str, Any], declared: frozenset[str]) -> Rendered:
    """Render the three parts with the declared variables of `variables` (others are dropped). The subject is one
    line: line breaks in it (a header injection) become spaces, and it is cut at MAX_SUBJECT_CHARS."""
    values = {name: _value(value) for name, value in variables.items() if name in declared}
    subject = _render(parts.subject, values, html=False)
    return Rendered(
        subject=" ".join(subject.split())[:MAX_SUBJECT_CHARS],
        html_body=_render(parts.html_body, values, html=True),
        text_body=_render(parts.text_body, values, html=False),
    )


def _value(value: Any) -> Any:
    """What a template sees of a value: text (at most MAX_VALUE_CHARS; a list or an object as its JSON), a number or
    a boolean; nothing else."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict | list):
        from chalicelib.core.jsontext import dumps

        return dumps(value)[:MAX_VALUE_CHARS]
    return str(value)[:MAX_VALUE_CHARS]


def _render(source: str, values: dict[str, Any], *, html: bool) -> str:
    if not source:
        return ""
    template = _compiled(source, html=html)
    pieces: list[str] = []
    size = 0
    try:
        for piece in template.generate(values):
            size += len(piece)
            if size > MAX_OUTPUT_CHARS:
                raise TemplateFailed(f"the output is longer than {MAX_OUTPUT_CHARS} characters")
            pieces.append(piece)
    except TemplateFailed:
        raise
    except Exception as exc:  # the sandbox's refusals, undefined arithmetic, a filter given a wrong value
        raise TemplateFailed(_message(exc)) from exc
    return "".join(pieces)


def _message(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


@functools.lru_cache(maxsize=64)
def _compiled(source: str, *, html: bool) -> Template:
    from jinja2 import TemplateError

    if len(source.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
        raise TemplateInvalid(f"longer than {MAX_SOURCE_BYTES} bytes")
    env = _environment(html)
    try:
        tree = env.parse(source)
        _check_tree(tree)
        return env.from_string(tree)
    except TemplateInvalid:
        raise
    except TemplateError as exc:
        raise TemplateInvalid(exc.message or type(exc).__name__) from exc
    except (RecursionError, MemoryError, SyntaxError) as exc:  # the parser's, or Python's on the compiled code
        raise TemplateInvalid("too deeply nested") from exc
    except Exception as exc:  # a literal Python cannot hold (a number of 5,000 digits), or any other refusal
        raise TemplateInvalid(_message(exc)) from exc


def _check_tree(tree: Node) -> None:
    from jinja2 import nodes

    for node in (tree, *tree.find_all(nodes.Node)):
        kind = type(node).__name__
        if kind not in ALLOWED_NODES:
            raise TemplateInvalid(f"{NODE_WORDS.get(kind, kind)} are not allowed (line {node.lineno})")
        if isinstance(node, nodes.Name) and (node.ctx != "load" or node.name in RESERVED_NAMES):
            raise TemplateInvalid(f"'{node.name}' is not a variable (line {node.lineno})")
        if isinstance(node, nodes.Filter) and node.name not in FILTERS:
            raise TemplateInvalid(f"the filter '{node.name}' is not allowed (line {node.lineno})")
        if isinstance(node, nodes.Test) and node.name not in TESTS:
            raise TemplateInvalid(f"the test '{node.name}' is not allowed (line {node.lineno})")
        if isinstance(node, nodes.Filter | nodes.Test) and (node.dyn_args is not None or node.dyn_kwargs is not None):
            raise TemplateInvalid(f"*args and **kwargs are not allowed (line {node.lineno})")
        if isinstance(node, nodes.Getitem) and not _plain_index(node.arg):
            raise TemplateInvalid(f"only a number or a slice may index a value (line {node.lineno})")


def _plain_index(arg: Node) -> bool:
    from jinja2 import nodes

    if isinstance(arg, nodes.Slice):
        return True
    return isinstance(arg, nodes.Const) and type(arg.value) is int


@functools.cache
def _environment(html: bool) -> Environment:
    from jinja2 import Undefined
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import SandboxedEnvironment

    class MailSandbox(SandboxedEnvironment):
        # Routed through call_binop at run time (and so never folded at compile time, where `9**9**9` would hang).
        intercepted_binops = frozenset({"*", "**", "%", "//", "/", "+", "-"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator in ("*", "%") and (_is_sequence(left) or _is_sequence(right)):
                raise SecurityError(f"'{operator}' on text or lists is not allowed")
            if operator == "**" and not _small_power(left, right):
                raise SecurityError("the power is too large")
            result = super().call_binop(context, operator, left, right)
            if isinstance(result, int) and result.bit_length() > MAX_NUMBER_BITS:
                raise SecurityError("the number is too large")
            return result

    env = MailSandbox(
        autoescape=html,
        undefined=Undefined,
        keep_trailing_newline=True,
        auto_reload=False,
        cache_size=0,
    )
    env.globals.clear()
    env.filters = {name: f for name, f in env.filters.items() if name in FILTERS}
    env.tests = {name: t for name, t in env.tests.items() if name in TESTS}
    return env


def _is_sequence(value: Any) -> bool:
    return isinstance(value, str | bytes | list | tuple)


def _small_power(base: Any, exponent: Any) -> bool:
    numbers = (int, float)
    if not isinstance(base, numbers) or not isinstance(exponent, numbers):
        return True  # the operator itself refuses what is not a number
    return abs(base) <= MAX_POWER_BASE and abs(exponent) <= MAX_POWER_EXPONENT
