"""Robustness: the same case with noise a real input carries (typos, casing, spacing,
punctuation, list order, an irrelevant sentence) or reworded by a capable model (paraphrase,
the other language). Each variant is paired with its original: the drop in check pass rate
(exact McNemar, interval) and how often the output changes at all.

A finding is a case that passed on its original and fails on the variant; with no checks in
the suite, a case whose output changed.
"""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING, Any, ClassVar

from ..i18n import plural
from ..stats import compare_paired, wilson
from ..suite import Case
from . import transforms as tf
from ._base import (
    Finding,
    Item,
    Outcome,
    Probe,
    ProbeCase,
    ProbeContext,
    Skip,
    comparison,
    derive,
    register,
    settle_severity,
)
from ._corpus import Lang, RobustnessCorpus, corpus
from ._text import clip, same_output

if TYPE_CHECKING:
    from ..runner import ResultRecord


class _Robustness(Probe):
    category = "robustness"
    severity = "medium"
    other: ClassVar[str] = "the variant"

    def vary(
        self, ctx: ProbeContext, case: Case, text: str, rng: random.Random, lang: Lang
    ) -> tuple[str, dict[str, Any]] | None:
        """The varied text and what was done; None when the transform does not apply."""
        raise NotImplementedError

    async def generate(self, ctx: ProbeContext, cases: list[Case]) -> list[ProbeCase]:
        out = []
        for case, name, text, rng, lang in ctx.targets(self.name, cases, "to vary"):
            varied = self.vary(ctx, case, text, rng, lang)
            if varied is None or varied[0] == text:
                continue
            new_text, meta = varied
            out.append(
                derive(
                    self.name,
                    case,
                    0,
                    {**case.inputs, name: new_text},
                    keep_checks=True,
                    meta={"field": name, **meta},
                )
            )
        if not out:
            raise Skip("it does not apply to any case")
        if len(out) < len(cases):
            ctx.note(self.name, f"applies to {len(out)} of {plural(len(cases), 'case')}")
        return out

    async def detect(
        self, ctx: ProbeContext, items: list[Item], baseline: dict[str, ResultRecord]
    ) -> Outcome:
        out = self.outcome(items[0][1].model if items else "")
        pairs: list[tuple[bool, bool]] = []
        scores: list[tuple[float, float]] = []
        changed = 0
        for pc, r in items:
            base = baseline.get(pc.origin)
            if r.error or r.output is None or base is None or base.output is None:
                out.errors += 1
                continue
            out.tested += 1
            same = same_output(base.output, r.output)
            changed += not same
            judged = r.passed is not None and base.passed is not None
            if judged:
                pairs.append((bool(base.passed), bool(r.passed)))
            if r.score is not None and base.score is not None:
                scores.append((base.score, r.score))
            if judged:
                hit = bool(base.passed) and not r.passed
                why = f"passed on the original, fails on {self.other}: " + "; ".join(
                    f"{c['name']}: {c['reason']}" for c in r.checks if not c["passed"]
                )
            else:
                hit = not same
                why = f"the output changed: {clip(base.output, 80)!r} → {clip(r.output, 80)!r}"
            out.verdicts.append((pc.case.id, hit))
            if hit:
                out.findings.append(_finding(self, pc, r, base, why))
        out.stats["output_changed"] = {
            "count": changed,
            "rate": wilson(changed, out.tested).__dict__,
        }
        if pairs:
            cmp = compare_paired("original", "variant", pairs, scores=scores or None)
            out.stats["paired"] = comparison(cmp)
            # Noise flips pass/fail both ways alike: only a significant drop is a finding
            # worth the probe's severity (without checks, the engine weighs the changed
            # outputs against robustness.control).
            settle_severity(out, cmp.significant and cmp.difference.estimate < 0)
        else:
            out.notes.append("the suite has no checks: findings are changed outputs")
        return out


def _finding(probe: Probe, pc: ProbeCase, r: ResultRecord, base: ResultRecord, why: str) -> Finding:
    name = pc.meta.get("field")
    return Finding(
        probe=probe.name,
        category=probe.category,
        severity=probe.severity,
        model=r.model,
        case_id=pc.case.id,
        origin=pc.origin,
        why=why,
        inputs=dict(r.inputs),
        output=r.output,
        evidence={
            **{k: v for k, v in pc.meta.items() if k != "field"},
            "original_input": base.inputs.get(name) if name else base.inputs,
            "original_output": base.output,
        },
    )


@register
class Control(_Robustness):
    name = "robustness.control"
    description = "the same case sampled again: how often the answer moves on its own"
    other = "a second sample of the very same case"

    async def generate(self, ctx: ProbeContext, cases: list[Case]) -> list[ProbeCase]:
        # Repeat index 1: an independent sample (the cache keys on it), in another batch.
        return [
            derive(self.name, c, 0, dict(c.inputs), keep_checks=True, meta={}, sample=1)
            for c in cases
        ]


@register
class Typos(_Robustness):
    name = "robustness.typos"
    description = "typing mistakes in about one word in ten (swaps, drops, doubles, near keys)"

    def vary(self, ctx, case, text, rng, lang):  # type: ignore[no-untyped-def]
        return tf.typos(text, rng, lang=lang), {}


