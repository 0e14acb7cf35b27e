"""What the server and the web pages call: a run read back only as the kind asked for, a
stored probe report and optimization read back (outcome, verdict, diff), and an edited prompt
tried on its suite's first cases or on typed inputs as a stored playground run (embedded
model, real SQLite store)."""

from __future__ import annotations

from pathlib import Path

import pytest

import prompteur
from prompteur.errors import UserError
from prompteur.evaluation import MAX_TYPED_INPUTS
from prompteur.optimizer.engine import Outcome
from prompteur.optimizer.evaluator import Budget
from prompteur.prompt import TemplateBoundError, parse_prompt
from prompteur.stats import compare_paired


def _optimization(p: prompteur.Project, *, significant: bool) -> str:
    """A finished optimization stored as the optimizer stores one: start and winner saved as
    versions, the outcome in the run's plan."""
    start = p.prompt("sentiment")
    better = parse_prompt(
        start.text.replace("Sentiment:", "Sentiment (one word):"), name="sentiment"
    )
    pairs = [(False, True)] * 12 if significant else [(True, False), (False, True)] * 3
    outcome = Outcome(
        "r", start, better, ["instruction"], {}, compare_paired("a", "b", pairs), Budget(60), []
    )
    for version in (start, better):
        p.library.save(p.store, version)
    store = p.store
    run = store.new_run("suites/sentiment.yaml", {"kind": "optimize", "prompt": "sentiment"}, 60)
    history = [
        {"event": "scored", "spent": 10, "score": 0.5, "cases": 6, "version": better.version}
    ]
    store.update_run_plan(
        run, {"result": outcome.summary(), "settings": {"budget": 60}, "history": history}
    )
    store.set_run_status(run, "done")
    return run


def test_a_run_is_read_back_only_as_the_kind_asked_for(project: Path) -> None:
    with prompteur.Project.open(project) as p:
        tried = prompteur.try_prompt(p, p.prompt("sentiment"), cases=1)
        assert p.run(tried.run_id, kind="playground").id == tried.run_id
        with pytest.raises(UserError, match=f"run {tried.run_id} is not a probe run"):
            prompteur.probe_report(p, tried.run_id)
        with pytest.raises(UserError, match="is not an optimization"):
            prompteur.optimization(p, tried.run_id)
        with pytest.raises(UserError, match="is not an eval run"):
            p.run(tried.run_id, kind="eval")
        with pytest.raises(ValueError):
            p.run(tried.run_id, kind="no-such-kind")
        assert [r.id for r in p.runs(5, kind="playground")] == [tried.run_id]
        assert p.runs(5, kind="probe") == []


def test_an_optimization_reads_back_with_its_verdict_and_diff(project: Path) -> None:
    with prompteur.Project.open(project) as p:
        kept = _optimization(p, significant=False)
        won = _optimization(p, significant=True)
        done = prompteur.optimization(p, won)
        assert done.improved is True and done.result["best_version"] != done.result["start_version"]
        diff = done.diff(p)
        assert any(line.startswith("-") and "Sentiment:" in line for line in diff)
        assert any(line.startswith("+") and "Sentiment (one word):" in line for line in diff)
        assert done.chart()["points"] and done.history[0]["spent"] == 10
        assert prompteur.optimization(p, kept).improved is False
        assert {o.run.id: o.improved for o in prompteur.api.optimizations(p)} == {
            kept: False,
            won: True,
        }


def test_a_probe_run_without_a_report_yet_reads_back_as_none(project: Path) -> None:
    with prompteur.Project.open(project) as p:
        run = p.store.new_run("suites/sentiment.yaml", {"kind": "probe", "prompt": "sentiment"}, 0)
        stored = prompteur.probe_report(p, run)
        assert stored.run.id == run and stored.report is None


def test_an_edited_prompt_is_tried_on_its_first_cases_or_typed_inputs(project: Path) -> None:
    with prompteur.Project.open(project) as p:
        prompt = p.prompt("sentiment")
        first = prompteur.try_prompt(p, prompt, cases=2)
        info = p.run(first.run_id)
        assert info.kind == "playground" and info.status == "done"
        assert info.plan["limit"] == 2 and len(p.results(first.run_id)) == 2 == info.total
        typed = prompteur.try_prompt(p, prompt, inputs={"review": "Works great."})
        results = p.results(typed.run_id)
        assert [r.inputs for r in results] == [{"review": "Works great."}]
        assert p.run(typed.run_id).plan["typed"] is True and results[0].output
        before = len(p.runs(50))
        # The template's own faults and unbounded input: said at once, no run.
        endless = "{% for i in range(90000) %}{% for j in range(90000) %}x{% endfor %}{% endfor %}"
        broken = parse_prompt(prompt.text.replace("{{ review }}", endless), name="sentiment")
        with pytest.raises(TemplateBoundError, match="refused by the sandbox"):
            prompteur.try_prompt(p, broken, cases=1)
        with pytest.raises(UserError, match="unknown input 'other'"):
            prompteur.try_prompt(p, prompt, inputs={"other": "x"})
        many = {f"k{i}": "x" for i in range(MAX_TYPED_INPUTS + 1)}
        with pytest.raises(UserError, match=f"at most {MAX_TYPED_INPUTS} inputs"):
            prompteur.try_prompt(p, prompt, inputs=many)
        with pytest.raises(UserError, match="at least 1"):
            prompteur.try_prompt(p, prompt, cases=0)
        assert len(p.runs(50)) == before
