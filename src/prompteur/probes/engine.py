"""`prompteur probe`: a suite's cases → probe cases → a run in the store → findings → report.

Orchestration only. The probes make the cases and read the results; the runner (the same one
`eval` uses: concurrency, retries, the response cache, resume) runs them; the store keeps every
result as it lands, then the findings and the report.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ..library import Library
from ..models.pool import ModelPool
from ..models.providers import parse_model_id
from ..runner import ResultRecord, RunStats, WorkItem
from ..runs import RunHandle, RunKind, choose_models, expect_kind, open_runner, resume, start
from ..stats import compare_paired
from ..suite import Case, Suite, load_suite
from . import storage
from ._base import (
    Outcome,
    Probe,
    ProbeCase,
    ProbeContext,
    Skip,
    comparison,
    select,
    settle_severity,
)
from ._cached import CachedModel
from ._text import guess_language

if TYPE_CHECKING:
    from ..config import Config
    from ..prompt import Prompt
    from ..store import Store
    from ..store.db import RunInfo

BASELINE = "baseline"
# Made-up words: a model never writes one unless the input made it (2 or 3 tokens each).
CANARIES = ("Zorblax", "Quillfen", "Brastok", "Vemmerly", "Oxtrune", "Plindor", "Gravomir")
LABELS_MAX = 12  # more distinct expected values than this is not a label set
# Why a probe ignores the suite's `repeat` (said in every report of such a suite, and in
# docs/probes.md): counting several samples of one case as several tests would narrow the
# Wilson intervals with data that are not independent.
REPEAT_NOTE = (
    "the suite's repeat: {repeat} is not applied: each probe case is sampled once, because a "
    "rate's unit is the probe case (samples of one case are not independent, so counting them "
    "would make the intervals falsely narrow); the sampling noise itself is measured by "
    "robustness.control, which samples each case twice. For flakiness, use prompteur eval"
)


@dataclass
class ProbeOptions:
    """What the user asked for; stored with the run, so `--resume` rebuilds the same cases."""

    prompt: str
    suite: str
    probes: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    seed: int = 0
    per_case: int = 2
    max_cases: int | None = None
    field: str | None = None
    paraphraser: str | None = None
    judge: str | None = None
    policy: str | None = None
    canary: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeOptions:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class ProbePlan:
    options: ProbeOptions
    prompt: Prompt
    suite: Suite
    models: list[str]
    cases: list[Case]
    probes: list[Probe]
    ctx: ProbeContext
    made: dict[str, list[ProbeCase]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    judge: CachedModel | None = None
    paraphraser: CachedModel | None = None
    default_judge: str = "local"  # the project's default model: the judge of checks naming none
    # The judge's and paraphraser's models (this project's), closed when the run ends.
    pool: ModelPool = field(default_factory=lambda: ModelPool(None))

    @property
    def baseline(self) -> list[ProbeCase]:
        return [ProbeCase(c, BASELINE, c.id, True) for c in self.cases]

    def probe_cases(self) -> list[ProbeCase]:
        return self.baseline + [pc for cases in self.made.values() for pc in cases]

    def total(self) -> int:
        return len(self.probe_cases()) * len(self.models)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": RunKind.PROBE.value,
            "suite": str(self.suite.path),
            "prompts": [{"name": self.prompt.name, "version": self.prompt.version}],
            "models": self.models,
            "repeat": 1,
            "probes": [p.name for p in self.probes],
            "options": asdict(self.options),
            "canary": self.ctx.canary,
            "judge": self.ctx.judge_id,
            "policy_rubric": self.ctx.policy.rubric() if self.ctx.policy else None,
            "checks": self.suite.spec.checks,
            "threshold": self.suite.spec.threshold,
        }


_PLAN_KEYS = {"prompt", "suite", "probes", "field", "per_case", "policy", "seed", "models"}


def read_plan(path: Any) -> dict[str, Any]:
    """A probe plan file: the options of a probe run, in YAML (`prompteur probe --plan`)."""
    from pathlib import Path

    from ..yamlfile import load_yaml, read_text

    path = Path(path)
    data, _ = load_yaml(read_text(path, "probe plan"), path)
    if not isinstance(data, dict):
        raise UserError("a probe plan is a YAML mapping", file=path, line=1)
    unknown = sorted(set(data) - _PLAN_KEYS)
    if unknown:
        raise UserError(
            f"unknown key '{unknown[0]}' in a probe plan",
            file=path,
            field=unknown[0],
            hint="keys: " + ", ".join(sorted(_PLAN_KEYS)),
        )
    probes = data.get("probes")
    if isinstance(probes, str):
        data["probes"] = [probes]
    return data


def _labels(cases: list[Case]) -> list[str]:
    """The suite's label set: short string expected values, a few distinct ones."""
    values = [c.expected for c in cases]
    if not values or not all(isinstance(v, str) and 0 < len(v) <= 40 for v in values):
        return []
    distinct = list(dict.fromkeys(v.strip() for v in values))
    return distinct if 2 <= len(distinct) <= LABELS_MAX else []


