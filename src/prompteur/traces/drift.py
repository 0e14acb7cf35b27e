"""The tests behind alerts, kept apart from the alert logic: a one-sided two-proportion z-test
(pass-rate drop), the two-sample Kolmogorov–Smirnov test and the population stability index
(input length), a chi-square test and total variation distance (language mix)."""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Sequence


def normal_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


def proportion_drop(passed_a: int, n_a: int, passed_b: int, n_b: int) -> float:
    """p-value that B's pass rate is lower than A's (pooled one-sided z-test)."""
    if n_a == 0 or n_b == 0:
        return 1.0
    pooled = (passed_a + passed_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return 1.0
    return normal_sf((passed_a / n_a - passed_b / n_b) / se)


def ks_2samp(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """The KS statistic D and its asymptotic p-value (Numerical Recipes' series)."""
    if not a or not b:
        return 0.0, 1.0
    sa, sb = sorted(a), sorted(b)
    d = 0.0
    for x in sorted(set(sa) | set(sb)):
        fa = bisect.bisect_right(sa, x) / len(sa)
        fb = bisect.bisect_right(sb, x) / len(sb)
        d = max(d, abs(fa - fb))
    en = math.sqrt(len(sa) * len(sb) / (len(sa) + len(sb)))
    lam = (en + 0.12 + 0.11 / en) * d
    if lam < 1e-3:
        return d, 1.0
    total = sum(2 * (-1) ** (j - 1) * math.exp(-2 * j * j * lam * lam) for j in range(1, 101))
    return d, min(1.0, max(0.0, total))


def psi(baseline: Sequence[float], recent: Sequence[float], bins: int = 10) -> float:
    """Population stability index over the baseline's quantile bins (0.1: some shift,
    0.2 and more: a real one, by the usual rule of thumb)."""
    if not baseline or not recent:
        return 0.0
    sb = sorted(baseline)
    edges = sorted({sb[min(len(sb) - 1, int(len(sb) * i / bins))] for i in range(1, bins)})

    def shares(values: Sequence[float]) -> list[float]:
        counts = Counter(bisect.bisect_right(edges, v) for v in values)
        return [max(counts.get(i, 0) / len(values), 1e-4) for i in range(len(edges) + 1)]

    pa, pb = shares(baseline), shares(recent)
    return sum((b - a) * math.log(b / a) for a, b in zip(pa, pb, strict=True))


def total_variation(a: Counter[str], b: Counter[str]) -> float:
    na, nb = sum(a.values()), sum(b.values())
    if not na or not nb:
        return 0.0
    return 0.5 * sum(abs(a[k] / na - b[k] / nb) for k in set(a) | set(b))


def chi2_sf(x: float, dof: int) -> float:
    """Upper tail of chi-square (Wilson–Hilferty: within a few 0.1 % at the tails we use)."""
    if dof <= 0:
        return 1.0
    if x <= 0:
        return 1.0
    z = ((x / dof) ** (1 / 3) - (1 - 2 / (9 * dof))) / math.sqrt(2 / (9 * dof))
    return normal_sf(z)


def chi2_mix(a: Counter[str], b: Counter[str]) -> float:
    """p-value that two windows draw categories (languages) from the same mix."""
    cats = sorted(set(a) | set(b))
    na, nb = sum(a.values()), sum(b.values())
    if len(cats) < 2 or not na or not nb:
        return 1.0
    stat = 0.0
    for c in cats:
        total = a[c] + b[c]
        for observed, n in ((a[c], na), (b[c], nb)):
            expected = total * n / (na + nb)
            stat += (observed - expected) ** 2 / expected
    return chi2_sf(stat, len(cats) - 1)
