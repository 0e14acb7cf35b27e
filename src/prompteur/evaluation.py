"""`prompteur eval`: a suite → a run in the store, every result written as it arrives.

Orchestration only: the suite says what, the runner does it, the store keeps it, the report
reads it back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import UserError
from .library import Library
from .models.base import Model, Params
from .models.pricing import cost as cost_of
from .models.providers import get_model
from .runner import ResultRecord, Runner, RunStats, WorkItem, plan
from .suite import Suite, load_suite

if TYPE_CHECKING:
    from .config import Config
    from .prompt import Prompt
    from .store import Store


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
            "suite": str(self.suite.path),
            "prompts": [{"name": p.name, "version": p.version} for p in self.prompts],
            "models": self.model_ids,
            "repeat": self.repeat,
            "checks": self.suite.spec.checks,
            "threshold": self.suite.spec.threshold,
        }


def make_plan(
    config: Config,
    store: Store | None,
    suite_path: str,
    *,
    models: list[str] | None = None,
    repeat: int | None = None,
) -> EvalPlan:
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
    chosen: dict[str, list[str]] = {}
    for p in prompts:
        ids = (
            models
            or suite.spec.models
            or [p.resolved_model_id(config) or config.data.project.default_model]
        )
        chosen[p.version] = list(dict.fromkeys(ids))
    return EvalPlan(suite, prompts, chosen, repeat or suite.spec.repeat)


class StoreSink:
    """Writes results into the store, for one run."""

    def __init__(self, store: Store, run_id: str) -> None:
        self.store = store
        self.run_id = run_id

    def write(self, records: list[ResultRecord]) -> None:
        self.store.write_results(self.run_id, records)


async def execute(
    config: Config,
    store: Store,
    eval_plan: EvalPlan,
    run_id: str,
    *,
    use_cache: bool = True,
    concurrency: int | None = None,
    params: Params | None = None,
    on_result: Callable[[ResultRecord], None] | None = None,
) -> RunStats:
    """Run what is missing from `run_id` (all of it for a new run); the run ends `done`,
    `failed` or `interrupted`."""
    from .runs import RunHandle

    with RunHandle(store, run_id):
        return await _execute(
            config,
            store,
            eval_plan,
            run_id,
            use_cache=use_cache,
            concurrency=concurrency,
            params=params,
            on_result=on_result,
        )


async def _execute(
    config: Config,
    store: Store,
    eval_plan: EvalPlan,
    run_id: str,
    *,
    use_cache: bool,
    concurrency: int | None,
    params: Params | None,
    on_result: Callable[[ResultRecord], None] | None,
) -> RunStats:
    models: dict[str, Model] = {m: get_model(m, config) for m in eval_plan.model_ids}
    done = store.done_keys(run_id)
    for p in eval_plan.prompts:
        Library.from_config(config).save(store, p)
    conc = {m: concurrency for m in models} if concurrency else None
    runner = Runner(
        models,
        cost_of=lambda m, usage: cost_of(m, usage, config),
        default_checks=eval_plan.suite.spec.checks,
        threshold=eval_plan.suite.spec.threshold,
        concurrency=conc,
        cache=store.cache if use_cache else None,
        params=params,
    )
    try:
        return await runner.run(
            eval_plan.items(), StoreSink(store, run_id), done=done, on_result=on_result
        )
    finally:
        await asyncio.gather(*(m.aclose() for m in models.values()))


async def execute_new_run(
    config: Config,
    store: Store,
    eval_plan: EvalPlan,
    plan_extra: dict[str, Any],
    *,
    use_cache: bool = True,
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[ResultRecord], None] | None = None,
) -> str:
    """A new run of `eval_plan` (its plan has `plan_extra` on top), run to the end; it ends
    `done`, `failed` or `interrupted` (runs/), never `running`. `on_start` gets the number of
    results to come. Returns the run's id."""
    from .runs import start

    with start(store, str(eval_plan.suite.path), {**eval_plan.describe(), **plan_extra}) as run:
        total = eval_plan.total()
        run.set_total(total)
        if on_start is not None:
            on_start(total)
        await execute(config, store, eval_plan, run.id, use_cache=use_cache, on_result=on_result)
    return run.id