def _canary(options: ProbeOptions, prompt: Prompt, cases: list[Case]) -> str:
    if options.canary:
        return options.canary
    text = (prompt.text + " ".join(str(c.inputs) for c in cases)).lower()
    start = options.seed % len(CANARIES)
    for word in CANARIES[start:] + CANARIES[:start]:
        if word.lower() not in text:
            return word
    raise UserError("every built-in canary word appears in the prompt or cases", field="--canary")


def _capable(model_id: str) -> bool:
    from ..checks._judge import is_base_model

    return not is_base_model(model_id)


async def prepare(config: Config, store: Store, options: ProbeOptions) -> ProbePlan:
    """Everything checked and every probe case made, before the first call of the run (the
    paraphraser is the one model called here, through the cache)."""
    from .policy import load_policy

    chosen = select(options.probes)
    suite = load_suite(options.suite)
    prompt = Library.from_config(config).resolve(store, options.prompt)
    if options.field is not None and prompt.meta.inputs and options.field not in prompt.meta.inputs:
        raise UserError(
            f"the prompt has no input '{options.field}'",
            field="--field",
            hint="its inputs: " + ", ".join(prompt.meta.inputs),
        )
    if options.per_case < 0:
        raise UserError("must be 0 (every attack) or more", field="--per-case")
    cases = []
    for case in suite.cases():
        if options.max_cases is not None and len(cases) >= options.max_cases:
            break
        cases.append(case)
    models = choose_models(options.models, suite, prompt, config)
    for m in models:
        parse_model_id(m)  # a UserError naming the bad id, before any call
    for case in cases:  # a case the prompt cannot render fails now, not once per variant
        try:
            prompt.render(case.inputs)
        except UserError as exc:
            file, _, line = case.source.rpartition(":")
            raise UserError(
                f"the prompt cannot render this case: {exc.message}",
                file=file or None,
                line=int(line) if line.isdigit() else None,
                field=exc.field,
                hint=exc.hint,
            ) from None
    ctx = ProbeContext(
        prompt=prompt,
        seed=options.seed,
        per_case=options.per_case,
        target_field=options.field,
        canary=_canary(options, prompt, cases),
        labels=_labels(cases),
        prompt_lang=guess_language(prompt.body),
    )
    plan = ProbePlan(options, prompt, suite, models, cases, chosen, ctx, pool=ModelPool(config))
    plan.default_judge = config.data.project.default_model
    if suite.spec.repeat > 1:
        plan.warnings.append(REPEAT_NOTE.format(repeat=suite.spec.repeat))
    names = {p.name for p in chosen}
    if any(n.startswith("ethics.") for n in names) or options.policy:
        ctx.policy = load_policy(options.policy)
    needs_judge = any(n.startswith("ethics.") or n == "hallucination.grounding" for n in names)
    judge_id = options.judge or config.data.project.default_model
    # A base model judges only when asked by name: its verdicts are close to chance, and
    # "critical" findings from a coin toss would mislead more than a skipped probe.
    if needs_judge and (options.judge or _capable(judge_id)):
        parse_model_id(judge_id)
        inner = plan.pool.judge(judge_id)
        if not _capable(judge_id):
            plan.warnings.append(
                f"the judge {judge_id} is a base model (the embedded 270M one by default): its "
                "verdicts are close to chance; pass --judge with a capable model to trust them"
            )
        plan.judge = CachedModel(inner, store.cache)
        ctx.judge, ctx.judge_id = plan.judge, judge_id
    if options.paraphraser:
        parse_model_id(options.paraphraser)
        if _capable(options.paraphraser):
            plan.paraphraser = CachedModel(plan.pool.get(options.paraphraser), store.cache)
            ctx.paraphraser, ctx.paraphraser_id = plan.paraphraser, options.paraphraser
        else:
            plan.warnings.append(
                f"--paraphraser {options.paraphraser} is a base model: paraphrase and language "
                "switch are skipped"
            )
    for probe in chosen:
        if probe.on_baseline:
            continue
        try:
            plan.made[probe.name] = await probe.generate(ctx, cases)
        except Skip as exc:
            plan.skipped[probe.name] = str(exc)
    return plan


