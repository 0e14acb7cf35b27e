"""Regression on a model change: will the labelled prompts survive moving from model A to B?

Every labelled version (each distinct version once, whatever labels it carries) runs its
suite on both models in one run per prompt; the response cache makes A free when it ran
before. Per prompt: pass rates with Wilson intervals and the paired tests of `_paired`. With
several prompts the p-values are Holm-adjusted, so "significantly worse" stays honest when
twelve prompts are tested at once.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import stats
from ..errors import UserError
from ._labels import all_labels
from ._paired import (
    Tally,
    clean,
    compare,
    comparison_dict,
    significantly_better,
    significantly_worse,
    tally,
)
from ._suites import find_suite, names_prompt

if TYPE_CHECKING:
    from ..config import Config
    from ..prompt import Prompt
    from ..runner import ResultRecord
    from ..store import Store
    from ..suite import Suite


@dataclass
class PromptRegression:
    name: str
    version: str
    labels: list[str]
    suite: str | None = None
    run_id: str | None = None
    before: Tally | None = None
    after: Tally | None = None
    comparison: stats.PairedComparison | None = None
    score_p_adjusted: float | None = None
    worse: bool = False
    better: bool = False
    skipped: str | None = None
    # Cases that pass (by majority over repeats) on the old model and fail on the new one.
    lost: list[dict[str, Any]] = field(default_factory=list)

    @property
    def change(self) -> float | None:
        c = self.comparison
        return None if c is None or not c.cases else c.difference.estimate

    def phrase(self) -> str:
        """`sentiment@ab12cd34 (production): -25.0 points, 91.7% → 66.7%, p = 0.031`."""
        head = f"{self.name}@{self.version[:8]}"
        if self.labels:  # a working file has none
            head += f" ({', '.join(self.labels)})"
        c = self.comparison
        if self.skipped or c is None:
            return f"{head}: skipped, {self.skipped}"
        if not c.cases:
            return f"{head}: no case judged on both models"
        d = c.difference
        text = (
            f"{head}: {d.estimate * 100:+.1f} points ({c.rate_a:.1%} → {c.rate_b:.1%}, "
            f"95% CI {d.low * 100:+.1f} to {d.high * 100:+.1f}), p = {c.p:.3g}"
        )
        sd = c.score_difference
        if sd is not None and not math.isnan(sd.estimate):
            p = self.score_p_adjusted if self.score_p_adjusted is not None else c.score_p_value
            text += f"; mean score {sd.estimate:+.3f}, p = {p:.3g}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "labels": self.labels,
            "suite": self.suite,
            "run": self.run_id,
            "before": self.before.to_dict() if self.before else None,
            "after": self.after.to_dict() if self.after else None,
            "paired": comparison_dict(self.comparison) if self.comparison else None,
            "score_p_adjusted": clean(self.score_p_adjusted),
            "worse": self.worse,
            "better": self.better,
            "skipped": self.skipped,
            "lost": self.lost,
            "words": self.phrase(),
        }


@dataclass
class Regression:
    from_model: str
    to_model: str
    alpha: float
    prompts: list[PromptRegression] = field(default_factory=list)

    @property
    def compared(self) -> list[PromptRegression]:
        return [p for p in self.prompts if p.comparison is not None and p.comparison.cases]

    @property
    def worse(self) -> list[PromptRegression]:
        return [p for p in self.prompts if p.worse]

    @property
    def better(self) -> list[PromptRegression]:
        return [p for p in self.prompts if p.better]

    @property
    def skipped(self) -> list[PromptRegression]:
        return [p for p in self.prompts if p.skipped]

    def words(self) -> str:
        n = len(self.compared)
        if not self.prompts:
            return "No labelled prompt to check: label one with prompteur promote or label set."
        if n == 0:
            return f"No prompt could be compared ({len(self.skipped)} skipped)."
        plural = "prompt" if n == 1 else "prompts"
        adjusted = f" (p-values Holm-adjusted over {n} prompts)" if n > 1 else ""
        worse, better = self.worse, self.better
        lines = []
        if worse:
            lines.append(
                f"{len(worse)} of {n} {plural} significantly worse on {self.to_model} than on "
                f"{self.from_model}{adjusted}: " + "; ".join(p.phrase() for p in worse) + "."
            )
        else:
            lines.append(
                f"None of {n} {plural} is significantly worse on {self.to_model} than on "
                f"{self.from_model}{adjusted}."
            )
        if better:
            lines.append(
                f"{len(better)} significantly better: "
                + "; ".join(p.phrase() for p in better)
                + "."
            )
        same = [p for p in self.compared if not p.worse and not p.better]
        dropped = [p for p in same if (p.change or 0) < 0]
        if dropped:
            lines.append(
                f"{len(same)} without a significant difference, of which {len(dropped)} "
                "lower but not significantly (too few cases to be sure): "
                + "; ".join(p.phrase() for p in dropped)
                + "."
            )
        elif same:
            lines.append(f"{len(same)} without a significant difference.")
        if self.skipped:
            lines.append(
                f"{len(self.skipped)} skipped: "
                + "; ".join(f"{p.name} ({p.skipped})" for p in self.skipped)
                + "."
            )
        return " ".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.from_model,
            "to": self.to_model,
            "alpha": self.alpha,
            "compared": len(self.compared),
            "worse": [p.name for p in self.worse],
            "better": [p.name for p in self.better],
            "skipped": [p.name for p in self.skipped],
            "prompts": [p.to_dict() for p in self.prompts],
            "words": self.words(),
        }


@dataclass
class _Target:
    entry: PromptRegression
    prompt: Prompt | None = None
    suite: Suite | None = None


def _check_models(config: Config, ids: list[str]) -> None:
    """Fail on an unknown model id or a missing key before any prompt runs."""
    from ..models.providers import get_model

    async def close_all() -> None:
        for model_id in ids:
            await get_model(model_id, config).aclose()

    asyncio.run(close_all())


def _targets(
    store: Store, config: Config, labels: list[str] | None, suites: list[str] | None
) -> list[_Target]:
    from ..prompt import parse_prompt
    from ..suite import load_suite

    grouped: dict[tuple[str, str], list[str]] = {}
    for info in all_labels(store):
        if labels and info.label not in labels:
            continue
        grouped.setdefault((info.name, info.version), []).append(info.label)
    given = [load_suite(s) for s in suites or []]
    out = []
    for (name, version), on in grouped.items():
        entry = PromptRegression(name, version, on)
        stored = store.find_version(name, version)
        if stored is None:  # cannot happen: labels point at stored versions
            entry.skipped = "version not in the store"
            out.append(_Target(entry))
            continue
        try:
            prompt = parse_prompt(
                stored.content, path=Path(stored.source) if stored.source else None, name=name
            )
        except UserError as exc:
            entry.skipped = f"stored version does not load: {exc.message}"
            out.append(_Target(entry))
            continue
        suite = None
        if given:
            matching = [s for s in given if any(names_prompt(e, name) for e in s.spec.prompts)]
            if not matching:
                continue  # --suite restricts the check to the prompts those suites name
            suite = matching[0]
        else:
            try:
                suite = find_suite(config, prompt)
            except UserError as exc:
                entry.skipped = exc.message
        if suite is not None:
            entry.suite = str(suite.path)
        out.append(_Target(entry, prompt, suite))
    return out


def _lost_cases(
    records: list[ResultRecord], before: Tally, after: Tally, a: str, b: str, keep: int = 20
) -> list[dict[str, Any]]:
    """The first `keep` cases that pass on model `a` and fail on `b`, with both outputs."""
    va, vb = before.votes(), after.votes()
    lost = [c for c in va if va[c] and not vb.get(c, True)][:keep]
    first: dict[tuple[str, str], ResultRecord] = {}
    for r in records:
        first.setdefault((r.model, r.case_id), r)
    out = []
    for case in lost:
        ra, rb = first[(a, case)], first[(b, case)]
        out.append(
            {
                "case_id": case,
                "inputs": ra.inputs,
                "expected": ra.expected,
                "before": ra.output,
                "after": rb.output if rb.output is not None else rb.error,
                "why": "; ".join(c["reason"] for c in rb.checks if not c["passed"]),
            }
        )
    return out


def _adjust(result: Regression) -> None:
    """Holm over the compared prompts, then who is worse or better."""
    compared = result.compared
    if len(compared) > 1:
        adjusted = stats.holm([p.comparison.p_value for p in compared])  # type: ignore[union-attr]
        for p, adj in zip(compared, adjusted, strict=True):
            p.comparison = replace(p.comparison, p_adjusted=adj)  # type: ignore[arg-type]
        scored = [p for p in compared if p.comparison.score_p_value is not None]  # type: ignore[union-attr]
        if len(scored) > 1:
            score_adj = stats.holm([p.comparison.score_p_value for p in scored])  # type: ignore[union-attr,misc]
            for p, adj in zip(scored, score_adj, strict=True):
                p.score_p_adjusted = adj
    for p in compared:
        assert p.comparison is not None
        p.worse = significantly_worse(p.comparison, p.score_p_adjusted)
        p.better = not p.worse and significantly_better(p.comparison, p.score_p_adjusted)


def regress(
    store: Store,
    config: Config,
    from_model: str,
    to_model: str,
    *,
    labels: list[str] | None = None,
    suites: list[str] | None = None,
    alpha: float = 0.05,
    use_cache: bool = True,
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[ResultRecord], None] | None = None,
) -> Regression:
    """Run every labelled prompt's suite on both models and say what got worse."""
    from ..evaluation import EvalPlan, evaluate_plan
    from ..runs import RunKind

    if from_model == to_model:
        raise UserError("--from and --to name the same model: nothing to compare", field="--to")
    _check_models(config, [from_model, to_model])
    result = Regression(from_model, to_model, alpha)
    targets = _targets(store, config, labels, suites)
    plans = []
    for t in targets:
        result.prompts.append(t.entry)
        if t.prompt is None or t.suite is None:
            continue
        models = {t.prompt.version: [from_model, to_model]}
        plans.append((t, EvalPlan(t.suite, [t.prompt], models, t.suite.spec.repeat)))
    if on_start is not None:
        on_start(sum(plan.total() for _, plan in plans))

    async def run_all() -> None:
        extra = {"from": from_model, "to": to_model}
        for t, plan in plans:
            done = await evaluate_plan(
                config,
                store,
                plan,
                kind=RunKind.REGRESS,
                extra=extra,
                use_cache=use_cache,
                on_result=on_result,
            )
            t.entry.run_id = done.run_id

    asyncio.run(run_all())
    for t, _ in plans:
        _conclude(store, t.entry, from_model, to_model, alpha)
    _adjust(result)
    return result


