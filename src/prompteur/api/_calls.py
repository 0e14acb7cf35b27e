"""The API's verbs: render a prompt, evaluate a suite, probe a prompt, optimize it. Each takes a
`Project`; the command line, the server and a Python user call the same functions. The sync
functions run their `*_async` twin in a fresh event loop (call the twin inside a running one)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._project import Project

if TYPE_CHECKING:
    from ..evaluation import EvalPlan, EvalRun
    from ..models.base import Message, Params
    from ..optimizer.engine import OptimizeStart, Outcome
    from ..optimizer.evaluator import Budget
    from ..probes.engine import ProbePlan, ProbeRun
    from ..prompt import Prompt
    from ..records import ResultRecord

OnStart = Callable[[str, int, int], None]  # (run id, results to have, already stored)
OnResult = Callable[["ResultRecord"], None]


def render(
    project: Project,
    prompt: Prompt | str,
    inputs: Mapping[str, Any] | None = None,
    *,
    from_strings: Collection[str] = (),
) -> list[Message]:
    """The messages `prompt` (a Prompt, or a name / NAME@VERSION of the project) renders to
    with `inputs`; no model is called. `from_strings`: inputs given as text to convert to their
    declared kinds (as `-i name=value` on the command line)."""
    p = project.prompt(prompt) if isinstance(prompt, str) else prompt
    return p.render(inputs or {}, from_strings=from_strings)


async def evaluate_async(
    project: Project,
    suite: str | Path | None = None,
    *,
    models: Sequence[str] | None = None,
    repeat: int | None = None,
    resume: str | None = None,
    use_cache: bool = True,
    concurrency: int | None = None,
    params: Params | None = None,
    on_plan: Callable[[EvalPlan], None] | None = None,
    on_start: OnStart | None = None,
    on_result: OnResult | None = None,
) -> EvalRun:
    """Run a suite (a name in suites/ or a path inside the project): its prompts × `models`
    (default: the suite's, the prompt's, the project's) × cases × repeats, every result stored
    as it arrives. `resume`: a run to finish (only what is missing is computed). `on_plan`
    sees what will run (prompts, models, cases) before the run starts."""
    from ..errors import UserError
    from ..evaluation import evaluate_plan, make_plan, plan_from_run

    project.trust(models or ())
    config, store = project.config, project.store
    path = str(project.suite_path(suite)) if suite is not None else None
    info = None
    if resume:
        info = store.get_run(resume)
        plan = plan_from_run(config, store, info, suite=path, models=models, repeat=repeat)
    elif path is None:
        raise UserError("name a suite, or a run to resume")
    else:
        plan = make_plan(config, store, path, models=models, repeat=repeat)
    if on_plan is not None:
        on_plan(plan)
    return await evaluate_plan(
        config,
        store,
        plan,
        resume_run=info,
        use_cache=use_cache,
        concurrency=concurrency,
        params=params,
        on_start=on_start,
        on_result=on_result,
    )


def evaluate(project: Project, suite: str | Path | None = None, **options: Any) -> EvalRun:
    """`evaluate_async`, from synchronous code."""
    return asyncio.run(evaluate_async(project, suite, **options))


async def probe_async(
    project: Project,
    prompt: str | None = None,
    suite: str | Path | None = None,
    *,
    probes: Sequence[str] = (),
    models: Sequence[str] | None = None,
    seed: int = 0,
    per_case: int = 2,
    max_cases: int | None = None,
    field: str | None = None,
    paraphraser: str | None = None,
    judge: str | None = None,
    policy: str | Path | None = None,
    canary: str | None = None,
    resume: str | None = None,
    use_cache: bool = True,
    concurrency: int | None = None,
    on_plan: Callable[[ProbePlan], None] | None = None,
    on_start: OnStart | None = None,
    on_result: OnResult | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> ProbeRun:
    """Hunt a prompt's weaknesses: vary the suite's cases with `probes` (categories such as
    "injection" or probes such as "injection.encoded"; default: all), run them like an eval
    and detect. The report is `result.report`; `resume` finishes an earlier probe run."""
    from ..errors import UserError
    from ..probes import engine

    project.trust([*(models or ()), *(m for m in (paraphraser, judge) if m)])
    config, store = project.config, project.store
    info = None
    if resume:
        info = store.get_run(resume)
        plan = await engine.plan_from_run(config, store, info)
    else:
        if not prompt or suite is None:
            raise UserError("name a prompt and a suite, or a run to resume")
        options = engine.ProbeOptions(
            prompt=prompt,
            suite=str(project.suite_path(suite)),
            probes=list(probes),
            models=list(models or []),
            seed=seed,
            per_case=per_case,
            max_cases=max_cases,
            field=field,
            paraphraser=paraphraser,
            judge=judge,
            policy=str(policy) if policy else None,
            canary=canary,
        )
        plan = await engine.prepare(config, store, options)
    if on_plan is not None:
        on_plan(plan)
    return await engine.run_probe(
        config,
        store,
        plan,
        resume_run=info,
        use_cache=use_cache,
        concurrency=concurrency,
        on_start=on_start,
        on_result=on_result,
        on_phase=on_phase,
    )


def probe(
    project: Project, prompt: str | None = None, suite: str | Path | None = None, **options: Any
) -> ProbeRun:
    """`probe_async`, from synchronous code."""
    return asyncio.run(probe_async(project, prompt, suite, **options))


async def optimize_async(
    project: Project,
    prompt: str | None = None,
    suite: str | Path | None = None,
    *,
    budget: int = 300,
    model: str | None = None,
    proposer: str | None = None,
    proposer_budget: int = 20,
    seed: int = 0,
    split: tuple[float, float, float] = (0.3, 0.4, 0.3),
    max_demos: int = 16,
    resume: str | None = None,
    on_start: Callable[[str, OptimizeStart], None] | None = None,
    on_progress: Callable[[Budget], None] | None = None,
) -> Outcome:
    """Improve `prompt` on `suite` under a budget of task-model calls: demonstrations,
    instruction and labels raced on development cases, judged on held-out ones. The task
    model: `model`, else the suite's, the prompt's, the project's. `resume` finishes an
    earlier optimization on the cases it recorded."""
    from ..optimizer.engine import Settings, run_optimization

    project.trust([m for m in (model, proposer) if m])
    settings = Settings(
        budget=budget,
        proposer_budget=proposer_budget,
        seed=seed,
        split=split,
        max_demos=max_demos,
    )
    store = project.store
    return await run_optimization(
        project.config,
        store,
        prompt,
        str(project.suite_path(suite)) if suite is not None else None,
        settings,
        model=model,
        proposer=proposer,
        resume_run=store.get_run(resume) if resume else None,
        on_start=on_start,
        on_progress=on_progress,
    )


def optimize(
    project: Project, prompt: str | None = None, suite: str | Path | None = None, **options: Any
) -> Outcome:
    """`optimize_async`, from synchronous code."""
    return asyncio.run(optimize_async(project, prompt, suite, **options))
