"""`prompteur judge calibrate`: agreement of a judge with human labels — Cohen's kappa and its
interval, the confusion matrix, stored, and shown beside the results that judge produced. The
judge is a predictable server on loopback (exact numbers) and, once, the embedded model (an
honest measurement of a 270M base model as a judge)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from helpers_http import LoopbackServer, keyword_judge
from typer.testing import CliRunner

from prompteur.cli import app
from prompteur.probes.agreement import agreement, cohen_kappa, kappa_interval, strength

RUBRIC = "The answer offers a refund"


# ---- the statistics ----------------------------------------------------------------------


def test_kappa_on_a_textbook_table() -> None:
    # 20 both yes, 5 / 10 disagreements, 15 both no: observed 0.70, chance 0.50, kappa 0.40.
    pairs = [(True, True)] * 20 + [(True, False)] * 5 + [(False, True)] * 10 + [(False, False)] * 15
    assert cohen_kappa(pairs) == pytest.approx(0.4)
    a = agreement(pairs)
    assert a.accuracy.estimate == pytest.approx(0.7)
    assert (a.both_pass, a.judge_fails_a_pass, a.judge_passes_a_fail, a.both_fail) == (
        20,
        5,
        10,
        15,
    )
    assert a.kappa.low < 0.4 < a.kappa.high and a.strength == "fair" and a.low
    assert a.fail_recall == pytest.approx(15 / 25) and a.fail_precision == pytest.approx(15 / 20)


def test_kappa_edges() -> None:
    assert cohen_kappa([(True, True), (False, False)] * 10) == 1.0
    # A judge that passes everything agrees with every passing label, yet adds nothing.
    assert cohen_kappa([(True, True)] * 8 + [(False, True)] * 2) == pytest.approx(0.0)
    assert math.isnan(cohen_kappa([(True, True)] * 5))  # chance agreement is total
    assert strength(math.nan) == "undefined" and strength(-0.1) == "poor"
    assert strength(0.85) == "almost perfect"
    ci = kappa_interval([(True, True), (False, False)] * 20)
    assert ci.low == ci.high == 1.0


# ---- the command -------------------------------------------------------------------------


refund_judge = keyword_judge("refund")


@pytest.fixture
def judge() -> Any:
    with LoopbackServer(refund_judge) as server:
        yield f"openai-compatible:judge@{server.url}/v1"


def write_labels(path: Path) -> None:
    # People: 5 pass, 5 fail. The judge passes what mentions a refund: 4 + 2 of them.
    rows = [
        ("We will refund you today.", "pass"),
        ("A full refund is on its way.", "yes"),
        ("Refund issued, sorry!", "1"),
        ("You get a refund and a voucher.", "PASS"),
        ("We are sorry, we will fix it.", "pass"),  # people pass it, the judge does not
        ("No refund, read the terms.", "fail"),  # the judge passes it: the word is there
        ("Refund? Never.", "no"),
        ("Go away.", "0"),
        ("Not our problem.", "fail"),
        ("Whatever.", "non"),
    ]
    lines = ["id,output,label", *[f'{i},"{o}",{lab}' for i, (o, lab) in enumerate(rows)]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_calibrate_measures_stores_and_warns(project: Path, judge: str) -> None:
    write_labels(project / "labels.csv")
    runner = CliRunner()
    args = ["judge", "calibrate", "--judge", judge, "--rubric", RUBRIC, "--labels", "labels.csv"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    a = data["agreement"]
    assert a["confusion"] == {
        "human pass": {"judge pass": 4, "judge fail": 1},
        "human fail": {"judge pass": 2, "judge fail": 3},
    }
    # observed 0.7; chance 0.5 × 0.6 + 0.5 × 0.4 = 0.5; kappa (0.7 − 0.5) / 0.5 = 0.4
    assert a["kappa"]["estimate"] == pytest.approx(0.4) and a["low"] is True
    assert a["accuracy"]["estimate"] == pytest.approx(0.7)
    assert [i["line"] for i in data["items"] if i["agree"] is False] == [6, 7, 8]

    text = runner.invoke(app, args)
    assert text.exit_code == 0
    assert "Cohen's kappa 0.40" in text.output and "low agreement" in text.output
    assert "only 10 labels" in text.output

    listed = runner.invoke(app, ["judge", "list", "--json"])
    rows = json.loads(listed.output)
    assert len(rows) == 2 and rows[0]["judge"] == judge and rows[0]["n"] == 10


def test_show_puts_the_calibration_beside_a_judged_run(project: Path, judge: str) -> None:
    (project / "suites/judged.yaml").write_text(
        "prompts: [sentiment]\n"
        f"checks:\n  - {{type: rubric, value: {RUBRIC}, judge: '{judge}'}}\n"
        "cases:\n  - inputs: {review: Broke on day one.}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    assert runner.invoke(app, ["eval", "suites/judged.yaml"]).exit_code == 0
    before = runner.invoke(app, ["show", "latest"])
    assert f"judge {judge} · rubric '{RUBRIC}': not calibrated" in before.output
    write_labels(project / "labels.csv")
    cal = ["judge", "calibrate", "--judge", judge, "--rubric", RUBRIC, "--labels", "labels.csv"]
    assert runner.invoke(app, cal).exit_code == 0
    after = runner.invoke(app, ["show", "latest"])
    assert "Cohen's kappa 0.40" in after.output and "LOW agreement" in after.output


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("output,verdict\nok,pass\n", "labels.csv:1: label: missing column 'label'"),
        ("output,label\nfine,pass\nmeh,maybe\n", "labels.csv:3: label: 'maybe' is not a label"),
        ("output,label\n,pass\n", "labels.csv:2: output: empty output"),
        ("output,label\n", "labels.csv: no labelled output"),
    ],
)
def test_bad_labels_say_where(project: Path, csv: str, message: str) -> None:
    (project / "labels.csv").write_text(csv, encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["judge", "calibrate", "--judge", "local", "--rubric", RUBRIC, "--labels", "labels.csv"],
    )
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_the_embedded_model_as_a_judge_measured(project: Path) -> None:
    """The 270M base model judging a plain rubric: whatever its kappa, it is measured, stored,
    and flagged when low (an honest number, not an assertion that it is good)."""
    rows = ["output,label"]
    for i in range(8):
        rows.append(f'"We will refund your order number {i} today.",pass')
        rows.append(f'"Order {i} is not our problem, goodbye.",fail')
    (project / "labels.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            "judge",
            "calibrate",
            "--judge",
            "local",
            "--rubric",
            RUBRIC,
            "--labels",
            "labels.csv",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{") :])
    a = data["agreement"]
    assert a["n"] == 16 and 0 <= a["accuracy"]["estimate"] <= 1
    k = a["kappa"]["estimate"]
    assert a["low"] == (k is None or k < 0.6)
    assert all("P(PASS)" in i["reason"] for i in data["items"])  # read from the logprobs
