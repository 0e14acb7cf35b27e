"""`prompteur review …` and `prompteur judge calibrate --from-queue` on a real project: a
queue made from a run, labelled from a script, exported, turned into suite cases, and used to
calibrate a judge (a predictable judge on loopback, so the figures are exact)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from helpers_http import LoopbackServer, keyword_judge
from helpers_review import V1, V2, make_run, record, two_variant_run
from typer.testing import CliRunner

from prompteur.cli import app
from prompteur.config import load_config
from prompteur.store import Store

runner = CliRunner()


def cli(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    return result


yes_judge = keyword_judge("yes")


@pytest.fixture
def run(project: Path) -> str:
    store = Store(load_config(project).database_url)
    outputs = ["yes sure", "yes ok", "yes", "no", "no way", "yes but no", "maybe", "no"]
    records = [record(i, output=o, passed=i % 2 == 0) for i, o in enumerate(outputs)]
    try:
        return make_run(store, records)
    finally:
        store.close()


def test_create_label_progress_export(project: Path, run: str) -> None:
    made = cli("review", "create", "first", "--run", run, "--json")
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["progress"]["items"] == 8
    for position, value in enumerate("ppppffff", start=1):
        for who in ("ann", "bob"):
            v = value if (who, position) != ("bob", 5) else "p"
            out = cli("review", "label", "first", str(position), v, "--reviewer", who)
            assert out.exit_code == 0, out.output
    shown = cli("review", "progress", "first")
    assert shown.exit_code == 0, shown.output
    assert "8/8 items done" in shown.output and "Cohen's kappa = 0.75" in shown.output
    disagree = cli("review", "agreement", "first", "--json")
    assert [d["position"] for d in json.loads(disagree.output)["disagreements"]] == [5]
    lines = cli("review", "export", "first").output.splitlines()
    assert len(lines) == 16 and json.loads(lines[0])["reviewer"] == "ann"
    out = cli("review", "export", "first", "--format", "csv", "-o", "labels.csv")
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(Path("labels.csv").read_text(encoding="utf-8"))))
    assert len(rows) == 16 and rows[0]["value"] == "True"
    listed = cli("review", "list", "--json")
    assert json.loads(listed.output)[0]["done"] == 8


def test_mistakes_are_user_errors(project: Path, run: str) -> None:
    for args in (
        ("review", "create", "q"),
        ("review", "create", "q", "--run", run, "--select", "everything"),
        ("review", "create", "q", "--run", run, "--score", "nope"),
        ("review", "progress", "missing"),
        ("review", "export", "missing"),
        ("judge", "calibrate", "--judge", "local", "--rubric", "x", "--from-queue", "missing"),
    ):
        out = cli(*args)
        assert out.exit_code == 2, (args, out.output)
        assert "Traceback" not in out.output
    assert cli("review", "create", "q", "--run", run).exit_code == 0
    bad = cli("review", "label", "q", "1", "perhaps")
    assert bad.exit_code == 2 and "not pass or fail" in bad.output


def test_to_cases_takes_the_correction_as_expected(project: Path, run: str) -> None:
    suite = Path("suites/review.yaml")
    suite.write_text("prompts: [greet]\n# kept\ncases:\n  - id: old\n    inputs: {name: x}\n")
    assert cli("review", "create", "q", "--run", run, "--select", "failures").exit_code == 0
    cli("review", "label", "q", "1", "fail", "--correction", "Hello, n1!", "--reviewer", "ann")
    cli("review", "label", "q", "2", "pass", "--reviewer", "ann")
    out = cli("review", "to-cases", "q", "--suite", str(suite), "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["added"] == 1
    text = suite.read_text()
    assert "# kept" in text and "Hello, n1!" in text and "from-review" in text
    again = cli("review", "to-cases", "q", "--suite", str(suite), "--json")
    assert json.loads(again.output) == {
        **json.loads(out.output),
        "added": 0,
        "duplicates": 1,
        "ids": [],
    }


def test_the_preference_sentence_in_show_and_in_the_html_report(project: Path) -> None:
    """The blind A/B verdict people gave is printed by `prompteur show RUN` and written in the
    run's HTML report, both from the same function as `review progress`."""
    store = Store(load_config(project).database_url)
    try:
        run = two_variant_run(store, 6)
        other = two_variant_run(store, 2)
    finally:
        store.close()
    made = cli("review", "pair", "ab", "--run", run, "--a", V1[:8], "--b", V2[:8], "--json")
    assert made.exit_code == 0, made.output
    for position in range(1, 7):
        out = cli("review", "label", "ab", str(position), "tie" if position == 6 else "a")
        assert out.exit_code == 0, out.output
    progress = json.loads(cli("review", "progress", "ab", "--json").output)["preference"]
    assert progress["ties"] == 1 and progress["a_wins"] + progress["b_wins"] == 5
    sentence = progress["sentence"]
    assert sentence.startswith("greet@") and "p = " in sentence

    def flat(text: str) -> str:
        return " ".join(text.split())

    shown = cli("show", run)
    assert shown.exit_code == 0, shown.output
    assert f"blind A/B (ab): {sentence}" in flat(shown.output)
    assert cli("show", run, "-o", "report.html").exit_code == 0
    page = Path("report.html").read_text(encoding="utf-8")
    assert "Blind A/B preference" in page and f">{sentence}</p>" in page
    assert cli("show", run, "-o", "report.json").exit_code == 0
    (stored,) = json.loads(Path("report.json").read_text(encoding="utf-8"))["preferences"]
    assert stored["queue"] == "ab" and stored["sentence"] == sentence and stored["ties"] == 1
    # Another run's page and report say nothing of this queue.
    assert "blind A/B" not in cli("show", other).output
    assert cli("show", other, "-o", "other.html").exit_code == 0
    assert "Blind A/B preference" not in Path("other.html").read_text(encoding="utf-8")
    assert cli("show", other, "-o", "other.json").exit_code == 0
    assert json.loads(Path("other.json").read_text(encoding="utf-8"))["preferences"] == []


def test_judge_calibrate_from_a_queue(project: Path, run: str) -> None:
    assert cli("review", "create", "cal", "--run", run).exit_code == 0
    # People pass what says yes, except "yes but no"; the judge passes every "yes".
    human = ["pass", "pass", "pass", "fail", "fail", "fail", "fail", "fail"]
    for position, value in enumerate(human, start=1):
        cli("review", "label", "cal", str(position), value, "--reviewer", "ann")
    cli("review", "label", "cal", "8", "--skip", "--reviewer", "ann")
    with LoopbackServer(yes_judge) as server:
        judge = f"openai-compatible:judge@{server.url}/v1"
        out = cli(
            "judge",
            "calibrate",
            "--judge",
            judge,
            "--rubric",
            "says yes",
            "--from-queue",
            "cal",
            "--json",
        )
    assert out.exit_code == 0, out.output
    result = json.loads(out.output)
    assert len(result["items"]) == 7 and result["labels"] == "queue:cal"
    a = result["agreement"]
    assert (a["both_pass"], a["judge_passes_a_fail"], a["both_fail"]) == (3, 1, 3)
