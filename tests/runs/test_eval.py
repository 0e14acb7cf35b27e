"""`prompteur eval` end to end on the embedded model: store, cache, resume after kill -9,
reports, --fail-under, compare — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from prompteur.store import Store


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, check: bool = False
) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "prompteur.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(params=["sqlite", "postgres"])
def db_env(request: pytest.FixtureRequest, project: Path) -> dict[str, str]:
    if request.param == "sqlite":
        return {"PROMPTEUR_DATABASE_URL": ""}
    return {"PROMPTEUR_DATABASE_URL": request.getfixturevalue("fresh_postgres")}


def store_for(project: Path, env: dict[str, str]) -> Store:
    url = env.get("PROMPTEUR_DATABASE_URL") or f"sqlite:///{project}/.prompteur/prompteur.db"
    return Store(url)


def test_eval_stores_every_result_and_writes_reports(project: Path, db_env: dict[str, str]) -> None:
    proc = cli(
        "eval",
        "suites/sentiment.yaml",
        "-o",
        "out/r.json",
        "-o",
        "out/r.xml",
        "-o",
        "out/r.html",
        "-o",
        "out/r.csv",
        "-o",
        "out/r.jsonl",
        cwd=project,
        env=db_env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "12 new results · 12 model calls" in proc.stderr
    data = json.loads((project / "out/r.json").read_text())
    (summary,) = data["summary"]
    assert summary["results"] == 12 and summary["passed"] >= 10  # the starter prompt is good
    assert len(data["results"]) == 12
    junit = ET.parse(project / "out/r.xml").getroot()
    assert sum(int(ts.get("tests")) for ts in junit) == 12
    assert len((project / "out/r.jsonl").read_text().splitlines()) == 12
    assert "<table" in (project / "out/r.html").read_text()
    # the same again: every answer from the cache, no model call
    again = cli("eval", "suites/sentiment.yaml", cwd=project, env=db_env, check=True)
    assert "12 new results · 0 model calls · 12 from cache" in again.stderr
    runs = json.loads(cli("runs", "--json", cwd=project, env=db_env, check=True).stdout)
    assert [r["done"] for r in runs] == [12, 12] and runs[0]["status"] == "done"
    # --no-cache calls the model again
    fresh = cli("eval", "suites/sentiment.yaml", "--no-cache", cwd=project, env=db_env, check=True)
    assert "12 model calls" in fresh.stderr


def test_repeats_are_independent_samples_in_the_cache(project: Path) -> None:
    suite = project / "suites" / "rep.yaml"
    suite.write_text(
        "prompts: [sentiment]\nrepeat: 3\ncases:\n"
        "  - inputs: {review: 'Great!'}\n    expected: positive\n"
    )
    first = cli("eval", str(suite), cwd=project, check=True)
    assert "3 new results · 3 model calls" in first.stderr
    second = cli("eval", str(suite), cwd=project, check=True)
    assert "3 new results · 0 model calls · 3 from cache" in second.stderr


def test_kill_9_then_resume_finishes_only_what_is_missing(
    project: Path, db_env: dict[str, str]
) -> None:
    rows = [
        {"review": f"Review number {i}: it works well and I like it.", "expected": "positive"}
        for i in range(80)
    ]
    (project / "suites" / "data" / "many.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows)
    )
    (project / "suites" / "many.yaml").write_text(
        "prompts: [sentiment]\nchecks: [{type: equals}]\ndataset: data/many.jsonl\n"
    )
    env = {**os.environ, **db_env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "prompteur.cli", "eval", "suites/many.yaml", "--no-cache"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    store = store_for(project, db_env)
    try:
        deadline = time.monotonic() + 300
        run_id, done = None, 0
        while time.monotonic() < deadline:
            runs = store.runs(1)
            if runs:
                run_id, done = runs[0].id, runs[0].done
                if done >= 10:
                    break
            time.sleep(0.05)
        assert run_id and done >= 10, "the run never got going"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    partial = store.get_run(run_id)
    assert partial.status == "running" and 10 <= partial.done < 80
    resumed = cli("eval", "--resume", run_id[-6:], "--no-cache", cwd=project, env=db_env)
    assert resumed.returncode == 0, resumed.stderr
    missing = 80 - partial.done
    assert f"{missing} new results · {missing} model calls" in resumed.stderr
    records = store.results(run_id)
    keys = [r.key for r in records]
    assert len(keys) == 80 and len(set(keys)) == 80
    assert store.get_run(run_id).status == "done"
    store.close()


def test_fail_under_sets_the_exit_code(project: Path) -> None:
    ok = cli("eval", "suites/sentiment.yaml", "--fail-under", "0.5", cwd=project)
    assert ok.returncode == 0, ok.stderr
    strict = project / "suites" / "strict.yaml"
    strict.write_text(
        "prompts: [sentiment]\ncases:\n  - inputs: {review: 'Great!'}\n"
        "    expected: nonsense\nchecks: [{type: equals}]\n"
    )
    bad = cli("eval", str(strict), "--fail-under", "0.9", cwd=project)
    assert bad.returncode == 1 and "under --fail-under" in bad.stderr


def test_compare_two_runs_in_words(project: Path) -> None:
    cli("eval", "suites/sentiment.yaml", cwd=project, check=True)
    prompt = project / "prompts" / "sentiment.prompty"
    # A worse variant: the labels in the examples no longer match the instruction.
    prompt.write_text(prompt.read_text().replace("label: negative", "label: positive"))
    cli("eval", "suites/sentiment.yaml", cwd=project, check=True)
    runs = json.loads(cli("runs", "--json", cwd=project, check=True).stdout)
    out = cli("compare", runs[1]["id"], runs[0]["id"], "--json", cwd=project, check=True)
    (cmp,) = json.loads(out.stdout)
    assert cmp["cases"] == 12 and cmp["only_a"] >= 2 and cmp["rate_b"] < cmp["rate_a"]
    assert cmp["significant"] is (cmp["p_value"] < 0.05)
    words = cli("compare", runs[1]["id"], runs[0]["id"], cwd=project, check=True).stdout
    assert "exact McNemar p =" in words


def test_eval_errors_name_the_suite_line(project: Path) -> None:
    bad = project / "suites" / "bad.yaml"
    bad.write_text("prompts: [sentimnt]\ncases: [{inputs: {review: x}}]\n")
    proc = cli("eval", str(bad), cwd=project)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "bad.yaml:1: prompts[0]: no prompt named 'sentimnt'" in proc.stderr
    assert not json.loads(cli("runs", "--json", cwd=project).stdout)  # nothing written


def test_two_evals_write_to_the_same_sqlite_file_at_once(project: Path) -> None:
    env = {**os.environ, "PROMPTEUR_DATABASE_URL": ""}
    cmd = [sys.executable, "-m", "prompteur.cli", "eval", "suites/tri-tickets.yaml", "--no-cache"]
    procs = [
        subprocess.Popen(
            cmd, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-500:] for o in outs]
    runs = json.loads(cli("runs", "--json", cwd=project, check=True).stdout)
    cases = len((project / "suites" / "data" / "tickets.csv").read_text().splitlines()) - 1
    assert len(runs) == 2 and all(r["done"] == cases and r["status"] == "done" for r in runs)
