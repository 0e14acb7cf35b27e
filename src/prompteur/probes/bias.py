"""Bias: counterfactual twins of each case that differ only by a personal attribute — gender
(first names, gendered words), origin (first names typical of several origins, French and
English lists), age, religion.

A case whose text mentions the attribute is rewritten for each group ("swap"); one that does
not gets the same short sentence for each group ("insert": a signature, an age, a faith), so
its answer should not move at all. Per attribute the report gives:

- divergence: the share of cases whose output changes across groups (each one a finding, with
  every group's input and output side by side);
- per group: the check pass rate (Wilson) and mean score;
- every pair of groups compared *paired*, on the same cases: exact McNemar on pass/fail and a
  sign-flip permutation test on scores, Holm-corrected across pairs — and the largest gap with
  its interval.
"""

from __future__ import annotations

import itertools
import random
import re
from collections import defaultdict
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from ..stats import compare_paired, holm, wilson
from ..suite import Case
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
)
from ._corpus import BiasCorpus, Lang, corpus
from ._text import clip, same_output, word_set
from .french import agree

if TYPE_CHECKING:
    from ..runner import ResultRecord

_TOKEN = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*", re.UNICODE)
# After "her", these words mean it was an object ("told her the"), else a possessive.
_AFTER_OBJECT_HER = word_set(
    "a an the and or but to that this about for with in on at up out back again so if when because"
)

# French impersonal "il": "il y a", "il faut", "il est possible de…" name no one.
_IMPERSONAL = re.compile(
    r"\s+(?:y\b|faut|fallait|fait|semble|s'agit|paraît|manque|reste|vaut|pleut|suffit|"
    r"arrive que|est (?:possible|impossible|nécessaire|important|temps|difficile|facile|"
    r"probable|vrai|dommage|interdit|conseillé))",
    re.I,
)


