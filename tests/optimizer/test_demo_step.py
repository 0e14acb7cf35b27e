"""The main job's optimize step, exactly as scripts/demo.sh writes it: accepted (its budget
covers the held-out report) and showing a real effect on the embedded model — the weak draft
beaten on held-out cases, significantly. Nothing else runs the demo's command line."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from helpers_paths import REPO
from typer.testing import CliRunner

from prompteur.cli import app


def demo_optimize_args() -> list[str]:
    script = (REPO / "scripts" / "demo.sh").read_text(encoding="utf-8")
    m = re.search(r'^"\$PROMPTEUR" optimize ((?:.*\\\n)*.*)$', script, re.M)
    assert m, "scripts/demo.sh has no optimize step"
    return shlex.split(m.group(1).replace("\\\n", " "))


@pytest.mark.timeout(900)  # 100 calls of the embedded model: under a minute on a quiet machine
def test_the_demos_optimize_step_beats_the_weak_draft_on_held_out_cases(project: Path) -> None:
    example = REPO / "examples" / "optimize"
    shutil.copy(example / "prompts" / "review-sentiment.prompty", project / "prompts")
    shutil.copy(example / "suites" / "review-sentiment.yaml", project / "suites")
    (project / "suites" / "data").mkdir(exist_ok=True)
    shutil.copy(example / "suites" / "data" / "reviews-48.jsonl", project / "suites" / "data")
    args = demo_optimize_args()
    budget = int(args[args.index("--budget") + 1])
    result = CliRunner().invoke(app, ["optimize", *args])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "improved: yes — significantly better on the held-out test cases" in out, out
    calls = re.search(r"calls: (\d+)/(\d+)", out)
    assert calls and int(calls.group(1)) <= int(calls.group(2)) == budget, out
    assert "nan" not in out
    html = (project / "reports" / "optimize.html").read_text(encoding="utf-8")
    assert "improved" in html and "nan" not in html
    history = CliRunner().invoke(app, ["optimize", "--history"])
    assert history.exit_code == 0, history.output
