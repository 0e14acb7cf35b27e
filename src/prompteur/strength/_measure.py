"""Measure a suite's strength: the share of standard mutants its checks kill.

1. The suite's prompts run once on its cases (the ordinary runner, the store's cache): the
   baseline. No model is called with `outputs_only`.
2. Output mutants: each case's reference output — the baseline's when it passes the case,
   else the case's expected value written as an output when that passes — is mutated, and the
   case's checks run on each mutant. No model call.
3. Prompt mutants: each mutated prompt runs on the cases (same runner, same cache) while the
   budget of model calls lasts.

`cases=N` (with `seed`) runs the model on a seeded sample of N cases instead of all of them,
so a large suite's strength costs a bounded number of calls: N for the baseline, N per prompt
mutant. The output mutants still cover every case (a case outside the sample is mutated from
its expected value). A prompt mutant killed on the sample is killed on the whole suite (a
check that fails on one case fails the suite); one that survives the sample might still be
killed by a case outside it, so survivors then run on the other cases, a sample's worth at a
time, until a check kills them or the cases or the budget run out (as mutation testing runs
tests until the first kill). Where the budget stops that, the score is a lower bound, and
the report says on how many cases the survivors ran.

A mutant is *killed* when a check that passed on the original fails on it (or the case's
verdict turns from pass to fail); it *survives* otherwise. A prompt mutant that changes no
output at all is *equivalent*: no suite could tell it apart, and it is left out of the share.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..checks import Check, CheckContext, build
from ..lint import blind_fields
from ..suite import Case
from ._mutants import output_mutants, prompt_mutants

if TYPE_CHECKING:
    from ..config import Config
    from ..evaluation import EvalPlan
    from ..models.pool import ModelPool
    from ..prompt import Prompt
    from ..records import ResultRecord
    from ..store import Store

Status = Literal["killed", "survived", "equivalent", "skipped"]


@dataclass
class Mutant:
    target: Literal["output", "prompt"]
    operator: str
    detail: str
    prompt: str
    case_id: str | None = None
    status: Status = "survived"
    killers: list[str] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class StrengthReport:
    suite: str
    checks: list[str]
    mutants: list[Mutant] = field(default_factory=list)
    calls: int = 0
    notes: list[str] = field(default_factory=list)
    # prompt name → fields of its output schema no check can fail on (lint S001): a wrong
    # value there survives whatever the mutants say, even when no case gives the field a value
    # to mutate.
    blind: dict[str, list[str]] = field(default_factory=dict)

    @property
    def counted(self) -> list[Mutant]:
        return [m for m in self.mutants if m.status in ("killed", "survived")]

    @property
    def killed(self) -> int:
        return sum(m.status == "killed" for m in self.mutants)

    @property
    def score(self) -> float | None:
        n = len(self.counted)
        return self.killed / n if n else None

    def interval(self) -> tuple[float, float] | None:
        """The 95% Wilson interval of the score (the mutants as a sample of possible faults)."""
        from ..stats import wilson

        n = len(self.counted)
        if not n:
            return None
        i = wilson(self.killed, n)
        return i.low, i.high

    def per_check(self) -> dict[str, int]:
        """How many mutants each check kills."""
        out = dict.fromkeys(self.checks, 0)
        for m in self.mutants:
            for k in m.killers:
                out[k] = out.get(k, 0) + 1
        return out

    def per_operator(self) -> dict[str, tuple[int, int]]:
        """operator → (killed, counted)."""
        out: dict[str, list[int]] = {}
        for m in self.counted:
            t = out.setdefault(f"{m.target}:{m.operator}", [0, 0])
            t[0] += m.status == "killed"
            t[1] += 1
        return {k: (a, b) for k, (a, b) in out.items()}

    def survivors(self) -> list[Mutant]:
        return [m for m in self.mutants if m.status == "survived"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "score": self.score,
            "interval": self.interval(),
            "killed": self.killed,
            "counted": len(self.counted),
            "equivalent": sum(m.status == "equivalent" for m in self.mutants),
            "skipped": sum(m.status == "skipped" for m in self.mutants),
            "calls": self.calls,
            "per_check": self.per_check(),
            "per_operator": {
                k: {"killed": a, "counted": b} for k, (a, b) in self.per_operator().items()
            },
            "mutants": [m.to_dict() for m in self.mutants],
            "blind_fields": self.blind,
            "notes": self.notes,
        }


# ---- checks on one output ---------------------------------------------------------------------


def check_label(i: int, spec: dict[str, Any] | str) -> str:
    """A check as the report names it: its place and what it checks."""
    if isinstance(spec, str):
        return f"checks[{i}] {spec}"
    bits = [str(spec.get("type"))]
    value = spec.get("value")
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        bits.append(str(value)[:24])
    if spec.get("path"):
        bits.append(f"@{spec['path']}")
    return f"checks[{i}] " + " ".join(bits)


@dataclass
class _CaseChecks:
    labels: list[str]
    checks: list[Check]
    models: ModelPool | None = None  # where judges and embedders come from


def _case_checks(plan: EvalPlan, case: Case, models: ModelPool | None) -> _CaseChecks:
    specs = list(plan.suite.spec.checks)
    labels = [check_label(i, s) for i, s in enumerate(specs)]
    labels += [f"case {case.id[:8]} " + check_label(i, s) for i, s in enumerate(case.checks)]
    return _CaseChecks(labels, [build(s) for s in [*specs, *case.checks]], models)


async def _verdicts(
    cc: _CaseChecks, case: Case, output: str, threshold: float | None, base: ResultRecord | None
) -> tuple[bool, list[bool]]:
    ctx = CheckContext(
        output=output,
        expected=case.expected,
        inputs=case.inputs,
        latency_s=base.latency_s if base else 0.0,
        cost=base.cost if base else 0.0,
        model=base.model if base else None,
        models=cc.models,
    )
    results = [await c(ctx) for c in cc.checks]
    if not results:
        return True, []
    if threshold is not None:
        total = sum(r.weight for r in results) or 1.0
        ok = sum(r.score * r.weight for r in results) / total >= threshold
    else:
        ok = all(r.passed for r in results)
    return ok, [r.passed for r in results]


def _killers(cc: _CaseChecks, before: list[bool], after: list[bool]) -> list[str]:
    return [label for label, a, b in zip(cc.labels, before, after, strict=True) if a and not b]


def _as_output(expected: Any) -> str | None:
    if expected is None:
        return None
    if isinstance(expected, str):
        return expected
    if isinstance(expected, list) and expected and all(isinstance(e, str) for e in expected):
        return expected[0]  # alternatives: the first one
    return json.dumps(expected, ensure_ascii=False)


# ---- the measure ------------------------------------------------------------------------------


async def measure(
    config: Config,
    store: Store,
    suite_path: str,
    *,
    models: list[str] | None = None,
    budget: int = 300,
    outputs_only: bool = False,
    recorded: list[ResultRecord] | None = None,
    on_progress: Callable[[str], None] | None = None,
    cases: int | None = None,
    seed: int = 0,
) -> StrengthReport:
    """The suite's strength (see the module's doc). `recorded`: outputs of a stored run to
    mutate instead of running the baseline; `cases`: run the model on a sample of this many
    cases, drawn with `seed`."""
    from ..evaluation import make_plan
    from ..models.pool import ModelPool
    from ..runs import open_runner

    plan = make_plan(config, store, suite_path, models=models, repeat=1)
    all_cases = list(plan.suite.cases())
    report = StrengthReport(
        str(plan.suite.path), [check_label(i, s) for i, s in enumerate(plan.suite.spec.checks)]
    )
    for prompt in plan.prompts:
        if fields := blind_fields(plan.suite, prompt.output_schema):
            report.blind[prompt.name] = fields
    say = on_progress or (lambda _: None)
    sample = _sample(all_cases, cases, seed)
    if len(sample) < len(all_cases) and not outputs_only:
        report.notes.append(
            f"sample: the model runs on {len(sample)} of {len(all_cases)} cases (seed {seed})"
        )
    pool = ModelPool(config)
    try:
        if outputs_only:
            await _measure(report, plan, all_cases, sample, None, recorded, budget, say, pool)
            return report
        async with open_runner(
            config,
            plan.model_ids,
            checks=plan.suite.spec.checks,
            threshold=plan.suite.spec.threshold,
            cache=store.cache,
            pool=pool,
        ) as runner:
            await _measure(report, plan, all_cases, sample, runner, recorded, budget, say, pool)
    finally:
        await pool.aclose()
    return report


def _sample(cases: list[Case], n: int | None, seed: int) -> list[Case]:
    """`n` of the cases drawn with `seed`, kept in the suite's order; all of them when `n` is
    None or not smaller."""
    if n is None or n >= len(cases):
        return cases
    chosen = set(random.Random(seed).sample(range(len(cases)), n))
    return [c for i, c in enumerate(cases) if i in chosen]


async def _measure(
    report: StrengthReport,
    plan: EvalPlan,
    cases: list[Case],
    sample: list[Case],
    runner: Any,
    recorded: list[ResultRecord] | None,
    budget: int,
    say: Callable[[str], None],
    pool: ModelPool | None = None,
) -> None:
    threshold = plan.suite.spec.threshold
    base: dict[tuple[str, str], ResultRecord] = {}  # (prompt version, case id) → a result
    # The cases the model runs on: the budget caps every call, the baseline's included; the
    # cases past it keep their expected value as the reference to mutate.
    ran = sample
    if recorded is not None:
        for r in recorded:
            base.setdefault((r.version, r.case_id), r)
    elif runner is not None:
        per_case = sum(len(plan.models.get(p.version) or plan.model_ids) for p in plan.prompts)
        per_case = per_case or 1
        ran = sample[: budget // per_case]
        if len(ran) < len(sample):
            report.notes.append(
                f"baseline: {len(ran)} of {len(sample)} cases within --budget {budget}"
            )
        say(f"baseline: {len(plan.prompts)} prompt(s) × {len(ran)} case(s)")
        if ran:
            for r in await _run(runner, plan, plan.prompts, ran):
                base.setdefault((r.version, r.case_id), r)
        report.calls = runner.stats.calls
    checks = {c.id: _case_checks(plan, c, pool) for c in cases}
    labels = _known_answers(cases)
    field_values = _field_values(cases, base.values())

    # -- output mutants
    for prompt in plan.prompts:
        for case in cases:
            cc = checks[case.id]
            ref, ref_record = await _reference(
                cc, case, base.get((prompt.version, case.id)), threshold
            )
            if ref is None:
                report.notes.append(f"case {case.id}: no passing output to mutate")
                continue
            ok, before = await _verdicts(cc, case, ref, threshold, ref_record)
            accepted = _known_answers([case])
            for m in output_mutants(
                ref, labels=labels, field_values=field_values, accepted=accepted
            ):
                if m.text == ref:
                    continue
                mut_ok, after = await _verdicts(cc, case, m.text, threshold, ref_record)
                killers = _killers(cc, before, after)
                status: Status = "killed" if killers or (ok and not mut_ok) else "survived"
                report.mutants.append(
                    Mutant("output", m.operator, m.detail, prompt.name, case.id, status, killers)
                )

    # -- prompt mutants
    ran_by: list[tuple[Mutant, Prompt, Any, list[ResultRecord]]] = []
    for prompt in plan.prompts:
        for pm in prompt_mutants(prompt):
            mutant = Mutant("prompt", pm.operator, pm.detail, prompt.name)
            report.mutants.append(mutant)
            if runner is None:
                mutant.status, mutant.note = "skipped", "outputs only"
                continue
            need = len(ran) * len(plan.models[prompt.version])
            if not ran or report.calls + need > budget:
                mutant.status, mutant.note = "skipped", f"budget: {budget} calls"
                continue
            say(f"prompt mutant {pm.operator}")
            plan.models[pm.prompt.version] = plan.models[prompt.version]
            before_calls = runner.stats.calls
            results = await _run(runner, plan, [pm.prompt], ran)
            report.calls += runner.stats.calls - before_calls
            _judge_prompt_mutant(mutant, prompt, results, base, checks)
            ran_by.append((mutant, prompt, pm.prompt, results))
    if runner is not None and len(ran) < len(cases):
        await _escalate(report, plan, cases, ran, runner, base, checks, ran_by, budget, say)


async def _escalate(
    report: StrengthReport,
    plan: EvalPlan,
    cases: list[Case],
    ran: list[Case],
    runner: Any,
    base: dict[tuple[str, str], ResultRecord],
    checks: dict[str, _CaseChecks],
    ran_by: list[tuple[Mutant, Prompt, Any, list[ResultRecord]]],
    budget: int,
    say: Callable[[str], None],
) -> None:
    """Prompt mutants the sample did not kill run on more cases, a sample's worth at a time,
    until a check kills them, the cases run out or the budget does: a survivor of the sample
    may be killed by a case outside it, and a mutant counts as surviving only once every case
    within the budget has had its chance (cases run in a seeded order; the baseline runs on
    each new chunk first)."""
    step = max(1, len(ran))
    seen = {c.id for c in ran}
    rest = [c for c in cases if c.id not in seen]
    random.Random(len(cases)).shuffle(rest)
    done = 0
    while rest:
        pending = [t for t in ran_by if t[0].status != "killed"]
        if not pending:
            break
        chunk, rest = rest[:step], rest[step:]
        prompts = {t[1].version: t[1] for t in pending}
        per_chunk = sum(len(chunk) * len(plan.models[v]) for v in prompts)
        per_chunk += sum(len(chunk) * len(plan.models[t[1].version]) for t in pending)
        if report.calls + per_chunk > budget:
            report.notes.append(
                f"survivors ran on {len(ran) + done} of {len(cases)} cases within --budget {budget}"
            )
            return
        say(f"survivors: {len(pending)} mutant(s) on {len(chunk)} more case(s)")
        before_calls = runner.stats.calls
        for r in await _run(runner, plan, list(prompts.values()), chunk):
            base.setdefault((r.version, r.case_id), r)
        for mutant, original, mutated, results in pending:
            results.extend(await _run(runner, plan, [mutated], chunk))
            _judge_prompt_mutant(mutant, original, results, base, checks)
        report.calls += runner.stats.calls - before_calls
        done += len(chunk)
    if done:
        report.notes.append(
            f"survivors of the sample ran on {done} more case(s), {len(ran) + done} of "
            f"{len(cases)} in all"
        )


async def _reference(
    cc: _CaseChecks, case: Case, record: ResultRecord | None, threshold: float | None
) -> tuple[str | None, ResultRecord | None]:
    """The output to mutate for a case: the baseline's if it passes, else the expected value
    written as an output if that passes."""
    if record is not None and record.output is not None and record.passed:
        return record.output, record
    text = _as_output(case.expected)
    if text is not None:
        ok, _ = await _verdicts(cc, case, text, threshold, record)
        if ok:
            return text, record
    return None, None


def _judge_prompt_mutant(
    mutant: Mutant,
    original: Prompt,
    results: list[ResultRecord],
    base: dict[tuple[str, str], ResultRecord],
    checks: dict[str, _CaseChecks],
) -> None:
    changed = better = compared = 0
    killers: dict[str, None] = {}
    for r in results:
        b = base.get((original.version, r.case_id))
        if b is None:
            continue
        compared += 1
        if r.output != b.output:
            changed += 1
            better += b.passed is False and r.passed is True
        before = [c["passed"] for c in b.checks]
        after = [c["passed"] for c in r.checks]
        if len(before) == len(after):
            for k in _killers(checks[r.case_id], before, after):
                killers.setdefault(k, None)
        if b.passed and r.passed is False and not killers:
            killers.setdefault("(case verdict)", None)
    mutant.killers = list(killers)
    if killers:
        mutant.status, mutant.note = "killed", ""
    elif not changed:
        mutant.status, mutant.note = "equivalent", "no output changed"
    else:
        # What the survivor did, so a reader can tell a blind spot from a mutant that did no
        # harm on this model (an answer rewritten into another the checks accept, or mended).
        mutant.status = "survived"
        mutant.note = (
            f"changed {changed} of {compared} answers, {better} of them from failing to "
            "passing; no check that passed failed"
        )


def _known_answers(cases: list[Case]) -> list[str]:
    """The labels a suite knows: its cases' expected texts (free-text outputs are no labels:
    another case's answer is a wrong value only where answers come from a set)."""
    seen: dict[str, None] = {}
    for c in cases:
        for value in c.expected if isinstance(c.expected, list) else [c.expected]:
            if isinstance(value, str) and value.strip():
                seen.setdefault(value.strip(), None)
    return list(seen)


def _field_values(cases: list[Case], records: Any) -> dict[str, list[Any]]:
    """Each JSON field → the values it takes across the cases' expectations and outputs."""
    from ..checks import parse_output as parse

    out: dict[str, list[Any]] = {}
    values = [c.expected for c in cases] + [parse(r.output or "") for r in records]
    for v in values:
        if isinstance(v, dict):
            for k, x in v.items():
                bucket = out.setdefault(k, [])
                if x not in bucket:
                    bucket.append(x)
    return out


# ---- running ------------------------------------------------------------------------------------


class _Sink:
    def __init__(self) -> None:
        self.records: list[ResultRecord] = []

    def write(self, records: list[ResultRecord]) -> None:
        self.records.extend(records)


async def _run(
    runner: Any, plan: EvalPlan, prompts: list[Prompt], cases: list[Case]
) -> list[ResultRecord]:
    from ..runner import plan as work

    sink = _Sink()
    models = {p.version: plan.models.get(p.version) or plan.model_ids for p in prompts}
    await runner.run(work(prompts, models, lambda: cases, 1), sink)
    return sink.records
