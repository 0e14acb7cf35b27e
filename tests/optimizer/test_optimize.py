"""The optimizer on the embedded model: search space, budget accounting, resume, reports."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prompteur.cli import app
from prompteur.config import load_config
from prompteur.errors import UserError
from prompteur.models.providers import get_model
from prompteur.optimizer.engine import Settings, optimize, split_cases
from prompteur.optimizer.proposers import (
    DemoSets,
    Mutations,
    Patterns,
    SearchState,
    extract_instruction,
    field_variants,
    pick_balanced,
)
from prompteur.optimizer.search import largest_race, race_cost, rungs_for
from prompteur.optimizer.space import (
    Layout,
    decompose,
    freeze_demo,
    materialize,
    starting_candidate,
)
from prompteur.prompt import load_prompt, parse_prompt
from prompteur.runner import Runner
from prompteur.store import Store
from prompteur.suite import Case, load_suite

cli = CliRunner()


def test_layout_round_trip_renders_the_same_messages(project: Path) -> None:
    for name, inputs in (
        ("sentiment", {"review": "Fine."}),
        ("tri-tickets", {"message": "Ma facture est fausse."}),
    ):
        prompt = load_prompt(project / "prompts" / f"{name}.prompty")
        layout = decompose(prompt)
        assert layout.fields is not None and layout.instruction
        again = materialize(layout, starting_candidate(layout))
        assert again.render(inputs) == prompt.render(inputs)


def test_candidate_changes_reach_the_rendered_prompt(project: Path) -> None:
    prompt = load_prompt(project / "prompts" / "sentiment.prompty")
    layout = decompose(prompt)
    start = starting_candidate(layout)
    state = SearchState(layout, list(prompt.meta.examples), random.Random(0), start)
    fields = dict(field_variants(state))
    io = fields["labels Input/Output"]
    cand = start.with_("x", None, instruction="", fields=io, demos=start.demos[:2])
    text = materialize(layout, cand).render({"review": "Fine."})
    assert [m.role for m in text] == ["user"]  # no instruction: no system turn
    assert text[0].content.count("Input: ") == 3 and text[0].content.endswith("Output:")


def test_unrecognised_body_searches_the_instruction_only() -> None:
    p = parse_prompt("system:\nBe brief.\n\nuser:\nSay {{ x }} twice.\n", name="p")
    layout = decompose(p)
    assert layout.fields is None and layout.instruction == "Be brief."
    assert "not a recognised few-shot block" in layout.notes[0]
    templated = parse_prompt("system:\nAbout {{ x }}.\n\nuser:\nSay {{ x }}.\n", name="q")
    with pytest.raises(UserError, match="nothing the optimizer can change"):
        decompose(templated)


def _text_label_layout() -> Layout:
    p = parse_prompt(
        "user:\n{% for ex in examples -%}\nText: {{ ex.t }}\nLabel: {{ ex.label }}\n\n"
        "{% endfor -%}\nText: {{ t }}\nLabel:\n",
        name="p",
    )
    layout = decompose(p)
    layout.output_key = "label"
    return layout


def test_balanced_demonstrations_interleave_labels() -> None:
    layout = _text_label_layout()
    pool = [{"t": f"n{i}", "label": "neg"} for i in range(10)] + [
        {"t": f"p{i}", "label": "pos"} for i in range(3)
    ]
    state = SearchState(layout, pool, random.Random(1), starting_candidate(layout))
    demos = pick_balanced(state, 6)
    labels = [d["label"] for d in demos]
    assert labels.count("pos") == 3 and labels.count("neg") == 3
    assert all(a != b for a, b in itertools.pairwise(labels))  # alternate while both remain


def test_demonstration_sets_come_largest_first_with_every_picker() -> None:
    layout = _text_label_layout()
    pool = [{"t": f"text {i}", "label": "pos" if i % 2 else "neg"} for i in range(40)]
    state = SearchState(layout, pool, random.Random(0), starting_candidate(layout))
    cands = asyncio.run(DemoSets().propose(state, 7))
    sizes = [len(c.demos) for c in cands]
    assert sizes == [16, 16, 16, 12, 12, 12, 8]
    assert [c.change.split()[1] for c in cands[:3]] == ["random", "balanced", "diverse"]
    assert len({c.demos for c in cands}) == len(cands)


def test_max_demos_caps_every_proposal() -> None:
    layout = _text_label_layout()
    pool = [{"t": f"text {i}", "label": "pos" if i % 2 else "neg"} for i in range(40)]
    start = starting_candidate(layout).with_(
        "start", None, demos=tuple(freeze_demo(d) for d in pool[:4])
    )  # already at the cap: adding one more is the move to refuse
    state = SearchState(layout, pool, random.Random(0), start, max_demos=4)
    assert max(state.k_choices()) == 4
    for proposer in (DemoSets(), Mutations()):
        cands = asyncio.run(proposer.propose(state, 12))
        assert cands and all(len(c.demos) <= 4 for c in cands), proposer.name


def test_racing_arithmetic() -> None:
    assert rungs_for(100) == [11, 33, 100]
    assert rungs_for(30) == [10, 30]
    assert rungs_for(4) == [4]
    assert race_cost(1, [11, 33, 100]) == 100
    n = largest_race(300, [11, 33, 100])
    assert race_cost(n, [11, 33, 100]) <= 300 < race_cost(n + 1, [11, 33, 100])
    # A protected incumbent goes on beside the best third of 8 challengers: 1+8 → 1+3 → 1+1.
    assert race_cost(9, [11, 33, 100], protect=True) == 9 * 11 + 4 * 22 + 2 * 67
    assert largest_race(300, [11, 33, 100], protect=True) == 7


def test_extract_instruction_takes_the_last_tagged_block() -> None:
    text = (
        "Why: vague.\n<instruction>old</instruction>\nBetter:\n"
        "<instruction> New one. </instruction>"
    )
    assert extract_instruction(text) == "New one."
    assert extract_instruction("no tags") is None
    assert extract_instruction("<instruction>{{ evil }}</instruction>") is None


def _setup(project: Path, budget: int, seed: int = 0):
    config = load_config(project)
    store = Store(config.database_url)
    suite = load_suite(project / "suites" / "sentiment.yaml")
    prompt = load_prompt(project / "prompts" / "sentiment.prompty")
    model = get_model("local", config)
    runner = Runner(
        {"local": model},
        cost_of=lambda m, u: 0.0,
        default_checks=suite.spec.checks,
        cache=store.cache,
    )
    train, dev, test = split_cases(list(suite.cases()), seed, (0.3, 0.4, 0.3))
    return store, runner, prompt, train, dev, test, Settings(budget=budget, seed=seed)


def test_optimize_respects_the_budget_and_reports_on_held_out_cases(project: Path) -> None:
    store, runner, prompt, train, dev, test, settings = _setup(project, budget=20)
    outcome = asyncio.run(optimize(store, runner, "local", prompt, train, dev, test, settings))
    b = outcome.budget
    assert 0 < b.spent_task <= 20
    rows = store.results(outcome.run_id)
    search_rows = [r for r in rows if r.repeat == 0 and not r.cached]
    assert len(search_rows) == b.spent_task  # every call counted, none twice
    test_ids = {c.id for c in test}
    assert not any(r.case_id in test_ids for r in rows if r.repeat == 0)  # search never sees test
    assert outcome.scores["test"]["best"].cases == len(test)
    info = store.get_run(outcome.run_id)
    assert info.status == "done" and info.plan["result"]["best_version"] == outcome.best.version
    assert any(e["event"] == "scored" for e in info.plan["history"])
    assert store.find_version("sentiment", outcome.best.version) is not None


class _ScriptedEvaluator:
    """A test double for the search's bookkeeping: each (version, case) has a scripted
    score and costs one call. The search logic, not a model, is what is tested."""

    def __init__(self, truth: dict[str, list[float]], budget: int) -> None:
        from prompteur.optimizer.evaluator import Budget

        self.truth, self.budget = truth, Budget(task_calls=budget)
        self.known: dict[tuple[str, int], float] = {}

    def _idx(self, case_ids: list[str]) -> list[int]:
        return [int(c) for c in case_ids]

    def score(self, prompt, case_ids):
        return [
            self.known[(prompt.version, i)]
            for i in self._idx(case_ids)
            if (prompt.version, i) in self.known
        ]

    def evaluated(self, prompt, case_ids):
        return len(self.score(prompt, case_ids))

    def records(self, prompt, case_ids):
        return []

    async def evaluate(self, work, *, final=False):
        for prompt, cases in work:
            for c in cases:
                key = (prompt.version, int(c.id))
                if key not in self.known:
                    self.budget.spent_task += 1
                    self.known[key] = self.truth[prompt.version][int(c.id)]


def test_leftover_budget_finishes_the_runner_up_that_led_the_winner() -> None:
    """When no new race fits, the calls left finish a candidate that was cut while ahead of
    the incumbent on the same cases; one that was behind is not paid for."""
    from types import SimpleNamespace

    from prompteur.optimizer.search import Entry, Search

    dev = [SimpleNamespace(id=str(i)) for i in range(100)]
    truth = {
        "best": [1.0, 0.0] * 50,  # 0.50 on all cases, and on every prefix
        "ahead": [1.0] * 40 + [0.0] * 10 + [1.0] * 20 + [0.0] * 30,  # 0.91 on 33, 0.60 on all
        "behind": [0.0] * 100,
    }
    ev = _ScriptedEvaluator(truth, budget=100 + 33 + 11 + 70)
    search = Search(ev, None, {}, dev, SimpleNamespace(), [], [])  # type: ignore[arg-type]
    entries = {}
    for version, done in (("best", 100), ("ahead", 33), ("behind", 11)):
        cand = SimpleNamespace(parent=None, change=version)
        entries[version] = Entry(SimpleNamespace(version=version), cand, "test", 0)  # type: ignore[arg-type]
        asyncio.run(ev.evaluate([(entries[version].prompt, dev[:done])]))
    search.entries = entries
    search._adopt = lambda e: None  # type: ignore[method-assign]
    winner = asyncio.run(search._top_up(entries["best"], 1))
    assert winner is entries["ahead"]
    assert ev.evaluated(entries["ahead"].prompt, search.dev_ids) == 100
    assert ev.evaluated(entries["behind"].prompt, search.dev_ids) == 11
    assert ev.budget.spent_task == 100 + 100 + 11 and ev.budget.left == 3
    assert [e["event"] for e in search.history] == ["scored", "best"]


def test_a_race_never_drops_the_incumbent_on_a_few_cases() -> None:
    """The incumbent is the prior: it runs to the last rung even when it trails early, so a
    challenger is adopted only if it beats it on every development case."""
    from types import SimpleNamespace

    from prompteur.optimizer.search import Entry, Search, rungs_for

    dev = [SimpleNamespace(id=str(i)) for i in range(100)]
    truth = {f"c{i}": [1.0] * 11 + [0.0] * 89 for i in range(8)}  # lucky on the first rung
    truth["start"] = [0.0] * 11 + [1.0] * 89  # trails on 11 cases, best on all of them
    ev = _ScriptedEvaluator(truth, budget=10_000)
    state = SimpleNamespace(incumbent=None, incumbent_version="start")
    search = Search(ev, None, {}, dev, state, [], [])  # type: ignore[arg-type]
    entries = [
        Entry(SimpleNamespace(version=v), SimpleNamespace(parent=None, change=v), "t", 0)  # type: ignore[arg-type]
        for v in truth
    ]
    asyncio.run(search._race(entries, rungs_for(100), 0))
    assert ev.evaluated(SimpleNamespace(version="start"), search.dev_ids) == 100
    assert max(entries, key=search._rank).prompt.version == "start"


def test_resume_makes_no_new_calls_and_cache_hits_are_free(project: Path) -> None:
    store, runner, prompt, train, dev, test, settings = _setup(project, budget=16, seed=3)
    first = asyncio.run(optimize(store, runner, "local", prompt, train, dev, test, settings))
    # The same optimization resumed: everything is in its run already.
    again = asyncio.run(
        optimize(store, runner, "local", prompt, train, dev, test, settings, run_id=first.run_id)
    )
    assert again.best.version == first.best.version
    assert again.budget.spent_task == first.budget.spent_task
    assert len(store.results(first.run_id)) == len(store.results(again.run_id))
    # A new optimization with the same seed: the same requests come from the cache, free.
    third = asyncio.run(optimize(store, runner, "local", prompt, train, dev, test, settings))
    assert third.budget.cache_hits >= first.budget.spent_task
    assert third.budget.spent_task <= settings.budget


def test_cli_optimize_history_and_reports(project: Path) -> None:
    result = cli.invoke(
        app,
        [
            "optimize",
            "sentiment",
            "-s",
            "suites/sentiment.yaml",
            "--budget",
            "20",
            "--max-demos",
            "8",
            "--json",
            "-o",
            "reports/opt.html",
            "-o",
            "reports/opt.json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["calls"]["search"] <= 20 and summary["calls"]["budget"] == 20
    html = (project / "reports" / "opt.html").read_text()
    assert (
        "<svg" in html
        and "Search history" in html
        and "http" not in html.split("<body>")[1].replace("http://www.w3.org", "")
    )
    data = json.loads((project / "reports" / "opt.json").read_text())
    assert data["kind"] == "optimize" and data["history"]
    assert data["settings"]["max_demos"] == 8
    hist = cli.invoke(app, ["optimize", "--history"])
    assert hist.exit_code == 0 and "search history of sentiment" in hist.output


def test_cli_resume_makes_no_new_call(project: Path) -> None:
    args = ["optimize", "sentiment", "-s", "suites/sentiment.yaml", "--budget", "16", "--json"]
    first = cli.invoke(app, args)
    assert first.exit_code == 0, first.output
    done = json.loads(first.stdout[first.stdout.index("{") :])
    store = Store(load_config(project).database_url)
    rows = len(store.results(done["run"]))
    again = cli.invoke(app, ["optimize", "--resume", done["run"][-6:], "--json"])
    assert again.exit_code == 0, again.output
    resumed = json.loads(again.stdout[again.stdout.index("{") :])
    assert resumed["run"] == done["run"] and resumed["best_version"] == done["best_version"]
    assert resumed["calls"]["search"] == done["calls"]["search"]
    assert len(store.results(done["run"])) == rows  # nothing computed twice


def test_cli_optimize_bad_input_is_a_clear_error(project: Path) -> None:
    r = cli.invoke(app, ["optimize", "sentiment", "-s", "suites/sentiment.yaml", "--split", "1,2"])
    assert r.exit_code == 2 and "--split" in r.output and "Traceback" not in r.output
    r = cli.invoke(app, ["optimize", "nope", "-s", "suites/sentiment.yaml"])
    assert r.exit_code == 2 and "nope" in r.output
    r = cli.invoke(app, ["optimize", "sentiment"])
    assert r.exit_code == 2 and "suite" in r.output


def test_too_few_cases_is_refused() -> None:
    cases = [Case(id=str(i), inputs={"x": i}) for i in range(4)]
    with pytest.raises(UserError, match="too few"):
        split_cases(cases, 0, (0.3, 0.4, 0.3))


@pytest.mark.parametrize("proposer", [DemoSets(), Patterns(), Mutations()])
def test_proposers_give_valid_distinct_prompts(project: Path, proposer: object) -> None:
    prompt = load_prompt(project / "prompts" / "sentiment.prompty")
    layout = decompose(prompt)
    suite = load_suite(project / "suites" / "sentiment.yaml")
    from prompteur.optimizer.engine import labelled_pool

    pool = labelled_pool(layout, list(suite.cases()))
    state = SearchState(layout, pool, random.Random(0), starting_candidate(layout))
    cands = asyncio.run(proposer.propose(state, 6))  # type: ignore[attr-defined]
    assert cands
    start = materialize(layout, starting_candidate(layout)).version
    for c in cands:
        made = materialize(layout, c)
        assert made.version != start and c.change != "starting prompt"
        made.render({"review": "Fine."})
