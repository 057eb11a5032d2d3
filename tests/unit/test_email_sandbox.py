"""The sandbox every e-mail is rendered in (admin.md §20): injections get nothing out, abuse does not hang."""

from __future__ import annotations

import time

import pytest

from chalicelib.email_templates.event_types import EVENT_TYPES
from chalicelib.email_templates.sandbox import Parts, TemplateFailed, TemplateInvalid, check, render

DECLARED = frozenset({"name", "amount", "when"})


def text(source: str, **values: object) -> str:
    return render(Parts("", "", source), values, DECLARED).text_body


def html(source: str, **values: object) -> str:
    return render(Parts("", source, ""), values, DECLARED).html_body


def outcome(source: str) -> str:
    """What a template gives: its text, or the reason it was refused (at the check or while rendering)."""
    try:
        check(source)
        return text(source, name="Ada")
    except (TemplateInvalid, TemplateFailed) as refused:
        return f"refused: {refused}"


INJECTIONS = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ lipsum.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ self }}",
    "{{ name.__class__ }}",
    "{{ name['__class__'] }}",
    "{{ name|attr('__class__') }}",
    "{{ request.application.__globals__ }}",
    "{{ config.items() }}",
    "{% import 'os' as os %}{{ os.popen('id') }}",
    "{% from 'os' import popen %}{{ popen('id') }}",
    "{% include '/etc/passwd' %}",
    "{% extends '/etc/passwd' %}",
    "{% set x = name.__class__ %}{{ x }}",
    "{% for c in ''.__class__.__mro__ %}{{ c }}{% endfor %}",
    "{% macro m() %}{{ caller }}{% endmacro %}{{ m() }}",
    "{{ name.format(name) }}",
    "{{ '{0.__class__}'.format(name) }}",
    "{% autoescape false %}{{ name }}{% endautoescape %}",
    "{{ range(10) }}",
    "{{ dict(a=1) }}",
    "{{ name|safe }}",
]


@pytest.mark.parametrize("source", INJECTIONS)
def test_an_injection_gets_nothing_out(source: str) -> None:
    got = outcome(source)
    assert got == "" or got.startswith("refused: "), got
    for leak in ("<class", " at 0x", "TemplateReference", "<module", "<function", "root:", "uid=", "builtins"):
        assert leak not in got, got


RESOURCE_ABUSE = [
    "{{ range(10**9)|list }}",
    "{{ 'x' * 10**9 }}",
    "{{ name * 1000000000 }}",
    "{{ [1] * 10**9 }}",
    "{{ 9**9**9 }}",
    "{{ (999999**100)**100 }}",
    "{{ '%999999999s' % name }}",
    "{{ name|center(999999999) }}",
    "{{ name|indent(999999999) }}",
    "{{ name|urlencode|urlencode|urlencode|urlencode|urlencode|urlencode|urlencode|urlencode|urlencode }}",
    "{{ name|replace('', name)|replace('', name)|replace('', name) }}",
    "{% set a = name ~ name %}{% set b = a ~ a %}{% set c = b ~ b %}{{ c }}",
    "{% for a in name %}{% for b in name %}{% for c in name %}{% endfor %}{% endfor %}{% endfor %}",
    "{{ 1" + "0" * 6000 + " }}",
    "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}",
    "{{ " + "(" * 199 + "1" + ")" * 199 + " }}",  # past Python's own limit on the compiled code
    "{% if name %}" * 150 + "{% endif %}" * 150,
    "{{ " + "[" * 199 + "]" * 199 + " }}",
]


@pytest.mark.parametrize("source", RESOURCE_ABUSE, ids=range(len(RESOURCE_ABUSE)))
def test_resource_abuse_is_refused_quickly(source: str) -> None:
    started = time.monotonic()
    got = outcome(source)
    assert got.startswith("refused: "), got[:200]
    assert time.monotonic() - started < 2


def test_only_declared_variables_are_seen_and_an_undeclared_one_renders_empty() -> None:
    parts = Parts("Hi {{ name }}", "", "{{ name }}|{{ secret }}|{{ undeclared }}|{{ amount }}")
    rendered = render(parts, {"name": "Ada", "secret": "hunter2", "amount": "9.99"}, DECLARED)
    assert rendered.subject == "Hi Ada"
    assert rendered.text_body == "Ada|||9.99"


def test_html_is_autoescaped_and_text_is_not() -> None:
    value = "<script>alert('x')</script> & co"
    assert html("<p>{{ name }}</p>", name=value) == "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co</p>"
    assert text("{{ name }}", name=value) == value


def test_a_subject_is_one_line_whatever_the_values() -> None:
    rendered = render(Parts("Hello {{ name }}", "", ""), {"name": "Ada\r\nBcc: all@example.com"}, DECLARED)
    assert rendered.subject == "Hello Ada Bcc: all@example.com"


def test_what_a_template_may_say() -> None:
    source = (
        "{# a comment #}{% if amount|float > 10 %}big"
        "{% elif name is defined %}{{ name|upper|truncate(5, true, '', 0) }}"
        "{% else %}none{% endif %} {{ when[:10] }} {{ (amount|float * 2)|round(2) }} {{ name ~ '!' }}"
        "{{ ' ' ~ [1, 2]|length }}{% raw %}{{ kept }}{% endraw %}"
    )
    check(source)
    assert text(source, name="Adalbert", amount="2.5", when="2026-05-01T09:00:00Z") == (
        "ADALB 2026-05-01 5.0 Adalbert! 2{{ kept }}"
    )


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("{{ name", "unexpected end of template"),
        ("{% if %}", "Expected an expression"),
        ("{{ name|nosuchfilter }}", "the filter 'nosuchfilter' is not allowed"),
        ("{% for x in name %}{% endfor %}", "loops are not allowed"),
        ("{{ name.upper }}", "attribute access"),
    ],
)
def test_a_bad_template_is_refused_with_its_reason(source: str, reason: str) -> None:
    with pytest.raises(TemplateInvalid, match=reason):
        check(source)


def test_a_template_part_is_at_most_100_kb() -> None:
    check("é" * 50_000)
    with pytest.raises(TemplateInvalid, match="longer than 100000 bytes"):
        check("é" * 50_001)


def test_a_body_longer_than_the_cap_is_refused_and_a_subject_is_cut() -> None:
    long_value = "x" * 10_000
    with pytest.raises(TemplateFailed, match="longer than 90000 characters"):
        text("{{ name }}" * 10, name=long_value)
    assert len(render(Parts("{{ name }}", "", ""), {"name": long_value}, DECLARED).subject) == 998


def test_arithmetic_on_an_undefined_value_fails_while_rendering() -> None:
    with pytest.raises(TemplateFailed, match="undefined"):
        text("{{ missing + 1 }}")


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_built_in_default_is_a_valid_template_of_its_declared_variables(event_type: str) -> None:
    declared = EVENT_TYPES[event_type]
    for part in (declared.default.subject, declared.default.html_body, declared.default.text_body):
        check(part)
    rendered = render(declared.default, declared.examples(), declared.names)
    assert rendered.subject and rendered.text_body


def test_every_mail_the_consumer_sends_has_an_event_type_with_a_default() -> None:
    from chalicelib.events.consumers import BY_NAME
    from chalicelib.notifications.consumer import MAILS

    assert set(MAILS) == set(EVENT_TYPES) == set(BY_NAME["mail"].event_types)
