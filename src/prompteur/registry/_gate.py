"""The promotion gate: a label moves to a candidate version only on evidence.

The candidate and the label's current holder run the prompt's suite on the same cases and
model in one run (the response cache makes the holder's side free when it ran before). The
gate refuses when the candidate's pass rate is under the threshold, or when it is
significantly worse than the holder's on the paired test; `force` with a reason overrides a
refusal. Either way the evidence goes into the audit log with the move.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import stats
from ..errors import UserError
from ..i18n import plural
from ..runs import choose_models
from ._labels import Move, check_label, labels_of, move_label, resolve
from ._paired import Tally, compare, comparison_dict, significantly_worse, tally
from ._suites import find_suite

if TYPE_CHECKING:
    from ..config import Config
    from ..prompt import Prompt
    from ..runner import ResultRecord
    from ..store import Store


@dataclass
class Promotion:
    """What the gate saw and decided."""

    name: str
    label: str
    candidate: str
    holder: str | None
    model: str | None = None
    suite: str | None = None
    run_id: str | None = None
    threshold: float = 0.8
    alpha: float = 0.05
    candidate_tally: Tally | None = None
    holder_tally: Tally | None = None
    comparison: stats.PairedComparison | None = None
    reasons: list[str] = field(default_factory=list)  # why the gate refuses; empty: it passes
    forced: bool = False
    move: Move | None = None
    unchanged: bool = False  # the label already held the candidate: nothing ran

    @property
    def gate_passed(self) -> bool:
        return not self.reasons

    @property
    def moved(self) -> bool:
        return self.move is not None

    def evidence(self) -> dict[str, Any]:
        """What the audit log keeps: JSON only, no NaN."""
        return {
            "suite": self.suite,
            "model": self.model,
            "run": self.run_id,
            "threshold": self.threshold,
            "alpha": self.alpha,
            "candidate": self.candidate_tally.to_dict(self.candidate)
            if self.candidate_tally
            else None,
            "holder": self.holder_tally.to_dict(self.holder)
            if self.holder_tally and self.holder
            else None,
            "paired": comparison_dict(self.comparison) if self.comparison else None,
            "verdict": "passed" if self.gate_passed else "refused",
            "reasons": list(self.reasons),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "candidate": self.candidate,
            "holder": self.holder,
            "unchanged": self.unchanged,
            "gate_passed": self.gate_passed,
            "forced": self.forced,
            "moved": self.moved,
            "move_id": self.move.id if self.move else None,
            "evidence": self.evidence(),
            "words": self.words(),
        }

    def words(self) -> str:
        who = f"{self.name}@{self.candidate[:12]} → {self.label}"
        if self.unchanged:
            return f"{who}: {self.label} already holds this version; nothing to do."
        lines = []
        t = self.candidate_tally
        if t is not None:
            rate = t.rate
            shown = "no case judged" if math.isnan(rate.estimate) else str(rate)
            lines.append(
                f"candidate pass rate {shown} ({t.passed}/{t.judged} on "
                f"{plural(len(t.cases), 'case')}, "
                f"{self.model}); threshold {self.threshold:.0%}."
            )
        if self.comparison is not None:
            lines.append(self.comparison.words())
        elif self.holder is None:
            lines.append(f"{self.label} had no holder: no paired comparison.")
        if self.run_id:
            lines.append(f"run {self.run_id}.")
        if self.gate_passed:
            head = f"promoted {who}." if self.moved else f"gate passed for {who}."
        elif self.forced and self.moved:
            head = f"FORCED {who}: the gate refused, overridden with a reason."
        else:
            head = f"refused {who}."
        body = [f"  - {r}" for r in self.reasons]
        return "\n".join([head, *body, *lines])


def _candidate(config: Config, store: Store, name: str, ref: str | None) -> Prompt:
    """The prompt to promote, stored: `NAME` is the working file (saved now), `NAME@REF` a
    label or a stored version prefix."""
    from ..library import Library
    from ..prompt import parse_prompt

    library = Library.from_config(config)
    working = None
    try:
        working = library.get(name)
    except UserError:
        if ref is None:
            raise
    prompt_name = working.name if working else name
    if working is not None and (
        ref is None
        or (ref not in labels_of(store, prompt_name) and working.version.startswith(ref))
    ):
        library.save(store, working)
        return working
    info = resolve(store, prompt_name, ref)
    return parse_prompt(
        info.content, path=Path(info.source) if info.source else None, name=info.name
    )


def _stored(store: Store, name: str, version: str) -> Prompt:
    from ..prompt import parse_prompt

    info = store.find_version(name, version)
    if info is None:  # a label always points at a stored version (foreign key)
        raise UserError(f"no stored version '{version}' of '{name}'")
    return parse_prompt(
        info.content, path=Path(info.source) if info.source else None, name=info.name
    )


async def _run(
    config: Config,
    store: Store,
    suite: Any,
    prompts: list[Prompt],
    model_id: str,
    plan_extra: dict[str, Any],
    *,
    use_cache: bool,
    on_start: Callable[[int], None] | None,
    on_result: Callable[[ResultRecord], None] | None,
) -> str:
    from ..evaluation import EvalPlan, evaluate_plan
    from ..runs import RunKind

    plan = EvalPlan(suite, prompts, {p.version: [model_id] for p in prompts}, suite.spec.repeat)
    done = await evaluate_plan(
        config,
        store,
        plan,
        kind=RunKind.GATE,
        extra=plan_extra,
        use_cache=use_cache,
        on_start=(lambda _id, total, _already: on_start(total)) if on_start else None,
        on_result=on_result,
    )
    return done.run_id


def promote(
    store: Store,
    config: Config,
    name: str,
    ref: str | None,
    label: str,
    *,
    actor: str,
    suite: str | None = None,
    model: str | None = None,
    threshold: float | None = None,
    force: bool = False,
    reason: str | None = None,
    alpha: float = 0.05,
    use_cache: bool = True,
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[ResultRecord], None] | None = None,
) -> Promotion:
    """Run the gate for `name@ref` (None: the working file) → `label`; move the label when
    the gate passes, or when it refuses and `force` is given with a reason."""
    check_label(label)
    reason = (reason or "").strip() or None
    if force and reason is None:
        raise UserError("--force needs --reason: the audit log says why", field="reason")
    if threshold is None:
        threshold = config.data.registry.threshold
    if not 0 <= threshold <= 1:
        raise UserError(f"threshold {threshold} is not between 0 and 1", field="threshold")
    cand = _candidate(config, store, name, ref)
    holder = labels_of(store, cand.name).get(label)
    result = Promotion(cand.name, label, cand.version, holder, threshold=threshold, alpha=alpha)
    if holder == cand.version:
        result.unchanged = True
        return result
    found = find_suite(config, cand, suite)
    model_id = choose_models(model, found, cand, config)[0]
    prompts = [cand] if holder is None else [_stored(store, cand.name, holder), cand]
    run_id = asyncio.run(
        _run(
            config,
            store,
            found,
            prompts,
            model_id,
            {"label": label, "candidate": cand.version, "holder": holder},
            use_cache=use_cache,
            on_start=on_start,
            on_result=on_result,
        )
    )
    result.model, result.suite, result.run_id = model_id, str(found.path), run_id
    tallies = tally(store.results(run_id), key=lambda r: r.version)
    ct = result.candidate_tally = tallies.get(cand.version, Tally())
    rate = ct.rate.estimate
    if math.isnan(rate):
        result.reasons.append("no case of the suite was judged for the candidate")
    elif rate < threshold:
        result.reasons.append(
            f"pass rate {rate:.1%} (95% CI {ct.rate.low:.1%} to {ct.rate.high:.1%}) is under "
            f"the threshold {threshold:.0%}"
        )
    if holder is not None:
        ht = result.holder_tally = tallies.get(holder, Tally())
        cmp = result.comparison = compare(
            f"{holder[:8]} ({label})", ht, f"{cand.version[:8]} (candidate)", ct, alpha=alpha
        )
        if significantly_worse(cmp):
            d = cmp.difference.estimate
            sd = cmp.score_difference
            size = (
                f"{d * 100:+.1f} points of pass rate, exact McNemar p = {cmp.p_value:.3g}"
                if cmp.significant
                else f"mean score {sd.estimate:+.3f}, permutation p = {cmp.score_p_value:.3g}"
                if sd is not None and cmp.score_p_value is not None
                else ""
            )
            result.reasons.append(
                f"significantly worse than {holder[:12]}, which holds {label} ({size})"
            )
    if result.reasons and not force:
        return result
    result.forced = bool(result.reasons)
    result.move = move_label(
        store,
        cand.name,
        label,
        cand.version,
        actor=actor,
        reason=reason,
        evidence=result.evidence(),
        forced=result.forced,
        action="promote",
        expected=holder,
    )
    return result
