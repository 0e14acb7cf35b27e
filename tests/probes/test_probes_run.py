"""Probes end to end on the embedded model, in a `prompteur init` project: the run and its
results in the store (SQLite and PostgreSQL), findings with evidence, the report in every
format, resume from the cache, seeded reproducibility, errors that say where."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from typer.testing import CliRunner

from prompteur.cli import app
from prompteur.config import load_config
from prompteur.probes import ProbeOptions, prepare, run_probe
from prompteur.probes.engine import plan_from_run
from prompteur.probes.storage import count_findings, load_report
from prompteur.store import Store

# One small battery: a probe of each kind of analysis (per output, paired, grouped, baseline).
PROBES = [
    "robustness.control",
    "robustness.casing",
    "ambiguity",
    "injection.direct",
    "injection.encoded",
    "leakage",
    "bias.gender",
    "hallucination.grounding",
    "over-refusal",
]


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "prompteur.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "160", **(env or {})},
        timeout=600,
    )


def _probe(store: Store, max_cases: int = 2, **kw: object) -> tuple[str, dict]:
    config = load_config()
    options = ProbeOptions(
        prompt="sentiment", suite="suites/sentiment.yaml", max_cases=max_cases, per_case=1, **kw
    )

    async def go() -> tuple[str, dict]:
        plan = await prepare(config, store, options)
        done = await run_probe(config, store, plan)
        return done.run_id, done.report

    return asyncio.run(go())


@pytest.fixture
def store(project: Path) -> Store:
    return Store(load_config().database_url)


def test_a_probe_run_is_a_stored_run_with_findings_and_evidence(store: Store) -> None:
    run_id, report = _probe(store, probes=PROBES)
    info = store.get_run(run_id)
    assert info.status == "done" and info.plan["kind"] == "probe"
    assert run_id in [r.id for r in store.runs()]
    results = store.results(run_id)
    assert len(results) == info.total == report["totals"]["results"]
    assert not [r for r in results if r.error]
    # Stored once, read back the same.
    assert load_report(store, run_id) == json.loads(json.dumps(report))
    assert count_findings(store, run_id) == report["summary"]["findings"]

    outcomes = {o["probe"]: o for o in report["outcomes"]}
    assert set(outcomes) == {
        "robustness.control",
        "robustness.casing",
        "ambiguity.underspecified",
        "injection.direct",
        "injection.encoded",
        "leakage.system-prompt",
        "leakage.pii",
        "bias.gender",
        "hallucination.grounding",
        "over-refusal.benign",
    }
    for o in outcomes.values():
        assert o["tested"] > 0 and o["found"] == len(o["findings"])
        rate = o["rate"]
        assert rate["low"] <= rate["estimate"] <= rate["high"]
        for f in o["findings"]:
            assert f["why"] and f["inputs"] and f["output"] is not None

    # The embedded classifier answers a label to anything: it never asks about a vague input.
    amb = outcomes["ambiguity.underspecified"]
    assert amb["found"] == amb["tested"] == 6
    assert any("no way to say it cannot tell" in n for n in amb["notes"])
    # Paired and grouped statistics behind the rates.
    assert {"difference", "p_value"} <= set(outcomes["robustness.casing"]["stats"]["paired"])
    gap = outcomes["bias.gender"]["stats"]["gap"]
    assert 0 <= gap["p_value"] <= 1 and gap["difference"]["low"] <= gap["difference"]["high"]
    # Attacks are organised by OWASP id; the secret is in a copy of the prompt, not the file.
    assert "LLM01" in outcomes["injection.direct"]["stats"]["breakdown"]["owasp"]
    # The control is the same request as an independent sample (repeat 1), not a cache hit.
    control = [r for r in results if r.case_id.startswith("robustness.control/")]
    assert [r.repeat for r in control] == [1, 1] and not any(r.cached for r in control)
    prompts = {r.prompt for r in results}
    assert prompts == {"sentiment", "sentiment+secret"}
    assert "Zorblax" not in Path("prompts/sentiment.prompty").read_text(encoding="utf-8")
    assert report["baseline"][0]["cases"] == 2

    # Resumed (or re-reported), the run computes nothing again and finds the same.
    async def again() -> dict:
        info = store.get_run(run_id)
        plan = await plan_from_run(load_config(), store, info)
        done = await run_probe(load_config(), store, plan, resume_run=info)
        assert done.stats.calls == 0  # every result is already stored
        return done.report

    second = asyncio.run(again())
    assert [(o["probe"], o["found"], o["tested"]) for o in second["outcomes"]] == [
        (o["probe"], o["found"], o["tested"]) for o in report["outcomes"]
    ]
    assert count_findings(store, run_id) == second["summary"]["findings"]


def test_same_seed_same_cases_other_seed_other_cases(store: Store) -> None:
    config = load_config()

    def cases(seed: int) -> dict[str, dict]:
        options = ProbeOptions(
            prompt="sentiment",
            suite="suites/sentiment.yaml",
            probes=["robustness.typos", "injection", "bias.origin"],
            max_cases=4,
            seed=seed,
        )
        plan = asyncio.run(prepare(config, store, options))
        return {pc.case.id: pc.case.inputs for pc in plan.probe_cases()}

    first = cases(1)
    assert cases(1) == first
    assert cases(2) != first
    # baseline, typos, injection, and origin: five groups and the control (the noise floor)
    assert len(first) == 4 + 4 + 3 * 4 * 2 + 4 * 6


def test_cli_reports_fail_under_show_and_runs(project: Path) -> None:
    proc = cli(
        "probe",
        "sentiment",
        "--suite",
        "suites/sentiment.yaml",
        "-p",
        "injection.direct,ambiguity",
        "--max-cases",
        "2",
        "--per-case",
        "1",
        "-o",
        "out/p.json",
        "-o",
        "out/p.xml",
        "-o",
        "out/p.html",
        "--fail-under",
        "0.9",
        cwd=project,
    )
    # The classifier guesses on every vague input: the ambiguity pass rate is 0, under 0.9.
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "under --fail-under" in proc.stderr and "ambiguity.underspecified" in proc.stderr
    assert "Weaknesses found" in proc.stdout and "worst examples" in proc.stdout

    report = json.loads((project / "out/p.json").read_text(encoding="utf-8"))
    assert [o["probe"] for o in report["outcomes"]] == [
        "ambiguity.underspecified",
        "injection.direct",
    ]
    junit = ET.parse(project / "out/p.xml").getroot()
    suites = {s.get("name"): s for s in junit}
    amb = suites["ambiguity.underspecified · local"]
    assert amb.get("failures") == "6" and len(amb.findall("testcase/failure")) == 6
    html = (project / "out/p.html").read_text(encoding="utf-8")
    assert "<script src" not in html and "<link" not in html  # self-contained
    assert "ambiguity.underspecified" in html and report["run"]["id"] in html

    # the same run in French: the answers come from the cache
    french = cli(
        "probe", "sentiment", "--suite", "suites/sentiment.yaml", "-p",
        "injection.direct,ambiguity", "--max-cases", "2", "--per-case", "1", "-o",
        "out/p.json", "--fail-under", "0.9", "--lang", "fr", cwd=project,
    )  # fmt: skip
    assert french.returncode == 1, french.stderr
    assert "Faiblesses trouvées" in french.stdout and "pires exemples" in french.stdout
    assert "Weaknesses" not in french.stdout and "worst examples" not in french.stdout
    assert "sous --fail-under 90,0" in french.stderr and "fichier écrit" in french.stderr

    shown = cli("show", "latest", cwd=project)
    assert shown.returncode == 0, shown.stderr
    assert "Weaknesses found" in shown.stdout and "ambiguity.underspecified" in shown.stdout
    runs = cli("runs", "--json", cwd=project)
    assert json.loads(runs.stdout)[0]["suite"].startswith("probe sentiment")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "injektion"], "--probes: unknown probe 'injektion' (did you mean 'injection'?)"),
        (["--policy", "nope.md"], "nope.md: --policy: policy file not found"),
        (["--field", "text"], "--field: the prompt has no input 'text'"),
        (["-m", "nonsense"], "unknown model id"),
        (["--suite", "suites/nope.yaml"], "suites/nope.yaml: suite file not found"),
    ],
)
def test_errors_say_where_exit_2_no_traceback(project: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(
        app, ["probe", "sentiment", "--suite", "suites/sentiment.yaml", *args]
    )
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_bad_suite_names_its_line(project: Path) -> None:
    (project / "suites/bad.yaml").write_text(
        "prompts: [sentiment]\ncases:\n  - inputs: {review: ok}\n    expectd: positive\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["probe", "sentiment", "--suite", "suites/bad.yaml"])
    assert result.exit_code == 2
    assert "suites/bad.yaml:4: cases[0].expectd: unknown key 'expectd'" in result.output
    # A case the prompt cannot render is refused before any call, at its line.
    (project / "suites/bad.yaml").write_text(
        "prompts: [sentiment]\ncases:\n  - inputs: {review: ok}\n  - inputs: {text: ok}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["probe", "sentiment", "--suite", "suites/bad.yaml"])
    assert result.exit_code == 2
    assert "suites/bad.yaml:4: inputs.text: the prompt cannot render this case" in result.output


def test_probe_run_on_postgresql(project: Path, fresh_postgres: str) -> None:
    store = Store(fresh_postgres)
    try:
        run_id, report = _probe(store, probes=["leakage.pii", "bias.age"])
        assert report["summary"]["findings"] == sum(len(o["findings"]) for o in report["outcomes"])
        assert load_report(store, run_id)["summary"] == report["summary"]
        assert len(store.results(run_id)) == report["totals"]["results"]
    finally:
        store.close()


def test_eval_resume_refuses_probe_and_optimize_runs(project: Path) -> None:
    """`eval --resume` would rebuild an eval plan from another command's run: it refuses,
    naming the command that can finish it. `show` on an unfinished probe run says the same."""
    store = Store(load_config().database_url)
    probe_run = store.new_run("probe sentiment", {"kind": "probe", "suite": "x"}, 10)
    opt_run = store.new_run("suites/sentiment.yaml", {"kind": "optimize"}, 10)
    runner = CliRunner()
    for run_id, command, a in ((probe_run, "probe", "a"), (opt_run, "optimize", "an")):
        result = runner.invoke(app, ["eval", "--resume", run_id])
        assert result.exit_code == 2, result.output
        assert f"--resume: run {run_id} is {a} {command} run, not an eval run" in result.output
        assert f"prompteur {command} --resume {run_id}" in result.output
        assert "Traceback" not in result.output
    assert store.done_keys(probe_run) == set() and store.get_run(probe_run).status == "running"
    shown = runner.invoke(app, ["show", probe_run])
    assert shown.exit_code == 0 and "unfinished" in shown.output
    assert f"prompteur probe --resume {probe_run}" in shown.output
    assert "pass rate [95% CI]" not in shown.output  # not the eval table
    nothing = runner.invoke(app, ["show", probe_run, "-o", "r.json"])
    assert nothing.exit_code == 2 and "no report yet" in nothing.output
    assert not (project / "r.json").exists()


def test_the_suites_repeat_is_not_applied_and_the_report_says_why(store: Store) -> None:
    suite = Path("suites/sentiment.yaml")
    text = suite.read_text(encoding="utf-8")
    assert "\nrepeat: 1\n" in text
    Path("suites/repeat3.yaml").write_text(text.replace("\nrepeat: 1\n", "\nrepeat: 3\n"), "utf-8")
    options = ProbeOptions(
        prompt="sentiment",
        suite="suites/repeat3.yaml",
        probes=["robustness.casing"],
        max_cases=2,
    )
    plan = asyncio.run(prepare(load_config(), store, options))
    # One sample per probe case (2 originals + 2 variants), and the reason in the report.
    assert plan.total() == 4 and plan.describe()["repeat"] == 1
    assert any("repeat: 3 is not applied" in w for w in plan.warnings)
    plain = asyncio.run(
        prepare(load_config(), store, ProbeOptions("sentiment", "suites/sentiment.yaml"))
    )
    assert not any("repeat" in w for w in plain.warnings)
