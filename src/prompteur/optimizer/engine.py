"""`prompteur optimize`: a prompt and a suite in, a better version (or the honest news that
there is none) out.

The suite's cases are split once, with the seed, into train (demonstrations come from
there), development (the search scores candidates there) and test (held out: the search never
sees it; the final report is on it alone, as a paired comparison with the starting prompt).
Everything is one run in the store: candidates' results, the search history, the outcome.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ..i18n import plural
from ..records import RunKind
from ..stats import Interval, PairedComparison, bootstrap_mean, compare_paired, wilson
from .contract import Contract, as_answer
from .evaluator import Budget, Evaluator, passed_of, score_of
from .proposers import DemoSets, ModelProposer, Mutations, Patterns, Proposer, SearchState
from .search import Search, rungs_for
from .space import Layout, decompose, front_matter, materialize, starting_candidate

if TYPE_CHECKING:
    from ..config import Config
    from ..models.base import Model
    from ..prompt import Prompt
    from ..runner import Runner
    from ..runs import RunHandle
    from ..store import Store
    from ..store.db import RunInfo
    from ..suite import Case


@dataclass
class Settings:
    budget: int = 300  # every task-model call: the search and the held-out report
    proposer_budget: int = 20  # proposer-model calls (used only with a proposer model)
    seed: int = 0
    split: tuple[float, float, float] = (0.3, 0.4, 0.3)  # train, dev, test
    max_demos: int = 16
    report_train: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SplitScore:
    mean: Interval
    pass_rate: Interval
    cases: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": asdict(self.mean),
            "pass_rate": asdict(self.pass_rate),
            "cases": self.cases,
        }


@dataclass
class Outcome:
    run_id: str
    start: Prompt
    best: Prompt
    changes: list[str]
    scores: dict[str, dict[str, SplitScore]]  # split → {"start", "best"}
    comparison: PairedComparison | None
    budget: Budget
    history: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """A candidate beat the starting prompt on the development cases."""
        return self.best.version != self.start.version

    @property
    def improved(self) -> bool:
        """The held-out paired test says the optimized prompt is better: winning on the
        development cases it was chosen on is no evidence by itself."""
        return improved(self.comparison)

    def summary(self) -> dict[str, Any]:
        c = self.comparison
        return {
            "run": self.run_id,
            "start_version": self.start.version,
            "best_version": self.best.version,
            "changed": self.changed,
            "improved": self.improved,
            "changes": self.changes,
            "scores": {
                split: {who: s.to_dict() for who, s in by_who.items()}
                for split, by_who in self.scores.items()
            },
            "test_comparison": None
            if c is None
            else {
                "cases": c.cases,
                "only_start": c.only_a,
                "only_best": c.only_b,
                "rate_start": c.rate_a,
                "rate_best": c.rate_b,
                "difference": asdict(c.difference),
                "p_value": c.p_value,
                "score_difference": asdict(c.score_difference) if c.score_difference else None,
                "score_p_value": c.score_p_value,
                "significant": c.significant,
                "words": c.words(),
            },
            "calls": {
                "search": self.budget.spent_task,
                "reporting": self.budget.spent_final,
                "total": self.budget.spent_task + self.budget.spent_final,
                "budget": self.budget.task_calls,
                "reserved": self.budget.reserved,
                "proposer": self.budget.spent_proposer,
                "cache_hits": self.budget.cache_hits,
            },
            "notes": self.notes,
        }


def improved(c: PairedComparison | None) -> bool:
    """Significantly better on the held-out cases (exact McNemar on pass/fail)."""
    return c is not None and c.significant and c.difference.estimate > 0


def improved_of(result: dict[str, Any] | None) -> bool | None:
    """What a stored outcome says, from its held-out comparison (None: no outcome yet).
    Outcomes stored before "improved" meant this are read the same way."""
    if not result:
        return None
    c = result.get("test_comparison")
    return bool(c and c.get("significant") and c["difference"]["estimate"] > 0)


def reserve_for(test: Sequence[Any]) -> int:
    """Calls kept for the held-out report: the starting and the optimized prompt on every
    test case, at worst."""
    return 2 * len(test)


def check_budget(settings: Settings, dev: Sequence[Any], test: Sequence[Any]) -> None:
    """The budget must pay for the held-out report and a search that compares candidates."""
    reserve = reserve_for(test)
    least = reserve + 2 * rungs_for(len(dev))[0]
    if settings.budget < least:
        raise UserError(
            f"--budget {settings.budget} is too small: the held-out report takes up to "
            f"{reserve} calls (two prompts on {len(test)} test cases), and racing two "
            f"candidates on the first {rungs_for(len(dev))[0]} development cases "
            f"{least - reserve} more",
            field="--budget",
            hint=f"give --budget {least} or more (the budget caps every task-model call)",
        )


def split_cases(
    cases: Sequence[Case], seed: int, fractions: tuple[float, float, float]
) -> tuple[list[Case], list[Case], list[Case]]:
    if len(cases) < 6:
        raise UserError(
            f"the suite has {plural(len(cases), 'case')}: too few to optimize honestly",
            hint="an optimizer needs train, development and held-out test cases — "
            "at least 6, and a few dozen to measure anything",
        )
    if any(f <= 0 for f in fractions):
        raise UserError("--split needs three positive parts: train,dev,test")
    order = sorted(cases, key=lambda c: c.id)
    random.Random(f"split:{seed}").shuffle(order)
    total = sum(fractions)
    n_train = max(1, round(len(order) * fractions[0] / total))
    n_test = max(2, round(len(order) * fractions[2] / total))
    n_dev = len(order) - n_train - n_test
    if n_dev < 2:
        raise UserError("--split leaves fewer than 2 development cases")
    return order[:n_train], order[n_train : n_train + n_dev], order[n_train + n_dev :]


def labelled_pool(
    layout: Layout, train: Sequence[Case], contract: Contract | None = None
) -> list[dict[str, Any]]:
    """Demonstrations from the train cases' expected values: with an output schema, only
    those that are complete answers (see contract.py)."""
    pool = []
    for c in train:
        if contract is not None:
            answer = contract.answer(c.expected)
        else:
            options = c.expected if isinstance(c.expected, list) else [c.expected]
            answer = as_answer(options[0]) if options else None
        if answer is None:
            continue
        pool.append({**{k: c.inputs.get(k) for k in layout.input_names}, layout.output_key: answer})
    return pool


def split_score(records: Sequence[Any]) -> SplitScore:
    scores = [score_of(r) for r in records]
    passed = sum(passed_of(r) for r in records)
    return SplitScore(bootstrap_mean(scores), wilson(passed, len(records)), len(records))


async def optimize(
    store: Store,
    runner: Runner,
    model_id: str,
    prompt: Prompt,
    train: list[Case],
    dev: list[Case],
    test: list[Case],
    settings: Settings,
    *,
    suite: str = "",
    proposer: Model | None = None,
    run_id: str | None = None,
    on_start: Callable[[str], None] | None = None,
    on_progress: Callable[[Budget], None] | None = None,
) -> Outcome:
    """Search for a better `prompt` under the budget, in a new run (or the interrupted one,
    `run_id`); the run ends `done`, `failed` or `interrupted`. `on_start(run_id)` is called
    once the run exists."""
    from ..runs import resume, start

    if run_id is None:
        handle = start(
            store,
            RunKind.OPTIMIZE,
            suite,
            {
                "prompt": prompt.name,
                "start_version": prompt.version,
                "model": model_id,
                "proposer": getattr(proposer, "id", None),
                "settings": settings.to_dict(),
                "splits": {
                    "train": [c.id for c in train],
                    "dev": [c.id for c in dev],
                    "test": [c.id for c in test],
                },
            },
            settings.budget,
        )
    else:
        handle = resume(store, store.get_run(run_id), RunKind.OPTIMIZE)
    with handle:
        if on_start is not None:
            on_start(handle.id)
        outcome = await _optimize(
            store,
            runner,
            model_id,
            prompt,
            train,
            dev,
            test,
            settings,
            proposer=proposer,
            run=handle,
            on_progress=on_progress,
        )
        # The run's total was the budget, a bound on calls; its results also hold answers
        # the cache gave for free. Done, it has every result it will have.
        handle.set_total(store.get_run(handle.id).done)
        return outcome


async def _optimize(
    store: Store,
    runner: Runner,
    model_id: str,
    prompt: Prompt,
    train: list[Case],
    dev: list[Case],
    test: list[Case],
    settings: Settings,
    *,
    proposer: Model | None,
    run: RunHandle,
    on_progress: Callable[[Budget], None] | None,
) -> Outcome:
    run_id = run.id
    layout = decompose(prompt)
    contract = Contract.of(prompt)
    front = front_matter(layout)
    check_budget(settings, dev, test)
    budget = Budget(
        settings.budget, settings.proposer_budget if proposer else 0, reserved=reserve_for(test)
    )
    ev = Evaluator(runner, model_id, store, run_id, budget, on_progress)
    ev.load_previous()
    rng = random.Random(settings.seed)
    notes = list(layout.notes)
    start = starting_candidate(layout)
    pool = labelled_pool(layout, train, contract)
    with_expected = sum(c.expected is not None for c in train)
    if contract is not None and len(pool) < with_expected:
        notes.append(
            f"{with_expected - len(pool)} of {with_expected} train cases' expected values do "
            "not satisfy the output schema (a partial expected value is for checks, not a "
            "whole answer): they are not used as demonstrations"
        )
    if contract is not None and layout.fields is not None:
        broken = [
            i + 1
            for i, d in enumerate(start.demo_dicts)
            if not contract.accepts(str(d.get(layout.output_key, "")))
        ]
        if broken:
            notes.append(
                f"the starting prompt's demonstration(s) {', '.join(map(str, broken))} do not "
                "satisfy the output schema: new candidates leave them out"
            )
    if not pool and layout.fields is not None and train:
        pool = await bootstrap_pool(ev, layout, materialize(layout, start, front), train, contract)
        notes.append(
            f"no usable expected values: {len(pool)} demonstrations bootstrapped from the "
            "model's own passing outputs on train cases"
            + (" that satisfy the output schema" if contract is not None else "")
        )
    state = SearchState(layout, pool, rng, start, max_demos=settings.max_demos, contract=contract)
    # Exploration draws demonstration sets; the pattern library then works on the best of
    # them (refine), not on the starting prompt's few demonstrations. Without demonstrations
    # to search, the patterns explore.
    searchable = bool(pool) and layout.fields is not None
    explore: list[Proposer] = [DemoSets()] if searchable else [Patterns()]
    refine: list[Proposer] = [Mutations(), Patterns()]
    if proposer is not None:
        mp = ModelProposer(proposer, budget)
        explore.append(mp)
        refine.append(mp)

    def save_history(history: list[dict[str, Any]]) -> None:
        run.update_plan({"history": history})

    search = Search(ev, layout, front, dev, state, explore, refine, save_history)
    best = await search.run(start, prompt)
    start_prompt = prompt
    # The held-out report, from what the budget kept for it: the test cases first (their
    # calls were reserved), then development and train cases while calls are left.
    splits = {"dev": dev, "test": test} | ({"train": train} if settings.report_train else {})
    splits = {name: cases for name, cases in splits.items() if cases}
    for name in ("test", "dev", "train"):
        if name in splits:
            pair = [(p, splits[name]) for p in (start_prompt, best.prompt)]
            if not await ev.evaluate(pair, final=True):
                notes.append(
                    f"the budget left too few calls to report on every {name} case: the "
                    f"{name} scores are on the cases evaluated (n)"
                )
    scores = {
        name: {
            "start": split_score(ev.records(start_prompt, [c.id for c in cases])),
            "best": split_score(ev.records(best.prompt, [c.id for c in cases])),
        }
        for name, cases in splits.items()
    }
    comparison = None
    if not test:
        notes.append("no held-out test cases: nothing can say whether the prompt improved")
    elif best.prompt.version != start_prompt.version:
        ids = [c.id for c in test]
        a = {r.case_id: r for r in ev.records(start_prompt, ids)}
        b = {r.case_id: r for r in ev.records(best.prompt, ids)}
        common = [i for i in ids if i in a and i in b]
        comparison = compare_paired(
            "start",
            "optimized",
            [(passed_of(a[i]), passed_of(b[i])) for i in common],
            scores=[(score_of(a[i]), score_of(b[i])) for i in common],
        )
    changes = [e.cand.change for e in search.lineage(best.prompt.version)[1:]]
    outcome = Outcome(
        run_id, start_prompt, best.prompt, changes, scores, comparison, budget, search.history
    )
    outcome.notes = notes
    for p in (start_prompt, best.prompt):
        store.save_version(p.name, p.version, p.text, f"optimize:{run_id}")
    run.update_plan({"history": search.history, "result": outcome.summary()})
    return outcome


async def bootstrap_pool(
    ev: Evaluator,
    layout: Layout,
    start: Prompt,
    train: list[Case],
    contract: Contract | None = None,
) -> list[dict[str, Any]]:
    """Demonstrations from the model's own passing outputs (DSPy's bootstrapping), for suites
    whose cases carry checks but no usable expected answer; with an output schema, only the
    outputs that satisfy it."""
    from .evaluator import BudgetExhausted

    cases = train[: max(8, min(len(train), ev.budget.left // 4))]
    with contextlib.suppress(BudgetExhausted):
        await ev.evaluate([(start, cases)])
    pool = []
    for r in ev.records(start, [c.id for c in cases]):
        if not (passed_of(r) and r.output and r.output.strip()):
            continue
        if contract is None or contract.accepts(r.output):
            inputs = {k: r.inputs.get(k) for k in layout.input_names}
            pool.append({**inputs, layout.output_key: r.output.strip()})
    return pool


async def run_optimization(
    config: Config,
    store: Store,
    prompt_ref: str | None,
    suite_path: str | None,
    settings: Settings,
    *,
    model: str | None = None,
    proposer: str | None = None,
    resume_run: RunInfo | None = None,
    on_start: Callable[[str, OptimizeStart], None] | None = None,
    on_progress: Callable[[Budget], None] | None = None,
) -> Outcome:
    """Optimize `prompt_ref` on `suite_path` (or finish `resume_run`, on the same prompt
    version, model, settings and case splits it recorded). The task model is
    `choose_models(model, suite, prompt)`: `--model`, the suite's, the prompt's, the project's.
    `on_start(run_id, start)` is called once the run exists."""
    from ..library import Library
    from ..runs import choose_models, expect_kind, open_runner
    from ..suite import load_suite

    library = Library.from_config(config)
    if resume_run is not None:
        info = resume_run
        expect_kind(info, RunKind.OPTIMIZE)
        s = info.plan["settings"]
        settings = Settings(
            budget=s["budget"],
            proposer_budget=s["proposer_budget"],
            seed=s["seed"],
            split=tuple(s["split"]),
            max_demos=s["max_demos"],
            report_train=s["report_train"],
        )
        prompt = library.resolve(store, f"{info.plan['prompt']}@{info.plan['start_version']}")
        suite = load_suite(suite_path or info.suite)
        model_id = info.plan["model"]
        proposer = info.plan.get("proposer")
        by_id = {c.id: c for c in suite.cases()}
        splits = info.plan["splits"]
        missing = [i for k in splits.values() for i in k if i not in by_id]
        if missing:
            raise UserError(
                f"{plural(len(missing), 'case')} of run {info.id} are no longer in the suite",
                file=suite.path,
                hint="an optimization resumes on the same cases",
            )
        train, dev, test = ([by_id[i] for i in splits[k]] for k in ("train", "dev", "test"))
    else:
        if not prompt_ref or not suite_path:
            raise UserError("name a prompt and a suite: prompteur optimize PROMPT --suite SUITE")
        prompt = library.resolve(store, prompt_ref)
        suite = load_suite(suite_path)
        model_id = choose_models(model, suite, prompt, config)[0]
        train, dev, test = split_cases(list(suite.cases()), settings.seed, settings.split)
    begin = OptimizeStart(prompt, model_id, proposer, len(train), len(dev), len(test))
    async with open_runner(
        config,
        [model_id],
        checks=suite.spec.checks,
        threshold=suite.spec.threshold,
        cache=store.cache,
    ) as runner:
        assert runner.pool is not None
        proposer_model = runner.pool.get(proposer) if proposer else None
        return await optimize(
            store,
            runner,
            model_id,
            prompt,
            train,
            dev,
            test,
            settings,
            suite=str(suite.path),
            proposer=proposer_model,
            run_id=resume_run.id if resume_run is not None else None,
            on_start=(lambda run_id: on_start(run_id, begin)) if on_start else None,
            on_progress=on_progress,
        )


@dataclass(frozen=True)
class OptimizeStart:
    """What an optimization works on, said when it starts."""

    prompt: Prompt
    model_id: str
    proposer: str | None
    train: int
    dev: int
    test: int