def _match_case(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def swap_terms(text: str, rows: list[dict[str, str]], target: str, lang: str) -> tuple[str, int]:
    """Each word that appears in a row becomes that row's word for `target`; (text, swaps)."""
    index: dict[str, dict[str, str]] = {}
    for row in rows:
        for word in row.values():
            index.setdefault(word.lower(), row)
    count = 0

    def sub(m: re.Match[str]) -> str:
        nonlocal count
        word = m.group(0)
        row = index.get(word.lower())
        if row is None:
            return word
        new = row.get(target)
        if new is None:
            return word
        if lang == "fr" and word.lower() == "il" and _IMPERSONAL.match(text, m.end()):
            return word  # "il y a", "il faut": no one's gender
        if lang == "en" and word.lower() == "her" and target != "female":
            after = re.match(r"\s*([\w']+)", text[m.end() :])
            new = "him" if after is None or after.group(1).lower() in _AFTER_OBJECT_HER else "his"
        count += new.lower() != word.lower()
        return _match_case(new, word)

    return _TOKEN.sub(sub, text), count


def swap_names(text: str, table: dict[str, list[str]], target: str) -> tuple[str, int]:
    """Names of any group in `table` become the same-index name of `target`'s list."""
    where: dict[str, int] = {}
    for names in table.values():
        for i, n in enumerate(names):
            where.setdefault(n, i)
    count = 0

    def sub(m: re.Match[str]) -> str:
        nonlocal count
        i = where.get(m.group(0))
        if i is None:
            return m.group(0)
        new = table[target][i % len(table[target])]
        count += new != m.group(0)
        return new

    return _TOKEN.sub(sub, text), count


def mentions(text: str, words: set[str], *, case_sensitive: bool = False) -> bool:
    tokens = _TOKEN.findall(text)
    return any((t if case_sensitive else t.lower()) in words for t in tokens)


class _Bias(Probe):
    category = "bias"
    severity = "high"
    attribute: ClassVar[str]

    def groups(self, lang: Lang) -> list[str]:
        raise NotImplementedError

    def variants(
        self, ctx: ProbeContext, text: str, lang: Lang, rng: random.Random
    ) -> tuple[str, dict[str, tuple[str, str]]]:
        """(mode, {group: (text, the value used)})."""
        raise NotImplementedError

    async def generate(self, ctx: ProbeContext, cases: list[Case]) -> list[ProbeCase]:
        out = []
        for case, name, text, rng, lang in ctx.targets(self.name, cases):
            mode, made = self.variants(ctx, text, lang, rng)
            for group, (new, value) in made.items():
                meta = {"attribute": self.attribute, "group": group, "value": value}
                meta.update(mode=mode, lang=lang, field=name)
                inputs = {**case.inputs, name: new}
                out.append(derive(self.name, case, group, inputs, keep_checks=True, meta=meta))
        if not out:
            raise Skip("no case has a text input")
        return out

    async def detect(
        self, ctx: ProbeContext, items: list[Item], baseline: dict[str, ResultRecord]
    ) -> Outcome:
        out = self.outcome(items[0][1].model if items else "")
        by_case: dict[str, dict[str, tuple[ProbeCase, ResultRecord]]] = defaultdict(dict)
        modes: dict[str, int] = defaultdict(int)
        for pc, r in items:
            if r.error or r.output is None:
                out.errors += 1
                continue
            by_case[pc.origin][pc.meta["group"]] = (pc, r)
        order: list[str] = list(dict.fromkeys(pc.meta["group"] for pc, _ in items))
        for origin, groups in by_case.items():
            if len(groups) < 2:
                continue
            out.tested += 1
            first_pc = next(iter(groups.values()))[0]
            modes[first_pc.meta["mode"]] += 1
            outputs = [r.output for _, r in groups.values()]
            diverges = any(not same_output(outputs[0], o) for o in outputs[1:])
            out.verdicts.append((f"{self.name}/{origin}", diverges))
            if diverges:
                out.findings.append(self._finding(origin, groups))
        out.stats["modes"] = dict(modes)
        out.stats["groups"] = _group_rates(by_case, order)
        comparisons = _pairwise(by_case, order)
        if comparisons:
            out.stats["comparisons"] = comparisons
            gap = max(comparisons, key=lambda c: abs(c["difference"]["estimate"]))
            out.stats["gap"] = gap
            if any(c["significant"] for c in comparisons):
                out.notes.append(f"significant gap: {gap['words']}")
        else:
            out.notes.append("the suite has no checks: only output divergence is measured")
        return out

    def _finding(self, origin: str, groups: dict[str, tuple[ProbeCase, ResultRecord]]) -> Finding:
        pcs = list(groups.values())
        pc, r = pcs[0]
        field = pc.meta["field"]
        shown = ", ".join(f"{g}: {clip(rr.output, 40)!r}" for g, (_, rr) in groups.items())
        return Finding(
            probe=self.name,
            category=self.category,
            severity=self.severity,
            model=r.model,
            case_id=f"{self.name}/{origin}",
            origin=origin,
            why=f"the output changes with {self.attribute} — {shown}",
            inputs=dict(r.inputs),
            output=r.output,
            evidence={
                "attribute": self.attribute,
                "mode": pc.meta["mode"],
                "variants": {
                    g: {
                        "value": p.meta["value"],
                        "input": rr.inputs.get(field),
                        "output": rr.output,
                        "passed": rr.passed,
                    }
                    for g, (p, rr) in groups.items()
                },
            },
        )


def _group_rates(
    by_case: dict[str, dict[str, tuple[ProbeCase, ResultRecord]]], order: list[str]
) -> dict[str, Any]:
    rates: dict[str, Any] = {}
    for g in order:
        rs = [groups[g][1] for groups in by_case.values() if g in groups]
        judged = [r for r in rs if r.passed is not None]
        scores = [r.score for r in rs if r.score is not None]
        rates[g] = {
            "cases": len(rs),
            "pass_rate": wilson(sum(bool(r.passed) for r in judged), len(judged)).__dict__
            if judged
            else None,
            "mean_score": sum(scores) / len(scores) if scores else None,
        }
    return rates


def _pairwise(
    by_case: dict[str, dict[str, tuple[ProbeCase, ResultRecord]]], order: list[str]
) -> list[dict[str, Any]]:
    """Every pair of groups on the cases both ran, Holm-adjusted across the pairs."""
    results = []
    for a, b in itertools.combinations(order, 2):
        pairs, scores = [], []
        for groups in by_case.values():
            if a in groups and b in groups:
                ra, rb = groups[a][1], groups[b][1]
                if ra.passed is not None and rb.passed is not None:
                    pairs.append((bool(ra.passed), bool(rb.passed)))
                if ra.score is not None and rb.score is not None:
                    scores.append((ra.score, rb.score))
        if pairs:
            results.append(compare_paired(a, b, pairs, scores=scores or None))
    if not results:
        return []
    adjusted = holm([c.p_value for c in results]) if len(results) > 1 else [None]
    out = []
    for c, p in zip(results, adjusted, strict=True):
        out.append(comparison(replace(c, p_adjusted=p) if p is not None else c))
    return out


@register
class Gender(_Bias):
    name = "bias.gender"
    attribute = "gender"
    description = "female and male twins: first names, pronouns and gendered words swapped"

    def groups(self, lang: Lang) -> list[str]:
        return ["female", "male"]

    def variants(self, ctx, text, lang, rng):  # type: ignore[no-untyped-def]
        data = corpus("bias", BiasCorpus)
        names = data.names[lang].gender
        rows = data.gender_terms[lang]
        words = {w.lower() for row in rows for w in row.values()}
        all_names = {n for ns in names.values() for n in ns}
        if mentions(text, words) or mentions(text, all_names, case_sensitive=True):
            made = {}
            for g in self.groups(lang):
                new, _ = swap_terms(text, rows, g, lang)
                new, _ = swap_names(new, names, g)
                if lang == "fr":
                    # Both twins get the same repair, so neither differs by a grammar error.
                    referents = {r[g].lower() for r in rows if g in r}
                    new, _ = agree(new, g, referents | {n.lower() for n in names[g]})
                made[g] = (new, g)
            return "swap", made
        i = rng.randrange(len(names["female"]))
        sig = data.signature[lang]
        return "insert", {
            g: (sig.replace("{text}", text).replace("{name}", names[g][i]), names[g][i])
            for g in self.groups(lang)
        }


@register
class Origin(_Bias):
    name = "bias.origin"
    attribute = "origin"
    description = "twins signed (or named) with first names typical of different origins"

    def groups(self, lang: Lang) -> list[str]:
        return list(corpus("bias", BiasCorpus).names[lang].origin)

    def variants(self, ctx, text, lang, rng):  # type: ignore[no-untyped-def]
        data = corpus("bias", BiasCorpus)
        origin = data.names[lang].origin
        sex = rng.choice(["female", "male"])
        i = rng.randrange(len(next(iter(origin.values()))[sex]))
        by_group = {g: lists[sex] for g, lists in origin.items()}
        everyone = {n for lists in origin.values() for ns in lists.values() for n in ns}
        everyone |= {n for ns in data.names[lang].gender.values() for n in ns}
        if mentions(text, everyone, case_sensitive=True):
            # Any known name becomes the same-sex name of each origin (the gender lists count
            # as the first origin's); names outside the lists stay as they are.
            table = {**by_group, "_gender": data.names[lang].gender[sex]}
            return "swap", {g: (swap_names(text, table, g)[0], g) for g in origin}
        sig = data.signature[lang]
        return "insert", {
            g: (sig.replace("{text}", text).replace("{name}", ns[i]), ns[i])
            for g, ns in by_group.items()
        }


_AGE = {  # the number of an age, and nothing else (it is what a swap replaces)
    "en": re.compile(r"\b\d{1,3}(?=[- ]years?[- ]old\b)|(?<=\baged )\d{1,3}\b", re.I),
    "fr": re.compile(r"\b\d{1,3}(?= ans\b)|(?:(?<=âgé de )|(?<=âgée de ))\d{1,3}\b", re.I),
}


@register
class Age(_Bias):
    name = "bias.age"
    attribute = "age"
    description = "a young and an old twin: the age in the text changed, or stated"

    def groups(self, lang: Lang) -> list[str]:
        return list(corpus("bias", BiasCorpus).ages.groups)

    def variants(self, ctx, text, lang, rng):  # type: ignore[no-untyped-def]
        ages = corpus("bias", BiasCorpus).ages
        i = rng.randrange(min(len(v) for v in ages.groups.values()))
        pick = {g: ages.groups[g][i] for g in ages.groups}
        if _AGE[lang].search(text):
            return "swap", {g: (_AGE[lang].sub(str(a), text), str(a)) for g, a in pick.items()}
        tpl = ages.insert[lang]
        return "insert", {
            g: (tpl.replace("{text}", text.rstrip()).replace("{age}", str(a)), str(a))
            for g, a in pick.items()
        }


@register
class Religion(_Bias):
    name = "bias.religion"
    attribute = "religion"
    description = "twins of each faith (and none): the faith in the text changed, or stated"

    def groups(self, lang: Lang) -> list[str]:
        return list(corpus("bias", BiasCorpus).religions.groups)

    def variants(self, ctx, text, lang, rng):  # type: ignore[no-untyped-def]
        rel = corpus("bias", BiasCorpus).religions
        rows = rel.terms[lang]
        words = {w.lower() for row in rows for w in row.values()}
        if mentions(text, words):
            return "swap", {g: (swap_terms(text, rows, g, lang)[0], g) for g in rel.groups}
        return "insert", {g: (f"{text.rstrip()} {rel.insert[lang][g]}", g) for g in rel.groups}
