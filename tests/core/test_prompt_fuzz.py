"""Random and hostile prompt files: the parser either loads them or raises a UserError that
names the file — never any other exception."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prompteur.errors import UserError
from prompteur.prompt import parse_prompt

FRAGMENTS = [
    "---\n",
    "name: x\n",
    "inputs:\n",
    "  a:\n",
    "    kind: string\n",
    "    kind: integer\n",
    "    default: 3\n",
    "model:\n",
    "  id: local\n",
    "  parameters:\n",
    "    temperature: 9\n",
    '    stop: ["\\n"]\n',
    "tags: [a, b\n",
    "examples:\n  - q: 1\n",
    "system:\n",
    "user:\n",
    "assistant:\n",
    "sytem:\n",
    "human:\n",
    "{{ a }}\n",
    "{{ b }}\n",
    "{% for x in examples %}",
    "{% endfor %}\n",
    "{% if a %}",
    "{% endif %}",
    "{{ ''.__class__ }}\n",
    "{{ a * 99999999 }}",
    "{#",
    "#}",
    "{{",
    "}}",
    "{%",
    "%}",
    ": : :\n",
    "- - -\n",
    "\t\n",
    "\x00",
    "\ufeff",
    "&anchor\n",
    "*anchor\n",
    "!!python/object:os.system\n",
    "key: !!binary AAAA\n",
    "[[[[[[[[[[\n",
    "a: b: c\n",
    "Review: good\n",
    "Sentiment:\n",
]

hostile_files = st.lists(st.sampled_from(FRAGMENTS), max_size=25).map("".join)
any_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=400)
input_values = st.dictionaries(
    st.sampled_from(["a", "b", "c"]),
    st.one_of(
        st.text(max_size=50),
        st.integers(),
        st.booleans(),
        st.none(),
        st.lists(st.integers(), max_size=3),
    ),
    max_size=3,
)


def _load_and_render(text: str, values: dict) -> None:
    try:
        prompt = parse_prompt(text, name="fuzz")
    except UserError as exc:
        assert exc.file == "<fuzz>"
        return
    try:
        messages = prompt.render(values)
    except UserError:
        return
    for m in messages:
        assert m.role in {"system", "user", "assistant"}
        assert "\ue000" not in m.content and "\ue001" not in m.content


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_files, input_values)
def test_hostile_files_never_crash(text: str, values: dict) -> None:
    _load_and_render(text, values)


@settings(max_examples=300, deadline=None)
@given(any_text, input_values)
def test_random_text_never_crashes(text: str, values: dict) -> None:
    _load_and_render(text, values)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=string.printable + "éà\u2028\ue000\ue001", max_size=200))
def test_any_input_value_comes_out_verbatim(value: str) -> None:
    prompt = parse_prompt("system:\nRules.\nuser:\n[{{ v }}]", name="fuzz")
    messages = prompt.render({"v": value})
    assert [m.role for m in messages] == ["system", "user"]
    clean = value.replace("\ue000", "").replace("\ue001", "")
    # As in Prompty, the turn is read line by line (str.splitlines: \r, \u2028… end a line too)
    # and trimmed of blank lines only.
    expected = "\n".join(f"[{clean}]".splitlines()).strip("\n")
    assert messages[1].content == expected
