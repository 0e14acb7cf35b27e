"""A suite run end to end through a chain, stored as a run like any other.

The suite file is an ordinary suite (`prompts:` may be left out: the chain is the subject).
A check with a `step:` key judges that step's value instead of the chain's final output:

```yaml
checks:
  - {type: equals}                                  # the final output vs the case's expected
  - {step: category, type: equals, value: billing}  # an intermediate step
```

Every result lands in the store with the chain's name and version; the last entry of its
`checks` list (named `steps`, weight 0) keeps each step's output, so a failure can be traced
to the step that caused it.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ..yamlfile import LineMap, dotted, load_mapping, read_text, validate
from ._executor import ChainExecutor, ChainOutcome, as_text, check_case_inputs

if TYPE_CHECKING:
    from ..checks import Check
    from ..config import Config
    from ..runner import ResultRecord
    from ..store import Store
    from ..store.db import RunInfo
    from ..suite import Case, Suite
    from ._spec import Chain

StepCheck = tuple[str | None, "Check"]  # (step id or None for the final output, check)


@dataclass
class ChainSuite:
    suite: Suite
    checks: list[StepCheck]
    case_checks: dict[int, list[StepCheck]] = field(default_factory=dict)


def _build(spec: Any, chain: Chain, path: Path, lines: LineMap, loc: tuple[Any, ...]) -> StepCheck:
    from ..checks import build
    from ..suite import inline_files

    step = None
    if isinstance(spec, dict) and "step" in spec:
        spec = dict(spec)
        step = str(spec.pop("step"))
        known = [s.id for s in chain.steps]
        if step not in known:
            raise UserError(
                f"unknown step '{step}' of chain '{chain.name}'",
                file=path,
                line=lines.line((*loc, "step")),
                field=dotted((*loc, "step")),
                hint="steps: " + ", ".join(known),
            )
    # Files a check names (a python check's module, a schema) are found inside the project,
    # relative to the suite, as for any suite.
    spec = inline_files(spec, path, lines, loc)
    try:
        return step, build(spec, where=dotted(loc))
    except UserError as exc:
        raise UserError(
            exc.message, file=path, line=lines.line(loc), field=exc.field, hint=exc.hint
        ) from None


def load_chain_suite(path: str | Path, chain: Chain) -> ChainSuite:
    from ..suite import Suite, SuiteFile

    path = Path(path)
    data, lines = load_mapping(
        read_text(path, "suite file"), path, what="suite", example_keys=("cases", "checks")
    )
    # Checks are built here (they may name a step); the suite model sees none.
    plain = copy.deepcopy(data)
    plain.setdefault("prompts", [str(chain.path)])
    raw_checks = plain.pop("checks", None) or []
    raw_cases = plain.get("cases") or []
    case_raw: dict[int, list[Any]] = {}
    if isinstance(raw_cases, list):
        for i, c in enumerate(raw_cases):
            if isinstance(c, dict) and c.get("checks"):
                case_raw[i] = c.pop("checks")
    spec = validate(SuiteFile, plain, lines, path)
    if not spec.cases and not spec.dataset:
        raise UserError("the suite has no cases", file=path, field="cases")
    if not isinstance(raw_checks, list):
        raise UserError("checks must be a list", file=path, line=lines.line(("checks",)))
    checks = [_build(c, chain, path, lines, ("checks", i)) for i, c in enumerate(raw_checks)]
    case_checks = {
        i: [_build(c, chain, path, lines, ("cases", i, "checks", k)) for k, c in enumerate(cs)]
        for i, cs in case_raw.items()
    }
    suite = Suite(path, spec, lines)
    for case in suite.cases():
        check_case_inputs(chain, case.inputs, case.source)
    return ChainSuite(suite, checks, case_checks)


async def _score(
    checks: list[StepCheck], outcome: ChainOutcome, case: Case, model: str, models: Any = None
) -> tuple[list[dict[str, Any]], float | None, bool | None]:
    from ..checks import CheckContext

    rows: list[dict[str, Any]] = []
    total = weighted = 0.0
    all_pass = True
    for step, chk in checks:
        if step is None:
            text = outcome.output
        else:
            trace = outcome.step(step)
            text = as_text(trace.value) if trace and trace.value is not None else None
        if text is None:
            continue
        ctx = CheckContext(
            output=text,
            expected=case.expected,
            inputs=case.inputs,
            latency_s=outcome.latency_s,
            cost=outcome.cost,
            model=model,
            models=models,
        )
        r = await chk(ctx)
        rows.append(
            {
                "name": r.name if step is None else f"{step}: {r.name}",
                "passed": r.passed,
                "score": r.score,
                "reason": r.reason,
                "weight": r.weight,
                **({"step": step} if step else {}),
            }
        )
        total += r.weight
        weighted += r.score * r.weight
        all_pass = all_pass and r.passed
    if not rows:
        return rows, None, None
    return rows, weighted / (total or 1.0), all_pass


def _case_checks(cs: ChainSuite, index: int, case: Case, chain: Chain) -> list[StepCheck]:
    extra = cs.case_checks.get(index)
    if extra is None and case.checks:  # a dataset row's own checks
        where = cs.suite.lines
        extra = [_build(c, chain, cs.suite.path, where, ("dataset",)) for c in case.checks]
    return cs.checks + (extra or [])


async def run_chain_suite(
    chain: Chain,
    cs: ChainSuite,
    config: Config,
    store: Store,
    run_id: str,
    *,
    model: str | None = None,
    repeat: int | None = None,
    use_cache: bool = True,
    concurrency: int = 16,
    on_result: Callable[[ResultRecord], None] | None = None,
) -> list[ResultRecord]:
    """Every (case, repeat) not yet stored in `run_id`, through the chain; returns the new
    results (already written to the store, in batches as they arrive)."""
    from ..runner import ResultRecord

    executor = ChainExecutor(chain, config, model=model, cache=store.cache if use_cache else None)
    version = chain.version
    label = executor.label
    done = store.done_keys(run_id)
    reps = repeat or cs.suite.spec.repeat
    threshold = cs.suite.spec.threshold
    gate = asyncio.Semaphore(concurrency)
    pending: list[ResultRecord] = []
    new: list[ResultRecord] = []

    async def one(index: int, case: Case, r: int) -> None:
        async with gate:
            outcome = await executor.run(case.inputs, repeat=r)
        rows, score, passed = await _score(
            _case_checks(cs, index, case, chain), outcome, case, label, executor.pool
        )
        if threshold is not None and score is not None:
            passed = score >= threshold
        if outcome.error:
            passed, score = False, 0.0
        rows.append(
            {
                "name": "steps",
                "passed": True,
                "score": 1.0,
                "weight": 0.0,
                "reason": "",
                "steps": [s.to_dict() for s in outcome.steps],
            }
        )
        rec = ResultRecord(
            prompt=chain.name,
            version=version,
            model=label,
            case_id=case.id,
            repeat=r,
            inputs=case.inputs,
            expected=case.expected,
            output=outcome.output,
            passed=passed,
            score=score,
            checks=rows,
            latency_s=outcome.latency_s,
            input_tokens=sum(s.input_tokens for s in outcome.steps),
            output_tokens=sum(s.output_tokens for s in outcome.steps),
            cost=outcome.cost,
            error=outcome.error,
            cached=bool(outcome.steps) and all(s.cached for s in outcome.steps),
            attempts=sum(s.attempts for s in outcome.steps),
            tags=list(case.tags),
        )
        pending.append(rec)
        new.append(rec)
        if on_result:
            on_result(rec)
        if len(pending) >= 32:
            batch = pending[:]
            pending.clear()
            await asyncio.to_thread(store.write_results, run_id, batch)

    try:
        tasks = [
            one(i, case, r)
            for i, case in enumerate(cs.suite.cases())
            for r in range(reps)
            if (version, label, case.id, r) not in done
        ]
        await asyncio.gather(*tasks)
    finally:
        if pending:
            await asyncio.to_thread(store.write_results, run_id, pending[:])
        await executor.aclose()
    return new


async def evaluate_chain(
    chain: Chain,
    cs: ChainSuite,
    config: Config,
    store: Store,
    *,
    model: str | None = None,
    repeat: int | None = None,
    use_cache: bool = True,
    resume_run: RunInfo | None = None,
    on_start: Callable[[str, int, int], None] | None = None,
    on_result: Callable[[ResultRecord], None] | None = None,
) -> str:
    """A suite through a chain, as a chain run in the store (or what is missing from
    `resume_run`, which must be of the same chain version); returns the run's id. The run
    ends `done`, `failed` or `interrupted`. `on_start(run_id, total, already_stored)`."""
    from ..runs import RunKind, expect_kind, resume, start
    from ._executor import model_for

    reps = repeat or cs.suite.spec.repeat
    total = cs.suite.count_cases() * reps
    if resume_run is not None:
        expect_kind(resume_run, RunKind.CHAIN)
        before = (resume_run.plan.get("prompts") or [{}])[0].get("version")
        if before and before != chain.version:
            raise UserError(
                f"the chain changed since run {resume_run.id}",
                field="--resume",
                hint="start a new run: prompteur chain test CHAIN --suite SUITE",
            )
        handle = resume(store, resume_run, RunKind.CHAIN)
    else:
        label = "+".join(dict.fromkeys(model_for(s, chain, config, model) for s in chain.steps))
        plan = {**plan_of(chain, cs, label, reps), "model": model}
        handle = start(store, RunKind.CHAIN, str(cs.suite.path), plan, total)
    with handle:
        handle.set_total(total)
        if on_start is not None:
            on_start(handle.id, total, len(handle.done_keys()))
        await run_chain_suite(
            chain,
            cs,
            config,
            store,
            handle.id,
            model=model,
            repeat=reps,
            use_cache=use_cache,
            on_result=on_result,
        )
    return handle.id


@dataclass(frozen=True)
class ChainRunArgs:
    chain: Path
    suite: Path
    model: str | None
    repeat: int | None


def resume_args(info: RunInfo) -> ChainRunArgs:
    """What an interrupted chain run was started with; refuses a run of another kind."""
    from ..runs import RunKind, expect_kind

    expect_kind(info, RunKind.CHAIN)
    return ChainRunArgs(
        Path(str(info.plan.get("chain"))),
        Path(str(info.plan.get("suite") or info.suite)),
        info.plan.get("model"),
        info.plan.get("repeat"),
    )


def plan_of(chain: Chain, cs: ChainSuite, label: str, repeat: int) -> dict[str, Any]:
    """What the run records about itself (shown by `prompteur runs` / `show`)."""
    return {
        "kind": "chain",
        "suite": str(cs.suite.path),
        "chain": str(chain.path),
        "prompts": [{"name": chain.name, "version": chain.version}],
        "steps": [
            {"id": s.id, "prompt": s.prompt.name, "version": s.prompt.version} for s in chain.steps
        ],
        "models": [label],
        "repeat": repeat,
        "checks": [],
        "threshold": cs.suite.spec.threshold,
    }
