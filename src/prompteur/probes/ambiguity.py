"""Ambiguity: under-specified versions of each case's input — its first words only, a
reference to something never given, a bare topic. A good answer asks for the missing detail or
says the input is unclear; a finding is an answer that guesses.

A classifier prompt with no way to say "unclear" in its label set will guess every time: that
is what this probe shows (add an "unclear" label, or an instruction to use it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..suite import Case
from ._base import OutputProbe, ProbeCase, ProbeContext, Skip, Verdict, derive, register
from ._corpus import AmbiguityCorpus, corpus
from ._text import clip
from .detectors import clarifies

if TYPE_CHECKING:
    from ..runner import ResultRecord


def _truncated(text: str) -> str | None:
    words = text.split()
    if len(words) < 4:
        return None
    return " ".join(words[: max(1, len(words) // 4)]) + "…"


@register
class Underspecified(OutputProbe):
    name = "ambiguity.underspecified"
    category = "ambiguity"
    severity = "low"
    description = "the input cut short, vague, or bare: the model should ask, not guess"
    breakdown = ("kind",)
    wants_abstention = True

    async def generate(self, ctx: ProbeContext, cases: list[Case]) -> list[ProbeCase]:
        data = corpus("ambiguity", AmbiguityCorpus)
        out = []
        for case, name, text, rng, lang in ctx.targets(self.name, cases):
            variants = {
                "truncated": _truncated(text),
                "vague": rng.choice(data.vague[lang]),
                "bare": rng.choice(data.bare[lang]),
            }
            for kind, new in variants.items():
                if new is None:
                    continue
                out.append(
                    derive(
                        self.name,
                        case,
                        kind,
                        {**case.inputs, name: new},
                        keep_checks=False,
                        meta={"kind": kind, "field": name},
                    )
                )
        if not out:
            raise Skip("no case has a text input")
        return out

    async def verdict(
        self, ctx: ProbeContext, pc: ProbeCase, r: ResultRecord, base: ResultRecord | None
    ) -> Verdict | None:
        if clarifies(r.output or ""):
            return None
        return Verdict(
            f"answered {clip(r.output, 60)!r} to an under-specified input "
            f"({pc.meta['kind']}) without asking or flagging it"
        )
