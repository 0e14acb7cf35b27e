"""The prompt linter: the rules on the labelled set, the CLI (terminal, JSON, exit codes,
selection, suppression, French), broken files, and the starter project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prompteur.cli import app
from prompteur.lint import LABELLED, Selection, lint_paths, measure, rules
from prompteur.prompt import parse_prompt

runner = CliRunner()

FLAWED = """---
name: reply-draft
inputs:
  message: {kind: string}
  tone: {kind: string, default: friendly}
---
system:
Write a reply to the customer: {{ message }}
Be brief.
Be exhaustive and answer every point.
Don't use jargon.
"""


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_each_rule_fires_on_its_positive_examples_and_not_on_its_negatives() -> None:
    m = measure()
    assert m.files >= 30
    assert m.languages.get("en", 0) >= 10 and m.languages.get("fr", 0) >= 10
    assert m.good_files >= 10
    for r in rules():
        if r.id == "P000":
            continue
        score = m.scores[r.id]
        assert score.positives, f"{r.id} has no positive example in the labelled set"
        assert score.fn == 0, f"{r.id} missed: {[x for x in m.misses if r.id in x]}"
        assert score.fp == 0, f"{r.id} false alarms: {[x for x in m.misses if r.id in x]}"
    assert m.clean_good_files == m.good_files


def test_the_labelled_set_would_catch_a_rule_that_fires_everywhere(tmp_path: Path) -> None:
    """Guard the measurement itself: a good file that gets a finding counts as a false alarm."""
    good = (LABELLED / "en" / "good-capitals.prompty").read_text(encoding="utf-8")
    (tmp_path / "x.prompty").write_text(good.replace("Give the capital", "Capital"), "utf-8")
    m = measure([tmp_path])
    assert m.scores["P001"].fp == 1 and m.scores["P001"].precision == 0


def test_starter_prompts_have_no_finding(project: Path) -> None:
    report = lint_paths([project / "prompts"])
    assert len(report.files) == 2
    assert report.findings == []


def test_lint_flags_the_flawed_prompt_with_lines_and_exit_code(project: Path) -> None:
    (project / "prompts" / "flawed.prompty").write_text(FLAWED, encoding="utf-8")
    code, out, _ = run("lint", "--json")  # default: the project's prompts
    assert code == 1
    data = json.loads(out)
    found = {(f["rule"], f["line"]) for f in data["findings"]}
    assert found == {("P008", 5), ("P003", 8), ("P010", 8), ("P005", 10), ("P006", 11)}
    f = next(f for f in data["findings"] if f["rule"] == "P010")
    assert f["file"] == "prompts/flawed.prompty"
    assert "<message>{{ message }}</message>" in f["suggestion"]
    assert data["summary"] == {"info": 0, "warning": 4, "error": 1}

    code, out, _ = run("lint", "prompts/flawed.prompty", "--fail-on", "error", "--ignore", "P005")
    assert code == 0 and "P005" not in out and "P006" in out
    code, out, _ = run("lint", "prompts/flawed.prompty", "--select", "P00", "--ignore", "P006,P008")
    assert code == 1 and "P005" in out and "P010" not in out and "P006" not in out


def test_french_messages(project: Path) -> None:
    (project / "flawed.prompty").write_text(FLAWED, encoding="utf-8")
    code, out, _ = run("lint", "flawed.prompty", "--lang", "fr", "--select", "P005")
    assert code == 1
    assert "consignes contradictoires" in out and "pourquoi\u00a0:" in out
    assert "1 constat (1 erreur) dans 1 fichier." in out


def test_inline_and_file_suppression(tmp_path: Path) -> None:
    text = FLAWED.replace("Be brief.\n", "Be brief.\n{# prompteur: ignore P005 #}\n").replace(
        "system:\n", "system:\n{# prompteur: ignore-file P008, P003 #}\n"
    )
    path = tmp_path / "p.prompty"
    path.write_text(text, encoding="utf-8")
    rules_found = {f.rule for f in lint_paths([path]).findings}
    assert rules_found == {"P010", "P006"}
    # a comment only silences its own line and the next
    path.write_text(FLAWED.replace("system:\n", "system:\n{# prompteur: ignore P005 #}\n"), "utf-8")
    assert "P005" in {f.rule for f in lint_paths([path]).findings}


def test_a_broken_file_is_a_finding_not_a_crash(project: Path) -> None:
    (project / "prompts" / "broken.prompty").write_text("---\nname: x\nuser:\nhi\n", "utf-8")
    code, out, err = run("lint", "--json", "--fail-on", "error")
    assert code == 1 and "Traceback" not in err
    [f] = [f for f in json.loads(out)["findings"] if f["rule"] == "P000"]
    assert f["file"] == "prompts/broken.prompty" and f["line"] == 1
    assert "front matter is not closed" in f["message"]


def test_user_mistakes_exit_2_without_traceback(project: Path) -> None:
    code, _, err = run("lint", "--select", "P999")
    assert code == 2 and "--select: unknown rule 'P999'" in err
    code, _, err = run("lint", "nowhere.prompty")
    assert code == 2 and "nowhere.prompty: no such file or folder" in err
    code, _, err = run("lint", "--lang", "de")
    assert code == 2 and "unknown language 'de'" in err
    code, _, err = run("lint", "--fail-on", "sometimes")
    assert code == 2 and "--fail-on" in err


def test_rules_listing_and_measure_command() -> None:
    code, out, _ = run("lint", "--rules", "--json")
    assert code == 0
    ids = [r["rule"] for r in json.loads(out)]
    assert ids[:2] == ["P000", "P001"] and "I009" in ids
    code, out, _ = run("lint", "--measure", "--json")
    assert code == 0
    total = json.loads(out)["total"]
    assert total["precision"] == 1.0 and total["fp"] == 0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "Summarise the text below for the board, in three bullets.\n\n<text>\n{{ t }}\n</text>",
            set(),
        ),
        ("Summarise the text below for the board, in three bullets.", {"P004", "P008"}),
        ("Reply in English, in one sentence, to {{ t }}.", {"P010"}),
        ("Réponds en une phrase.\n\nuser:\n{{ t }}", set()),
        (
            "Translate the text from English into German. Reply with the translation only.\n"
            "<t>{{ t }}</t>",
            set(),
        ),
        ("Answer in German. Reply only in Italian, one word.\n<t>{{ t }}</t>", {"P005"}),
        ("Always use emojis. Never use emojis.\nAnswer in one sentence.\n<t>{{ t }}</t>", {"P005"}),
        ("Classify the text as spam or ham.\nNever use emojis.\n<t>{{ t }}</t>", {"P006"}),
    ],
)
def test_rule_cases(body: str, expected: set[str]) -> None:
    text = "---\ninputs:\n  t: {kind: string}\n---\nsystem:\n" + body + "\n"
    from prompteur.lint import lint_prompt

    found = {f.rule for f in lint_prompt(parse_prompt(text, name="t"))}
    assert found == expected


def test_selection_prefixes() -> None:
    s = Selection.parse(["P0"], ["P00"])
    assert s.wants("P010") and not s.wants("P003") and not s.wants("I001")
