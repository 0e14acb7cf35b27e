"""Suite files: inline cases, streamed datasets, and errors that name file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prompteur.errors import UserError
from prompteur.suite import load_suite


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_inline_and_dataset_cases(tmp_path: Path) -> None:
    write(
        tmp_path / "rows.jsonl",
        json.dumps({"inputs": {"review": "meh"}, "expected": "negative", "id": "r1"})
        + "\n\n"
        + json.dumps({"review": "great", "expected": "positive", "tags": ["x"]})
        + "\n",
    )
    write(
        tmp_path / "rows.csv", 'review,expected,tags\nbad,negative,a;b\n"good, really",positive,\n'
    )
    suite = load_suite(
        write(
            tmp_path / "s.yaml",
            """
prompts: sentiment
repeat: 2
checks: [{type: equals}]
cases:
  - inputs: {review: "Broke."}
    expected: negative
dataset: [rows.jsonl, rows.csv]
""",
        )
    )
    cases = list(suite.cases())
    assert suite.spec.prompts == ["sentiment"] and suite.spec.repeat == 2
    assert [c.inputs for c in cases] == [
        {"review": "Broke."},
        {"review": "meh"},
        {"review": "great"},
        {"review": "bad"},
        {"review": "good, really"},
    ]
    assert cases[1].id == "r1" and cases[2].tags == ("x",) and cases[3].tags == ("a", "b")
    assert cases[0].source.endswith("s.yaml:6")
    assert cases[4].source.endswith("rows.csv:3")
    # ids are stable across loads (resume and compare rely on it) and differ between cases
    again = [c.id for c in load_suite(tmp_path / "s.yaml").cases()]
    assert again == [c.id for c in cases] and len(set(again)) == 5


def test_datasets_are_streamed(tmp_path: Path) -> None:
    rows = tmp_path / "big.jsonl"
    with rows.open("w") as fh:
        for i in range(50_000):
            fh.write(json.dumps({"n": i}) + "\n")
    suite = load_suite(write(tmp_path / "s.yaml", "prompts: [p]\ndataset: big.jsonl\n"))
    it = suite.cases()
    first = next(it)
    assert first.inputs == {"n": 0}
    assert suite.count_cases() == 50_000


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        (
            "prompts: [p]\ncases:\n  - inputs: {a: 1}\n    expectd: x\n",
            4,
            "cases[0].expectd",
            "unknown key",
        ),
        ("prompts: [p]\nrepeat: 0\ncases: [{inputs: {}}]\n", 2, "repeat", "greater than"),
        (
            "prompts: [p]\nchecks:\n  - type: contians\ncases: [{inputs: {}}]\n",
            3,
            "checks[0].type",
            "unknown check type",
        ),
        (
            "prompts: [p]\ncases:\n  - inputs: {}\n    checks:\n"
            "      - {type: regex, value: '('}\n",
            5,
            "cases[0].checks[0]",
            "invalid regular expression",
        ),
        ("prompts: [p]\n", None, "cases", "no cases"),
        ("cases: [{inputs: {}}]\n", 1, "prompts", "missing"),
    ],
)
def test_errors_name_line_and_field(
    tmp_path: Path, text: str, line: int | None, field: str, message: str
) -> None:
    with pytest.raises(UserError) as e:
        load_suite(write(tmp_path / "s.yaml", text))
    assert message in e.value.message
    assert e.value.field == field
    if line is not None:
        assert e.value.line == line


def test_bad_dataset_rows_name_their_line(tmp_path: Path) -> None:
    write(tmp_path / "rows.jsonl", '{"a": 1}\n{"a": \n')
    suite = load_suite(write(tmp_path / "s.yaml", "prompts: [p]\ndataset: rows.jsonl\n"))
    with pytest.raises(UserError) as e:
        list(suite.cases())
    assert e.value.line == 2 and e.value.file.endswith("rows.jsonl")
    write(tmp_path / "rows.csv", "a,b\n1,2,3\n")
    suite = load_suite(write(tmp_path / "s2.yaml", "prompts: [p]\ndataset: rows.csv\n"))
    with pytest.raises(UserError, match="more cells"):
        list(suite.cases())
    suite = load_suite(write(tmp_path / "s3.yaml", "prompts: [p]\ndataset: nope.csv\n"))
    with pytest.raises(UserError, match="not found"):
        list(suite.cases())
