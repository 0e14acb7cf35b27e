"""Template bombs: every one stops with a UserError naming the line, quickly, while ordinary
templates (loops, filters, macros) render as before."""

from __future__ import annotations

import time

import pytest

from prompteur.errors import UserError
from prompteur.prompt import parse_prompt

BOMBS = {
    "nested loops": "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}"
    "{% endfor %}",
    "silent nested loops": "{% for a in range(100000) %}{% for b in range(100000) if false %}"
    "{% endfor %}{% endfor %}",
    "~ doubling": "{% set ns = namespace(x='ab') %}{% for i in range(64) %}"
    "{% set ns.x = ns.x ~ ns.x %}{% endfor %}{{ ns.x|length }}",
    "+ doubling": "{% set ns = namespace(x='ab') %}{% for i in range(64) %}"
    "{% set ns.x = ns.x + ns.x %}{% endfor %}{{ ns.x|length }}",
    "format filter pad": "{{ '%1000000000s'|format(1) }}",
    "% operator pad": "{{ '%1000000000d' % 1 }}",
    "% precision": "{{ '%.1000000000f' % 1.0 }}",
    "% star width": "{{ '%*d' % (1000000000, 1) }}",
    ".format pad": "{{ '{:>1000000000}'.format(1) }}",
    ".format nested width": "{{ '{:>{}}'.format(1, 1000000000) }}",
    "format_map": "{{ '{a:>1000000000}'.format_map({'a': 1}) }}",
    "ljust": "{{ 'x'.ljust(10**9) }}",
    "zfill": "{{ '1'.zfill(10**9) }}",
    "center filter": "{{ 'x'|center(1000000000) }}",
    "indent": "{{ ('a\\n' * 100000)|indent(1000) }}",
    "replace growth": "{{ ('x'*1000000)|replace('', 'yyyyyyyyyy') }}",
    "str.replace growth": "{{ ('x'*1000000).replace('', 'yyyyyyyyyy') }}",
    "join filter": "{{ range(100000)|join('x'*1000) }}",
    "str.join": "{{ ('x'*1000).join(range(100000)|map('string')) }}",
    "batch fill": "{{ range(3)|batch(1000000000, 'x')|list|length }}",
    "slice": "{{ range(3)|slice(1000000000)|list|length }}",
    "recursive macro": "{% macro f(n) %}{{ f(n+1) }}{% endmacro %}{{ f(0) }}",
    "mul": "{{ 'x' * 10**9 }}",
    "list mul": "{{ ([1] * 10**8)|length }}",
    "pow tower": "{% set a = 2**64 %}{% set b = a**64 %}{% set c = b**64 %}"
    "{% set d = c**64 %}{% set e = d**64 %}{{ e|string|length }}",
    "int squaring": "{% set ns = namespace(x=2**64) %}{% for i in range(40) %}"
    "{% set ns.x = ns.x * ns.x %}{% endfor %}{{ 1 }}",
    "list extend doubling": "{% set l = [1] %}{% for i in range(64) %}{{ l.extend(l) }}"
    "{% endfor %}",
    "deep expression": "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}",
    "captured block": "{% set x %}{% for i in range(100000) %}{% for j in range(100) %}"
    "xxxxxxxxxxxxxxxxxxxx{% endfor %}{% endfor %}{% endset %}{{ x|length }}",
    "static text in a loop": "{% for i in range(100000) %}" + "y" * 10000 + "{% endfor %}",
    "recursive loop": "{% for i in [[1]] recursive %}{{ loop([[1]] * 100000) }}{% endfor %}",
    "wordwrap of a huge text": "{{ ('word ' * 400000)|wordwrap(5)|length }}",
    "dict grown in place": "{% set d = {} %}{% for i in range(40) %}"
    "{{ d.update(dict.fromkeys(range(i * 100000, (i + 1) * 100000))) }}{% endfor %}",
}


@pytest.mark.parametrize("body", list(BOMBS.values()), ids=list(BOMBS))
def test_a_template_bomb_stops_with_a_user_error(body: str) -> None:
    start = time.monotonic()
    with pytest.raises(UserError) as caught:
        parse_prompt(f"---\nname: bomb\n---\nuser:\n{body}\n", name="bomb").render({})
    elapsed = time.monotonic() - start
    assert elapsed < 5, f"took {elapsed:.1f} s"
    assert caught.value.field == "body"


def test_the_error_names_the_line_of_the_template() -> None:
    text = "---\nname: bomb\n---\nuser:\nhello\n{{ 'x' * 10**9 }}\n"
    with pytest.raises(UserError) as caught:
        parse_prompt(text, name="bomb").render({})
    assert caught.value.line == 6
    assert "10" in caught.value.message or "repeated" in caught.value.message


ORDINARY = [
    ("{% for i in range(2000) %}{{ i }},{% endfor %}", None),
    ("{{ items|join(', ') }}", "a, b, c"),
    ("{{ '%5s|%-4d|%.2f' % ('ab', 7, 3.14159) }}", "   ab|7   |3.14"),
    ("{{ '{:>6}|{:^5}|'.format('x', 'y') }}", "     x|  y  |"),
    ("{{ 'ab'|center(6) }}|{{ 'x'.ljust(3) }}|", "  ab  |x  |"),
    (
        "{% macro g(n) %}{{ n }}{% if n > 0 %}{{ g(n - 1) }}{% endif %}{% endmacro %}{{ g(5) }}",
        "543210",
    ),
    ("{{ (text ~ '!') * 3 }}", "hi!hi!hi!"),
    ("{% for row in items|batch(2) %}[{{ row|join }}]{% endfor %}", "[ab][c]"),
    ("{{ 'a-b-c'.replace('-', '+') }}", "a+b+c"),
    ("{% for x in items recursive %}{{ x }}{% endfor %}", "abc"),
]


@pytest.mark.parametrize(("body", "expected"), ORDINARY)
def test_ordinary_templates_render_as_before(body: str, expected: str | None) -> None:
    prompt = parse_prompt(
        "---\nname: ok\ninputs:\n  items: {kind: array, items: {kind: string}}\n"
        "  text: {kind: string}\n---\n"
        f"user:\n{body}\n",
        name="ok",
    )
    (message,) = prompt.render({"items": ["a", "b", "c"], "text": "hi"})
    if expected is None:
        assert message.content.startswith("0,1,2,") and message.content.endswith("1999,")
    else:
        assert message.content == expected


def test_a_role_marker_inside_a_loop_still_opens_a_turn() -> None:
    # The loop's budget tick is a statement, not output: the rendered text is unchanged, so
    # markers produced by a loop still split turns.
    prompt = parse_prompt(
        "---\nname: t\ninputs:\n  items: {kind: array, items: {kind: string}}\n---\n"
        "system:\nHelp.\n{% for m in items %}\nuser:\n{{ m }}\nassistant:\nok\n{% endfor %}\n",
        name="t",
    )
    messages = prompt.render({"items": ["one", "two"]})
    assert [m.role for m in messages] == ["system", "user", "assistant", "user", "assistant"]
    assert [m.content for m in messages][1:4:2] == ["one", "two"]
