"""Two variants of the same cases, side by side: pass rates with Wilson intervals and the
paired tests of stats.py (exact McNemar on pass/fail, sign-flip permutation on graded scores).

Repeats of a case are not independent evidence: a case passes when most of its repeats pass,
and its score is the mean over repeats (as `report.paired` does).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .. import stats
from ..runner import ResultRecord


@dataclass
class Tally:
    passed: int = 0
    judged: int = 0
    errors: int = 0
    results: int = 0
    cases: dict[str, list[int]] = field(default_factory=dict)  # case → [passes, judged]
    scores: dict[str, list[float]] = field(default_factory=dict)  # case → [sum, n]

    def add(self, r: ResultRecord) -> None:
        self.results += 1
        self.errors += r.error is not None
        if r.passed is not None:
            self.passed += bool(r.passed)
            self.judged += 1
            c = self.cases.setdefault(r.case_id, [0, 0])
            c[0] += bool(r.passed)
            c[1] += 1
        if r.score is not None:
            s = self.scores.setdefault(r.case_id, [0.0, 0.0])
            s[0] += r.score
            s[1] += 1

    @property
    def rate(self) -> stats.Interval:
        return stats.wilson(self.passed, self.judged)

    def votes(self) -> dict[str, bool]:
        return {c: p * 2 > n for c, (p, n) in self.cases.items() if n}

    def mean_scores(self) -> dict[str, float]:
        return {c: s / n for c, (s, n) in self.scores.items() if n}

    @property
    def graded(self) -> bool:
        """Whether scores say more than pass/fail (some score strictly between 0 and 1)."""
        return any(0.0 < v < 1.0 for v in self.mean_scores().values())

    def to_dict(self, version: str | None = None) -> dict[str, Any]:
        rate = self.rate
        return {
            **({"version": version} if version else {}),
            "passed": self.passed,
            "judged": self.judged,
            "errors": self.errors,
            "cases": len(self.cases),
            "pass_rate": clean(rate.estimate),
            "low": clean(rate.low),
            "high": clean(rate.high),
        }


def tally(records: Iterable[ResultRecord], key: Callable[[ResultRecord], str]) -> dict[str, Tally]:
    out: dict[str, Tally] = {}
    for r in records:
        out.setdefault(key(r), Tally()).add(r)
    return out


def compare(
    a_name: str, a: Tally, b_name: str, b: Tally, *, alpha: float = 0.05
) -> stats.PairedComparison:
    """B against A on the cases both judged."""
    va, vb = a.votes(), b.votes()
    common = sorted(set(va) & set(vb))
    sa, sb = a.mean_scores(), b.mean_scores()
    scored = sorted(set(sa) & set(sb))
    graded = a.graded or b.graded
    return stats.compare_paired(
        a_name,
        b_name,
        [(va[c], vb[c]) for c in common],
        alpha=alpha,
        # Scores that are only 0/1 repeat the pass/fail test; the permutation test is kept
        # for checks that grade.
        scores=[(sa[c], sb[c]) for c in scored] if graded and scored else None,
    )


def significantly_worse(c: stats.PairedComparison, score_p: float | None = None) -> bool:
    """B significantly below A: on pass/fail (McNemar), or on graded scores."""
    if c.cases and c.significant and c.difference.estimate < 0:
        return True
    sd = c.score_difference
    p = score_p if score_p is not None else c.score_p_value
    return sd is not None and p is not None and p < c.alpha and sd.estimate < 0


def significantly_better(c: stats.PairedComparison, score_p: float | None = None) -> bool:
    if c.cases and c.significant and c.difference.estimate > 0:
        return True
    sd = c.score_difference
    p = score_p if score_p is not None else c.score_p_value
    return (
        sd is not None
        and p is not None
        and p < c.alpha
        and sd.estimate > 0
        and not (c.significant and c.difference.estimate < 0)
    )


def clean(x: float | None) -> float | None:
    """JSON has no NaN (PostgreSQL's json type refuses it): unknown is null."""
    if x is None or math.isnan(x):
        return None
    return round(x, 6)


def comparison_dict(c: stats.PairedComparison) -> dict[str, Any]:
    sd = c.score_difference
    return {
        "test": "exact McNemar on pass/fail (majority over repeats), paired by case",
        "a": c.a,
        "b": c.b,
        "cases": c.cases,
        "rate_a": clean(c.rate_a),
        "rate_b": clean(c.rate_b),
        "only_a": c.only_a,
        "only_b": c.only_b,
        "difference": {
            "estimate": clean(c.difference.estimate),
            "low": clean(c.difference.low),
            "high": clean(c.difference.high),
        },
        "p_value": clean(c.p_value),
        "p_adjusted": clean(c.p_adjusted),
        "alpha": c.alpha,
        "significant": c.significant,
        "score_difference": {
            "estimate": clean(sd.estimate),
            "low": clean(sd.low),
            "high": clean(sd.high),
            "test": "sign-flip permutation on mean score per case",
            "p_value": clean(c.score_p_value),
        }
        if sd is not None
        else None,
        "words": c.words(),
    }