def _conclude(
    store: Store, e: PromptRegression, from_model: str, to_model: str, alpha: float
) -> None:
    """Both models' tallies, the lost cases and the paired test, from the entry's run."""
    assert e.run_id is not None
    records = list(store.results(e.run_id))
    tallies = tally(records, key=lambda r: r.model)
    e.before, e.after = tallies.get(from_model, Tally()), tallies.get(to_model, Tally())
    e.lost = _lost_cases(records, e.before, e.after, from_model, to_model)
    e.comparison = compare(from_model, e.before, to_model, e.after, alpha=alpha)
    if not e.comparison.cases:
        e.skipped = "no case judged on both models"


def regress_prompt(
    store: Store,
    config: Config,
    prompt: Prompt,
    suite: Suite,
    from_model: str,
    to_model: str,
    *,
    alpha: float = 0.05,
    use_cache: bool = True,
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[ResultRecord], None] | None = None,
) -> PromptRegression:
    """`regress` for one prompt as it is (a working file need not carry a label): its suite
    on both models in one run, each model getting its variant of the prompt."""
    from ..evaluation import EvalPlan, evaluate_plan
    from ..runs import RunKind

    if from_model == to_model:
        raise UserError("--from and --to name the same model: nothing to compare", field="--to")
    _check_models(config, [from_model, to_model])
    labels = [i.label for i in all_labels(store) if i.name == prompt.name]
    entry = PromptRegression(prompt.name, prompt.version, labels, suite=str(suite.path))
    plan = EvalPlan(suite, [prompt], {prompt.version: [from_model, to_model]}, suite.spec.repeat)
    if on_start is not None:
        on_start(plan.total())
    done = asyncio.run(
        evaluate_plan(
            config,
            store,
            plan,
            kind=RunKind.REGRESS,
            extra={"from": from_model, "to": to_model},
            use_cache=use_cache,
            on_result=on_result,
        )
    )
    entry.run_id = done.run_id
    _conclude(store, entry, from_model, to_model, alpha)
    _adjust(Regression(from_model, to_model, alpha, [entry]))
    return entry
