"""Evaluation: a suite → a run in the store, every result written as it arrives.

Orchestration only: the suite says what, the runner does it, the store keeps it, the report
reads it back. `evaluate_plan` runs any plan of prompts × models × cases × repeats as a run of
its kind: `eval` itself, and the gate, regression runs and the playground.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UserError
from .library import Library
from .runner import ResultRecord, RunStats, WorkItem, plan
from .runs import RunKind, choose_models, open_runner, resume, start
from .suite import Case, Suite, load_suite

if TYPE_CHECKING:
    from .config import Config
    from .models.base import Params
    from .prompt import Prompt
    from .store import Store
    from .store.db import RunInfo


@dataclass
class EvalPlan:
    suite: Suite
    prompts: list[Prompt]
    models: dict[str, list[str]]  # prompt version → model ids
    repeat: int

    @property
    def model_ids(self) -> list[str]:
        seen: dict[str, None] = {}
        for ids in self.models.values():
            for m in ids:
                seen.setdefault(m, None)
        return list(seen)

    def items(self) -> Iterator[WorkItem]:
        return plan(self.prompts, self.models, self.suite.cases, self.repeat)

    def total(self) -> int:
        return self.suite.count_cases() * self.repeat * sum(len(v) for v in self.models.values())

    def describe(self) -> dict[str, Any]:
        return {
            "kind": RunKind.EVAL.value,
            "suite": str(self.suite.path),
            "prompts": [{"name": p.name, "version": p.version} for p in self.prompts],
            "models": self.model_ids,
            "repeat": self.repeat,
            "checks": self.suite.spec.checks,
            "threshold": self.suite.spec.threshold,
        }


@dataclass
class FirstCases(EvalPlan):
    """An eval plan over the suite's first `limit` cases only (None: all of them)."""

    limit: int | None = None

    def _cases(self) -> Iterator[Case]:
        return itertools.islice(self.suite.cases(), self.limit)

    def first_case(self) -> Case | None:
        return next(iter(self._cases()), None)

    def items(self) -> Iterator[WorkItem]:
        return plan(self.prompts, self.models, self._cases, self.repeat)

    def total(self) -> int:
        n = sum(1 for _ in self._cases())
        return n * self.repeat * sum(len(v) for v in self.models.values())


# Typed inputs: as many as a prompt declares, each bounded like a form field.
MAX_TYPED_INPUTS = 50
MAX_TYPED_CHARS = 20_000


def typed_suite(prompt: Prompt, inputs: Mapping[str, str]) -> Suite:
    """A one-case suite, in memory, from inputs typed by hand: no checks (nothing says what a
    right answer is), so the run shows the output and stores it, unjudged."""
    from .suite import CaseSpec, SuiteFile
    from .yamlfile import LineMap

    if len(inputs) > MAX_TYPED_INPUTS:
        raise UserError(f"at most {MAX_TYPED_INPUTS} inputs", field="inputs")
    for key, value in inputs.items():
        if len(value) > MAX_TYPED_CHARS:
            raise UserError(
                f"input '{key}' is {len(value):,} characters long: at most {MAX_TYPED_CHARS:,}",
                field=f"input.{key}",
            )
    spec = SuiteFile(prompts=[prompt.name], cases=[CaseSpec(inputs=dict(inputs))])
    return Suite(Path("typed-inputs"), spec, LineMap({}, 1))


def make_plan(
    config: Config,
    store: Store | None,
    suite_path: str,
    *,
    models: Sequence[str] | None = None,
    repeat: int | None = None,
) -> EvalPlan:
    """The plan of a suite: its prompts (library names, resolved in the store for
    NAME@VERSION or NAME@label), each on `choose_models(models, suite, prompt)`."""
    suite = load_suite(suite_path)
    library = Library.from_config(config)
    prompts = []
    for i, ref in enumerate(suite.spec.prompts):
        try:
            prompts.append(library.resolve(store, ref))
        except UserError as exc:
            raise UserError(
                exc.message,
                file=suite.path,
                line=suite.lines.line(("prompts", i)),
                field=f"prompts[{i}]",
                hint=exc.hint,
            ) from None
    chosen = {p.version: choose_models(models, suite, p, config) for p in prompts}
    return EvalPlan(suite, prompts, chosen, repeat or suite.spec.repeat)


def plan_from_run(
    config: Config,
    store: Store,
    info: RunInfo,
    *,
    suite: str | None = None,
    models: Sequence[str] | None = None,
    repeat: int | None = None,
) -> EvalPlan:
    """The plan of an interrupted eval run, to finish it (what is given overrides what the run
    recorded); refuses a run of another kind, whose plan would rebuild the wrong work."""
    from .runs import expect_kind

    expect_kind(info, RunKind.EVAL)
    return make_plan(
        config,
        store,
        suite or info.plan.get("suite") or info.suite,
        models=models or info.plan.get("models"),
        repeat=repeat or info.plan.get("repeat"),
    )


@dataclass
class EvalRun:
    """A finished (or stopped) run: its id and what this process computed."""

    run_id: str
    stats: RunStats = field(default_factory=RunStats)


async def evaluate_plan(
    config: Config,
    store: Store,
    eval_plan: EvalPlan,
    *,
    resume_run: RunInfo | None = None,
    kind: RunKind = RunKind.EVAL,
    extra: dict[str, Any] | None = None,
    use_cache: bool = True,
    concurrency: int | None = None,
    params: Params | None = None,
    on_start: Callable[[str, int, int], None] | None = None,
    on_result: Callable[[ResultRecord], None] | None = None,
) -> EvalRun:
    """Run `eval_plan` as a new run of `kind` (its plan has `extra` on top), or what is missing
    from `resume_run`. The run ends `done`, `failed` or `interrupted`, never `running`.
    `on_start(run_id, total, already_stored)` is called once the run exists."""
    if resume_run is not None:
        handle = resume(store, resume_run, kind)
    else:
        handle = start(
            store, kind, str(eval_plan.suite.path), {**eval_plan.describe(), **(extra or {})}
        )
    with handle:
        total = eval_plan.total()
        handle.set_total(total)
        done = handle.done_keys()
        if on_start is not None:
            on_start(handle.id, total, len(done))
        library = Library.from_config(config)
        for p in eval_plan.prompts:
            library.save(store, p)
        async with open_runner(
            config,
            eval_plan.model_ids,
            checks=eval_plan.suite.spec.checks,
            threshold=eval_plan.suite.spec.threshold,
            cache=store.cache if use_cache else None,
            concurrency=concurrency,
            params=params,
        ) as runner:
            stats = await runner.run(eval_plan.items(), handle.sink, done=done, on_result=on_result)
    return EvalRun(handle.id, stats)
