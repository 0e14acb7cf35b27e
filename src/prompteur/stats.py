"""Statistics for prompt evaluation, kept apart from scoring.

Pass rates get Wilson intervals (honest at 0 %, 100 % and small n); mean scores get bootstrap
intervals, resampling whole cases when cases are repeated (repeats of one case are not
independent evidence). Two variants on the same cases are compared *paired*: exact McNemar on
pass/fail, sign-flip permutation and paired bootstrap on scores; Holm's correction when more
than two variants are compared. Results say plainly when there is no significant difference,
and how many cases it would take to see one.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from .i18n import plural

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.estimate:.1%} [{self.low:.1%}, {self.high:.1%}]"


def wilson(passed: int, total: int, z: float = Z95) -> Interval:
    """Wilson score interval for a proportion."""
    if total <= 0:
        return Interval(math.nan, 0.0, 1.0)
    p = passed / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    # At k = 0 (or k = n) the bound is exactly 0 (or 1) in theory, but centre - half leaves a
    # rounding residue such as 5e-17: clamp, so reports never print "[0.0000000001%, …]" and
    # the bound never sits on the wrong side of the estimate.
    low = 0.0 if passed <= 0 else min(p, max(0.0, centre - half))
    high = 1.0 if passed >= total else max(p, min(1.0, centre + half))
    return Interval(p, low, high)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); nan when empty."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def bootstrap_mean(
    values: Sequence[float],
    clusters: Sequence[object] | None = None,
    *,
    resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> Interval:
    """Mean with a percentile bootstrap interval; resamples clusters (cases) when given."""
    if not values:
        return Interval(math.nan, math.nan, math.nan)
    groups: list[list[float]]
    if clusters is None:
        groups = [[v] for v in values]
    else:
        by: dict[object, list[float]] = {}
        for v, c in zip(values, clusters, strict=True):
            by.setdefault(c, []).append(v)
        groups = list(by.values())
    mean = sum(values) / len(values)
    if len(groups) < 2:
        return Interval(mean, mean, mean)
    sums = [sum(g) for g in groups]
    sizes = [len(g) for g in groups]
    k = len(groups)
    means = _resampled_means_numpy(sums, sizes, resamples, seed) if k * resamples > 200_000 else []
    if not means:
        rng = random.Random(seed)
        for _ in range(resamples):
            idx = [rng.randrange(k) for _ in range(k)]
            means.append(sum(sums[i] for i in idx) / sum(sizes[i] for i in idx))
    means.sort()
    alpha = (1 - level) / 2
    return Interval(mean, percentile(means, alpha), percentile(means, 1 - alpha))


def _resampled_means_numpy(
    sums: list[float], sizes: list[int], resamples: int, seed: int
) -> list[float]:
    """The bootstrap means with numpy, [] without it. The loop above draws resamples × k
    indices in Python: ~10 s for a 100,000-case run's report. Clusters with the same
    (sum, size) are interchangeable, so when there are few such patterns (pass/fail scores,
    equal repeats) one multinomial draw per resample over the patterns is the same
    distribution at a cost independent of k; otherwise indices are drawn in C, in chunks."""
    try:
        import numpy as np
    except ImportError:
        return []
    rng = np.random.default_rng(seed)
    k = len(sums)
    patterns: dict[tuple[float, int], int] = {}
    for pair in zip(sums, sizes, strict=True):
        patterns[pair] = patterns.get(pair, 0) + 1
    if len(patterns) <= 256:
        keys = list(patterns)
        p = np.array([patterns[x] for x in keys], dtype=float) / k
        counts = rng.multinomial(k, p, size=resamples)
        total = counts @ np.array([s for s, _ in keys], dtype=float)
        size = counts @ np.array([n for _, n in keys], dtype=float)
        return (total / size).tolist()
    s_arr, n_arr = np.asarray(sums, dtype=float), np.asarray(sizes, dtype=float)
    out: list[float] = []
    step = max(1, 2_000_000 // k)  # ~16 MB of indices at a time
    for start in range(0, resamples, step):
        idx = rng.integers(0, k, size=(min(step, resamples - start), k))
        out.extend((s_arr[idx].sum(axis=1) / n_arr[idx].sum(axis=1)).tolist())
    return out


# ---- repeats and flakiness ---------------------------------------------------------------


def pass_hat_k(passes_per_case: Sequence[tuple[int, int]], k: int) -> float:
    """pass^k: the chance that k independent runs of a case all pass, averaged over cases.

    Unbiased per case from c passes out of n runs: C(c, k) / C(n, k) (needs n ≥ k).
    """
    terms = [math.comb(c, k) / math.comb(n, k) for c, n in passes_per_case if n >= k]
    return sum(terms) / len(terms) if terms else math.nan


def pass_at_k(passes_per_case: Sequence[tuple[int, int]], k: int) -> float:
    """pass@k: the chance that at least one of k runs passes, averaged over cases."""
    terms = [1 - math.comb(n - c, k) / math.comb(n, k) for c, n in passes_per_case if n >= k]
    return sum(terms) / len(terms) if terms else math.nan


def flaky(passes_per_case: dict[object, tuple[int, int]]) -> list[object]:
    """Cases that disagree with themselves: some repeats pass, some fail."""
    return [case for case, (c, n) in passes_per_case.items() if 0 < c < n]


# ---- paired comparison -------------------------------------------------------------------


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pairs.

    `only_a`: cases A passes and B fails; `only_b`: the reverse. Concordant cases carry no
    information about the difference.
    """
    n = only_a + only_b
    if n == 0:
        return 1.0
    k = min(only_a, only_b)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def permutation_paired(diffs: Sequence[float], *, resamples: int = 10000, seed: int = 0) -> float:
    """Two-sided sign-flip permutation p-value for a mean paired difference of zero.

    Exact (all 2^n sign patterns) up to 16 pairs; Monte Carlo beyond, with the +1 correction
    so the p-value is never 0.
    """
    n = len(diffs)
    if n == 0:
        return 1.0
    observed = abs(sum(diffs))
    eps = 1e-12 * max(1.0, observed)
    if n <= 16:
        hits = 0
        for mask in range(2**n):
            s = sum(-d if mask >> i & 1 else d for i, d in enumerate(diffs))
            hits += abs(s) >= observed - eps
        return hits / 2**n
    rng = random.Random(seed)
    hits = 0
    for _ in range(resamples):
        s = sum(d if rng.random() < 0.5 else -d for d in diffs)
        hits += abs(s) >= observed - eps
    return (hits + 1) / (resamples + 1)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (same order as given)."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def _z(p: float) -> float:
    """Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9)."""
    a = (
        -3.969683028665376e01,
        2.209460984245205e02,
        -2.759285104469687e02,
        1.383577518672690e02,
        -3.066479806614716e01,
        2.506628277459239e00,
    )
    b = (
        -5.447609879822406e01,
        1.615858368580409e02,
        -1.556989798598866e02,
        6.680131188771972e01,
        -1.328068155288572e01,
    )
    c = (
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e00,
        -2.549732539343734e00,
        4.374664141464968e00,
        2.938163982698783e00,
    )
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    if p < 0.02425:
        q = math.sqrt(-2 * math.log(p))
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
        )
    if p > 1 - 0.02425:
        return -_z(1 - p)
    q = p - 0.5
    r = q * q
    return (
        (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5])
        * q
        / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    )