def _with_suite_checks(pc: ProbeCase, suite: Suite) -> Case:
    """The case the runner runs: the suite's checks first, when they still make sense."""
    if not pc.keep_checks or not suite.spec.checks:
        return pc.case
    from dataclasses import replace

    return replace(pc.case, checks=(*suite.spec.checks, *pc.case.checks))


async def execute(
    config: Config,
    store: Store,
    plan: ProbePlan,
    run: RunHandle,
    *,
    use_cache: bool = True,
    concurrency: int | None = None,
    on_result: Callable[[ResultRecord], None] | None = None,
) -> RunStats:
    """Run what is missing from `run`: every probe case on every model, once."""
    Library.from_config(config).save(store, plan.prompt)
    items = [
        WorkItem(pc.prompt or plan.prompt, m, _with_suite_checks(pc, plan.suite), pc.sample)
        for m in plan.models
        for pc in plan.probe_cases()
    ]
    async with open_runner(
        config,
        plan.models,
        threshold=plan.suite.spec.threshold,
        cache=store.cache if use_cache else None,
        concurrency=concurrency,
        pool=plan.pool,
    ) as runner:
        return await runner.run(items, run.sink, done=run.done_keys(), on_result=on_result)


async def analyse(plan: ProbePlan, records: list[ResultRecord]) -> list[Outcome]:
    """Every probe's detectors over its results, per model."""
    by_id = {pc.case.id: pc for pc in plan.probe_cases()}
    grouped: dict[tuple[str, str], list[tuple[ProbeCase, ResultRecord]]] = defaultdict(list)
    baseline: dict[str, dict[str, ResultRecord]] = defaultdict(dict)
    for r in records:
        pc = by_id.get(r.case_id)
        if pc is None:
            continue  # from a case this plan no longer makes (should not happen on resume)
        grouped[(r.model, pc.probe)].append((pc, r))
        if pc.probe == BASELINE:
            baseline[r.model][pc.origin] = r
    outcomes = []
    for model in plan.models:
        for probe in plan.probes:
            if probe.name in plan.skipped:
                out = probe.outcome(model)
                out.skipped = plan.skipped[probe.name]
            else:
                key = (model, BASELINE if probe.on_baseline else probe.name)
                out = await probe.detect(plan.ctx, grouped.get(key, []), baseline[model])
                out.model = model
            out.notes = [*plan.ctx.notes.get(probe.name, []), *out.notes]
            outcomes.append(out)
    _noise_notes(outcomes)
    return outcomes


