"""Deterministic checks on real outputs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from prompteur.checks import CheckContext, build, levenshtein_distance, rouge_l
from prompteur.errors import UserError


def run(spec: dict[str, Any] | str, output: str, **ctx: Any) -> tuple[bool, float, str]:
    res = asyncio.run(build(spec)(CheckContext(output=output, **ctx)))
    return res.passed, res.score, res.reason


@pytest.mark.parametrize(
    ("spec", "output", "expected", "passed"),
    [
        ({"type": "equals", "value": "positive"}, " positive\n", None, True),
        ({"type": "equals"}, "negative", "positive", False),
        ({"type": "equals", "normalize": True}, "Rome.", "rome", True),
        ({"type": "equals", "value": ["rome", "Roma"]}, "Roma", None, True),
        ({"type": "contains", "value": "Paris"}, "It is Paris.", None, True),
        ({"type": "contains", "value": "paris"}, "It is Paris.", None, False),
        ({"type": "icontains", "value": "paris"}, "It is Paris.", None, True),
        ({"type": "contains-any", "value": ["a", "zz"]}, "abc", None, True),
        ({"type": "contains-all", "value": ["a", "zz"]}, "abc", None, False),
        ({"type": "icontains-all", "value": ["A", "B"]}, "abc", None, True),
        ({"type": "starts-with", "value": "Yes"}, "  Yes, sure", None, True),
        ({"type": "regex", "value": r"^\d{5}$"}, "75011", None, True),
        ({"type": "regex", "value": "bonjour", "flags": "i"}, "BONJOUR", None, True),
        ({"type": "not-contains", "value": "sorry"}, "Here it is", None, True),
        ({"type": "not-icontains", "value": "sorry"}, "SORRY, no", None, False),
        ({"type": "is-json"}, 'Sure: {"a": 1}', None, True),
        ({"type": "is-json", "strict": True}, 'Sure: {"a": 1}', None, False),
        ({"type": "length", "max": 10}, "short", None, True),
        ({"type": "length", "min": 10}, "short", None, False),
        ({"type": "word-count", "min": 2, "max": 3}, "one two three", None, True),
        ({"type": "levenshtein", "threshold": 2}, "colour", "color", True),
        (
            {"type": "rouge-l", "threshold": 0.6},
            "the cat sat on the mat",
            "the cat is on the mat",
            True,
        ),
        ({"type": "latency", "max_ms": 100}, "x", None, False),
    ],
)
def test_checks(spec: dict[str, Any], output: str, expected: Any, passed: bool) -> None:
    ok, _, _ = run(spec, output, expected=expected, latency_s=0.25)
    assert ok is passed


def test_json_schema_reports_where() -> None:
    schema = {
        "type": "object",
        "properties": {"label": {"enum": ["pos", "neg"]}},
        "required": ["label"],
    }
    assert run({"type": "json-schema", "value": schema}, '{"label": "pos"}')[0]
    ok, _, reason = run({"type": "json-schema", "value": schema}, '```json\n{"label": "meh"}\n```')
    assert not ok and reason.startswith("label:")
    with pytest.raises(UserError, match="invalid JSON Schema"):
        build({"type": "json-schema", "value": {"type": "nonsense"}})


def test_python_check_from_file(tmp_path: Path) -> None:
    mod = tmp_path / "grader.py"
    mod.write_text(
        "def short(output, ctx):\n    return (len(output) < 5, 'len ' + str(len(output)))\n"
        "def half(output, ctx):\n    return 0.5\n"
    )
    assert run({"type": "python", "value": f"{mod}:short"}, "abc") == (True, 1.0, "len 3")
    assert run({"type": "python", "value": f"{mod}:half", "threshold": 0.4}, "x")[0]
    with pytest.raises(UserError, match="no function"):
        build({"type": "python", "value": f"{mod}:missing"})


def test_cost_unknown_fails_honestly() -> None:
    assert run({"type": "cost", "max_usd": 0.01}, "x", cost=None)[0] is False
    assert run({"type": "cost", "max_usd": 0.01}, "x", cost=0.001)[0] is True


def test_negation_inverts_score_and_weight_is_kept() -> None:
    check = build({"type": "not-equals", "value": "a", "weight": 3})
    res = asyncio.run(check(CheckContext(output="a")))
    assert (res.passed, res.score, res.weight, res.name) == (False, 0.0, 3.0, "not-equals")


def test_bad_specs_are_user_errors() -> None:
    with pytest.raises(UserError, match="did you mean 'contains'"):
        build({"type": "contians", "value": "x"})
    with pytest.raises(UserError, match="bad parameters"):
        build({"type": "contains", "valeu": "x"})
    with pytest.raises(UserError, match="invalid regular expression"):
        build({"type": "regex", "value": "("})
    with pytest.raises(UserError, match="give min, max"):
        build({"type": "length"})


def test_helpers() -> None:
    assert levenshtein_distance("kitten", "sitting") == 3
    assert rouge_l("a b c d", "a b c d") == 1.0
    assert rouge_l("a b", "c d") == 0.0