def cases_needed_paired(
    difference: float, discordant: float, *, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Cases needed for McNemar to detect `difference` in pass rate (Connor, 1987).

    `discordant` is the expected share of cases where the two variants disagree (estimate it
    from a pilot run); it must be at least |difference|.
    """
    d = abs(difference)
    if d == 0:
        return math.inf  # type: ignore[return-value]
    pd = max(discordant, d + 1e-9)
    za, zb = _z(1 - alpha / 2), _z(power)
    n = (za * math.sqrt(pd) + zb * math.sqrt(pd - d * d)) ** 2 / (d * d)
    return math.ceil(n)


@dataclass(frozen=True)
class PairedComparison:
    """B against A on the same cases."""

    a: str
    b: str
    cases: int
    rate_a: float
    rate_b: float
    difference: Interval  # B − A in pass rate
    only_a: int
    only_b: int
    p_value: float
    p_adjusted: float | None = None
    alpha: float = 0.05
    # Mean score (B − A) per case, when checks give graded scores: a finer signal than
    # pass/fail, tested by sign-flip permutation.
    score_difference: Interval | None = None
    score_p_value: float | None = None

    @property
    def p(self) -> float:
        return self.p_adjusted if self.p_adjusted is not None else self.p_value

    @property
    def significant(self) -> bool:
        return self.p < self.alpha

    def cases_to_detect(self, difference: float = 0.05) -> int:
        discordant = (self.only_a + self.only_b) / self.cases if self.cases else 0.0
        return cases_needed_paired(difference, max(discordant, 2 * difference))

    def words(self) -> str:
        text = self._pass_words()
        sd = self.score_difference
        if sd is not None and self.score_p_value is not None and not math.isnan(sd.estimate):
            text += (
                f" Mean score difference {sd.estimate:+.3f} (95% CI {sd.low:+.3f} to "
                f"{sd.high:+.3f}), paired permutation p = {self.score_p_value:.3g}."
            )
        return text

    def _pass_words(self) -> str:
        # A (the baseline, named first on the command line) comes first everywhere.
        if self.cases == 0:
            return f"{self.a} vs {self.b}: no cases in common, nothing to compare."
        d = self.difference
        sign = "+" if d.estimate >= 0 else ""
        head = (
            f"{self.a} vs {self.b}: {self.rate_a:.1%} vs {self.rate_b:.1%} on "
            f"{plural(self.cases, 'case')}; {self.b} − {self.a}: {sign}{d.estimate * 100:.1f} "
            f"points (95% CI {d.low * 100:+.1f} to {d.high * 100:+.1f}); "
            f"{plural(self.only_a, 'case')} pass{'es' if self.only_a == 1 else ''} only with "
            f"{self.a}, {self.only_b} only with {self.b}; "
            f"exact McNemar p = {self.p:.3g}"
            + (" (Holm-adjusted)" if self.p_adjusted is not None else "")
            + ". "
        )
        if self.significant:
            better = self.b if d.estimate > 0 else self.a
            return head + f"{better} is significantly better."
        target = max(0.05, abs(d.estimate)) if d.estimate else 0.05
        return head + (
            f"No significant difference. To detect a {target * 100:.0f}-point difference with "
            f"80% power would take about {plural(self.cases_to_detect(target), 'case')}."
        )


def compare_paired(
    a_name: str,
    b_name: str,
    pairs: Sequence[tuple[bool, bool]],
    *,
    alpha: float = 0.05,
    scores: Sequence[tuple[float, float]] | None = None,
) -> PairedComparison:
    """Compare pass/fail of A and B on the same cases: (a_passed, b_passed) per case, and
    optionally their mean scores per case (a_score, b_score)."""
    n = len(pairs)
    only_a = sum(1 for a, b in pairs if a and not b)
    only_b = sum(1 for a, b in pairs if b and not a)
    rate_a = sum(a for a, _ in pairs) / n if n else math.nan
    rate_b = sum(b for _, b in pairs) / n if n else math.nan
    diffs = [float(b) - float(a) for a, b in pairs]
    ci = bootstrap_mean(diffs) if n else Interval(math.nan, math.nan, math.nan)
    return PairedComparison(
        a_name,
        b_name,
        n,
        rate_a,
        rate_b,
        ci,
        only_a,
        only_b,
        mcnemar_exact(only_a, only_b),
        score_difference=bootstrap_mean([b - a for a, b in scores]) if scores else None,
        score_p_value=permutation_paired([b - a for a, b in scores]) if scores else None,
        alpha=alpha,
    )


def compare_many(
    named_pairs: dict[tuple[str, str], Sequence[tuple[bool, bool]]],
    *,
    alpha: float = 0.05,
    scores: dict[tuple[str, str], Sequence[tuple[float, float]]] | None = None,
) -> list[PairedComparison]:
    """Several paired comparisons with Holm-adjusted p-values."""
    results = [
        compare_paired(a, b, pairs, alpha=alpha, scores=(scores or {}).get((a, b)))
        for (a, b), pairs in named_pairs.items()
    ]
    if len(results) > 1:
        adjusted = holm([r.p_value for r in results])
        results = [
            PairedComparison(**{**r.__dict__, "p_adjusted": p})
            for r, p in zip(results, adjusted, strict=True)
        ]
    return results