def _noise_notes(outcomes: list[Outcome]) -> None:
    """Put the control's noise floor beside every rate that compares outputs, and weigh the
    changed outputs of a robustness probe without checks against it, case by case."""
    for control in outcomes:
        if control.probe != "robustness.control" or not control.tested:
            continue
        floor = control.rate
        text = (
            f"noise floor: resampling the very same case changes the answer in {control.found} "
            f"of {control.tested} cases ({floor.estimate:.0%}, 95% CI {floor.low:.0%}–"
            f"{floor.high:.0%}); a rate within it is no evidence of sensitivity"
        )
        moved = {_origin(case, control.probe): hit for case, hit in control.verdicts}
        for o in outcomes:
            same_kind = o.category in ("robustness", "bias") and o is not control
            if not (same_kind and o.model == control.model and not o.skipped):
                continue
            if control.found:
                o.notes.append(text)
            if o.category == "robustness" and "significant" not in o.stats:
                pairs = [
                    (moved[origin], hit)
                    for case, hit in o.verdicts
                    if (origin := _origin(case, o.probe)) in moved
                ]
                if pairs:
                    cmp = compare_paired("resampled", "varied", pairs)
                    o.stats["vs_noise"] = [comparison(cmp)]
                    settle_severity(o, cmp.significant and cmp.difference.estimate > 0)


def _origin(case_id: str, probe: str) -> str:
    """The suite case a probe case came from (`probe/origin/k`)."""
    return case_id[len(probe) + 1 :].rsplit("/", 1)[0]


@dataclass
class ProbeRun:
    run_id: str
    report: dict[str, Any]
    stats: RunStats


async def run_probe(
    config: Config,
    store: Store,
    plan: ProbePlan,
    *,
    resume_run: RunInfo | None = None,
    use_cache: bool = True,
    concurrency: int | None = None,
    on_start: Callable[[str, int, int], None] | None = None,
    on_result: Callable[[ResultRecord], None] | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> ProbeRun:
    """Run the plan as a new probe run (or what is missing from `resume_run`), detect, store
    the findings and the report; the run ends `done`, `failed` or `interrupted`.
    `on_start(run_id, total, already_stored)` is called once the run exists."""
    from .report import build_report

    if resume_run is not None:
        handle = resume(store, resume_run, RunKind.PROBE)
    else:
        suite = f"probe {plan.prompt.name} · {plan.suite.path}"
        handle = start(store, RunKind.PROBE, suite, plan.describe())
    with handle:
        try:
            total = plan.total()
            handle.set_total(total)
            if on_start is not None:
                on_start(handle.id, total, len(handle.done_keys()))
            started = time.monotonic()
            stats = await execute(
                config,
                store,
                plan,
                handle,
                use_cache=use_cache,
                concurrency=concurrency,
                on_result=on_result,
            )
            if on_phase:
                on_phase("detecting")
            records = store.results(handle.id)
            outcomes = await analyse(plan, records)
            report = build_report(
                store,
                store.get_run(handle.id),
                plan,
                outcomes,
                records,
                stats,
                seconds=time.monotonic() - started,
            )
            findings = [f for o in outcomes for f in o.findings]
            storage.save_findings(store, handle.id, findings, report)
        finally:
            await plan.pool.aclose()
    return ProbeRun(handle.id, report, stats)


async def plan_from_run(config: Config, store: Store, info: RunInfo) -> ProbePlan:
    """The plan of an earlier probe run, rebuilt for `--resume`; refuses a run of another kind
    and a changed prompt."""
    expect_kind(info, RunKind.PROBE)
    options = ProbeOptions.from_dict(info.plan.get("options") or {})
    plan = await prepare(config, store, options)
    before = (info.plan.get("prompts") or [{}])[0].get("version")
    if before and before != plan.prompt.version:
        raise UserError(
            f"the prompt changed since run {info.id} ({before[:12]} → {plan.prompt.short_version})",
            hint="start a new probe run",
        )
    return plan
