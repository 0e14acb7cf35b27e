"""Online checks: a sample of traces is scored with the checks of the prompt's suite.

Which suite: `[monitor.prompts.NAME] suite` in prompteur.toml, else the registry's rule (the
prompt's `metadata.suite`, `[registry.suites]`, the one suite naming it). Which checks: the
suite-wide ones that need no expected value per case (a check with `value:` given, `is-json`,
`rubric`, `latency`…), or all of them when the trace carries its expected value. Judges
included. The sample is drawn by a hash of the span, so a trace is in or out of it for good:
scoring twice at the same rate scores nothing new, raising the rate adds traces.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from .storage import set_scores, summarise_scores

if TYPE_CHECKING:
    from ..checks import Check
    from ..config import Config
    from ..models.pool import ModelPool
    from ..store import Store

_BATCH = 100  # scores written per transaction


def in_sample(trace_id: str, span_id: str, rate: float) -> bool:
    """Whether a span is in a sample of `rate`, decided by its ids alone (reproducible)."""
    if rate >= 1:
        return True
    if rate <= 0:
        return False
    digest = hashlib.blake2b(f"{trace_id}/{span_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < rate


def needs_expected(spec: dict[str, Any] | str) -> bool:
    """Whether a check spec falls back on the case's expected value (its factory takes an
    optional `value` and the spec gives none)."""
    from ..checks import factory as check_factory

    if isinstance(spec, str):
        spec = {"type": spec}
    if "value" in spec:
        return False
    kind = str(spec.get("type", ""))
    make = check_factory(kind[4:] if kind.startswith("not-") else kind)
    if make is None:
        return False
    param = inspect.signature(make).parameters.get("value")
    return param is not None and param.default is not inspect.Parameter.empty


@dataclass
class PromptChecks:
    """The online checks of one prompt."""

    prompt: str
    suite: str
    without_expected: list[Check]
    with_expected: list[Check]
    threshold: float | None
    skipped: list[str]  # check names that need an expected value


def checks_for(config: Config, name: str, suite: str | None = None) -> PromptChecks:
    from ..checks import build
    from ..library import Library
    from ..registry._suites import find_suite

    prompt = Library.from_config(config).get(name)
    explicit = suite or (
        config.data.monitor.prompts[name].suite if name in config.data.monitor.prompts else None
    )
    if explicit and not suite:
        explicit = str((config.root / explicit).resolve())
    found = find_suite(config, prompt, explicit)
    specs = found.spec.checks
    if not specs:
        raise UserError(
            f"the suite {found.path.name} has no suite-wide checks to score traces with",
            file=found.path,
            field="checks",
        )
    built = [build(s, where=f"checks[{i}]") for i, s in enumerate(specs)]
    free = [c for c, s in zip(built, specs, strict=True) if not needs_expected(s)]
    return PromptChecks(
        prompt=name,
        suite=str(found.path),
        without_expected=free,
        with_expected=built,
        threshold=found.spec.threshold,
        skipped=[c.name for c, s in zip(built, specs, strict=True) if needs_expected(s)],
    )


@dataclass
class ScoreReport:
    scored: int = 0
    passed: int = 0
    considered: int = 0  # unscored traces looked at
    by_prompt: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped_prompts: dict[str, str] = field(default_factory=dict)  # name → why

    def to_dict(self) -> dict[str, Any]:
        return {
            "scored": self.scored,
            "passed": self.passed,
            "considered": self.considered,
            "by_prompt": self.by_prompt,
            "skipped_prompts": self.skipped_prompts,
        }


def _rate(config: Config, name: str, sample: float | None) -> float:
    if sample is not None:
        return sample
    per = config.data.monitor.prompts.get(name)
    if per is not None and per.sample is not None:
        return per.sample
    return config.data.monitor.sample


def _candidates(
    store: Store, prompt: str | None, since: Any, limit: int | None
) -> list[dict[str, Any]]:
    return store.traces.unscored(prompt, since)


async def _score_one(
    checks: list[Check], row: dict[str, Any], models: ModelPool
) -> list[dict[str, Any]]:
    from ..checks import CheckContext

    meta = row["meta"] or {}
    latency = row["latency_ms"] / 1000 if row["latency_ms"] is not None else None
    ctx = CheckContext(
        output=row["output"],
        expected=meta.get("expected"),
        inputs=dict(row["inputs"] or {}),
        latency_s=latency,
        cost=row["cost"],
        model=row["model"],
        models=models,
    )
    out = []
    for chk in checks:
        r = await chk(ctx)
        out.append(
            {
                "name": r.name,
                "passed": r.passed,
                "score": r.score,
                "reason": r.reason,
                "weight": r.weight,
            }
        )
    return out


def score_traces(
    config: Config,
    store: Store,
    *,
    prompt: str | None = None,
    sample: float | None = None,
    suite: str | None = None,
    since: Any = None,
    limit: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ScoreReport:
    """Score the sampled, still unscored traces (of `prompt`, or of every prompt)."""
    if sample is not None and not 0 <= sample <= 1:
        raise UserError("the sample rate must be between 0 and 1", field="--sample")
    rows = _candidates(store, prompt, since, limit)
    report = ScoreReport(considered=len(rows))
    chosen: list[tuple[PromptChecks, dict[str, Any]]] = []
    checks_of: dict[str, PromptChecks | None] = {}
    for row in rows:
        name = row["prompt"]
        if name not in checks_of:
            try:
                checks_of[name] = checks_for(config, name, suite)
            except UserError as exc:
                if prompt is not None:
                    raise  # the user asked for this prompt: say why it cannot be scored
                checks_of[name] = None
                report.skipped_prompts[name] = exc.render()
        pc = checks_of[name]
        if pc is None or not in_sample(
            row["trace_id"], row["span_id"], _rate(config, name, sample)
        ):
            continue
        chosen.append((pc, row))
        if limit is not None and len(chosen) >= limit:
            break

    async def run_all() -> None:
        from ..models.pool import ModelPool

        models = ModelPool(config)  # judges and embedders of this project
        try:
            await score_all(models)
        finally:
            await models.aclose()

    async def score_all(models: ModelPool) -> None:
        pending: list[tuple[int, list[dict[str, Any]], bool | None, float | None]] = []
        for done, (pc, row) in enumerate(chosen, 1):
            has_expected = (row["meta"] or {}).get("expected") is not None
            checks = pc.with_expected if has_expected else pc.without_expected
            if checks:
                scores = await _score_one(checks, row, models)
                passed, score = summarise_scores(scores, pc.threshold)
                pending.append((row["id"], scores, passed, score))
                stats = report.by_prompt.setdefault(
                    pc.prompt,
                    {"suite": pc.suite, "scored": 0, "passed": 0, "needs_expected": pc.skipped},
                )
                stats["scored"] += 1
                stats["passed"] += bool(passed)
                report.scored += 1
                report.passed += bool(passed)
                if len(pending) >= _BATCH:
                    set_scores(store, pending)
                    pending.clear()
            if on_progress:
                on_progress(done, len(chosen))
        set_scores(store, pending)

    asyncio.run(run_all())
    return report