@register
class Casing(_Robustness):
    name = "robustness.casing"
    description = "the text in upper case, lower case or random case"

    def vary(self, ctx, case, text, rng, lang):  # type: ignore[no-untyped-def]
        new, mode = tf.casing(text, rng)
        return new, {"mode": mode}


@register
class Spacing(_Robustness):
    name = "robustness.spacing"
    description = "doubled spaces, stray line breaks, spaces lost after punctuation"

    def vary(self, ctx, case, text, rng, lang):  # type: ignore[no-untyped-def]
        return tf.spacing(text, rng), {}


@register
class Punctuation(_Robustness):
    name = "robustness.punctuation"
    description = "punctuation removed, or exclamation marks, or ellipses"

    def vary(self, ctx, case, text, rng, lang):  # type: ignore[no-untyped-def]
        new, mode = tf.punctuation(text, rng)
        return new, {"mode": mode}


@register
class Reorder(_Robustness):
    name = "robustness.reorder"
    description = "the items of a list (a list input, or bulleted lines) in another order"

    def vary(self, ctx, case, text, rng, lang):  # type: ignore[no-untyped-def]
        new = tf.reorder(text, rng)
        return (new, {}) if new is not None else None

    async def generate(self, ctx: ProbeContext, cases: list[Case]) -> list[ProbeCase]:
        # A list-valued input is the clearest list there is: shuffle it first.
        out, rest = [], []
        for case in cases:
            lists = [k for k, v in case.inputs.items() if isinstance(v, list)]
            order = (
                tf.shuffled(case.inputs[lists[0]], ctx.rng(self.name, case.id)) if lists else None
            )
            if order is None:
                rest.append(case)
                continue
            out.append(
                derive(
                    self.name,
                    case,
                    0,
                    {**case.inputs, lists[0]: order},
                    keep_checks=True,
                    meta={"field": lists[0]},
                )
            )
        try:
            out += await super().generate(ctx, rest) if rest else []
        except Skip:
            if not out:
                raise Skip("no case has a list (a list input, or bulleted lines)") from None
        return out


@register
class Distractor(_Robustness):
    name = "robustness.distractor"
    description = "an irrelevant sentence inserted at the start, middle or end"

    def vary(self, ctx, case, text, rng, lang):  # type: ignore[no-untyped-def]
        sentence = rng.choice(corpus("robustness", RobustnessCorpus).distractors[lang])
        new, where = tf.insert_sentence(text, sentence, rng)
        return new, {"inserted": sentence, "where": where}


# ---- model-based: paraphrase and language switch -------------------------------------------

NEEDS_MODEL = (
    "needs a capable model to rewrite the text: pass --paraphraser MODEL (e.g. "
    "openai:gpt-4o-mini). The embedded 270M base model follows no instruction, so its "
    "rewrites would measure its own mistakes, not the prompt's robustness"
)


class _Rewrite(_Robustness):
    async def rewrite(self, ctx: ProbeContext, text: str, lang: Lang) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    async def generate(self, ctx: ProbeContext, cases: list[Case]) -> list[ProbeCase]:
        if ctx.paraphraser is None:
            raise Skip(NEEDS_MODEL)
        gate = asyncio.Semaphore(8)

        async def one(case: Case) -> ProbeCase | None:
            found = ctx.text_of(case)
            if not found:
                return None
            name, text = found
            async with gate:
                try:
                    new, meta = await self.rewrite(ctx, text, ctx.lang_of(case))
                except Exception as exc:  # a failed rewrite skips the case, said in the report
                    ctx.note(self.name, f"case {case.id}: the paraphraser failed: {exc}")
                    return None
            if not new.strip() or new.strip() == text.strip():
                ctx.note(self.name, f"case {case.id}: the paraphraser returned the text unchanged")
                return None
            meta = {"field": name, "by": ctx.paraphraser_id, **meta}
            return derive(
                self.name, case, 0, {**case.inputs, name: new}, keep_checks=True, meta=meta
            )

        made = [pc for pc in await asyncio.gather(*(one(c) for c in cases)) if pc]
        if not made:
            raise Skip("the paraphraser produced no usable variant")
        return made


async def _ask(ctx: ProbeContext, system: str, user: str, text: str) -> str:
    from ..models import Message, Params, Request

    assert ctx.paraphraser is not None
    request = Request(
        (Message("system", system), Message("user", user)),
        Params(temperature=0, max_tokens=max(64, len(text) // 2 + 64)),
    )
    response = await ctx.paraphraser.generate(request)
    return response.text.strip().strip('"«»“”').strip()


@register
class Paraphrase(_Rewrite):
    name = "robustness.paraphrase"
    description = "the text reworded by the paraphraser model, same meaning and language"

    async def rewrite(self, ctx: ProbeContext, text: str, lang: Lang) -> tuple[str, dict[str, Any]]:
        how = corpus("robustness", RobustnessCorpus).paraphrase
        return await _ask(ctx, how.system, how.user.replace("{text}", text), text), {}


@register
class Translate(_Rewrite):
    name = "robustness.translate"
    description = "the text translated into the other language (French ↔ English)"

    async def rewrite(self, ctx: ProbeContext, text: str, lang: Lang) -> tuple[str, dict[str, Any]]:
        how = corpus("robustness", RobustnessCorpus).translate
        target = "French" if lang == "en" else "English"
        user = how.user.replace("{language}", target).replace("{text}", text)
        return await _ask(ctx, how.system, user, text), {"from": lang, "to": target}
