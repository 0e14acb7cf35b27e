"""Agreement between a judge and human labels: accuracy (Wilson interval), Cohen's kappa
(percentile bootstrap interval over the labelled items) and the confusion matrix.

Kappa corrects accuracy for the agreement two raters reach by chance given how often each says
"pass": a judge that passes everything agrees with humans on every passing item and has a
kappa of 0. Read with Landis & Koch's scale (below 0.2 slight, 0.2–0.4 fair, 0.4–0.6 moderate,
0.6–0.8 substantial, above 0.8 almost perfect).
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..stats import Interval, percentile, wilson

Pair = tuple[bool, bool]  # (human says pass, judge says pass)
LOW_KAPPA = 0.6  # under "substantial": the judge's verdicts should not be trusted alone


def cohen_kappa(pairs: Sequence[Pair]) -> float:
    """Cohen's kappa for two raters and two labels; NaN when chance agreement is total (both
    raters gave one and the same label to everything)."""
    n = len(pairs)
    if n == 0:
        return math.nan
    observed = sum(h == j for h, j in pairs) / n
    h_pass = sum(h for h, _ in pairs) / n
    j_pass = sum(j for _, j in pairs) / n
    chance = h_pass * j_pass + (1 - h_pass) * (1 - j_pass)
    if chance >= 1:
        return math.nan
    return (observed - chance) / (1 - chance)


def kappa_interval(
    pairs: Sequence[Pair], *, resamples: int = 2000, seed: int = 0, level: float = 0.95
) -> Interval:
    """Kappa with a percentile bootstrap interval (items resampled with replacement; samples
    where kappa is undefined are left out)."""
    k = cohen_kappa(pairs)
    if len(pairs) < 2 or math.isnan(k):
        return Interval(k, math.nan, math.nan)
    rng = random.Random(seed)
    n = len(pairs)
    values = []
    for _ in range(resamples):
        v = cohen_kappa([pairs[rng.randrange(n)] for _ in range(n)])
        if not math.isnan(v):
            values.append(v)
    values.sort()
    alpha = (1 - level) / 2
    return Interval(k, percentile(values, alpha), percentile(values, 1 - alpha))


def strength(kappa: float) -> str:
    """Landis & Koch (1977) words for a kappa."""
    if math.isnan(kappa):
        return "undefined"
    if kappa < 0:
        return "poor"
    for bound, word in ((0.2, "slight"), (0.4, "fair"), (0.6, "moderate")):
        if kappa <= bound:
            return word
    return "substantial" if kappa <= 0.8 else "almost perfect"


@dataclass(frozen=True)
class Agreement:
    n: int
    both_pass: int  # human pass, judge pass
    judge_fails_a_pass: int  # human pass, judge fail
    judge_passes_a_fail: int  # human fail, judge pass
    both_fail: int
    accuracy: Interval
    kappa: Interval

    @property
    def strength(self) -> str:
        return strength(self.kappa.estimate)

    @property
    def low(self) -> bool:
        return math.isnan(self.kappa.estimate) or self.kappa.estimate < LOW_KAPPA

    @property
    def fail_recall(self) -> float:
        """Of the outputs humans failed, the share the judge failed too."""
        failed = self.both_fail + self.judge_passes_a_fail
        return self.both_fail / failed if failed else math.nan

    @property
    def fail_precision(self) -> float:
        """Of the outputs the judge failed, the share humans failed too."""
        flagged = self.both_fail + self.judge_fails_a_pass
        return self.both_fail / flagged if flagged else math.nan

    def words(self) -> str:
        k = self.kappa
        ci = "" if math.isnan(k.low) else f" [{k.low:.2f}, {k.high:.2f}]"
        text = (
            f"accuracy {self.accuracy} on {self.n} labels, Cohen's kappa {k.estimate:.2f}{ci} "
            f"({self.strength})"
        )
        if self.both_pass + self.judge_passes_a_fail in (0, self.n):
            text += "; the judge gave the same verdict to every output"
        if self.low:
            text += (
                f" — LOW agreement (kappa under {LOW_KAPPA}): do not trust this judge's verdicts"
                " without a human look"
            )
        return text

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(
            strength=self.strength,
            low=self.low,
            fail_recall=self.fail_recall,
            fail_precision=self.fail_precision,
            confusion={
                "human pass": {"judge pass": self.both_pass, "judge fail": self.judge_fails_a_pass},
                "human fail": {
                    "judge pass": self.judge_passes_a_fail,
                    "judge fail": self.both_fail,
                },
            },
        )
        return d


def agreement(pairs: Sequence[Pair], *, seed: int = 0) -> Agreement:
    agree = sum(h == j for h, j in pairs)
    return Agreement(
        n=len(pairs),
        both_pass=sum(h and j for h, j in pairs),
        judge_fails_a_pass=sum(h and not j for h, j in pairs),
        judge_passes_a_fail=sum(j and not h for h, j in pairs),
        both_fail=sum(not h and not j for h, j in pairs),
        accuracy=wilson(agree, len(pairs)),
        kappa=kappa_interval(pairs, seed=seed),
    )


def ranking_auc(scores: Sequence[tuple[bool, float]]) -> float:
    """How well the judge's scores rank what people passed above what they failed, whatever
    the threshold: the chance a random passing output outscores a random failing one (ties
    count half). 0.5 is chance, 1.0 perfect."""
    good = [s for human, s in scores if human]
    bad = [s for human, s in scores if not human]
    if not good or not bad:
        return math.nan
    wins = sum((g > b) + 0.5 * (g == b) for g in good for b in bad)
    return wins / (len(good) * len(bad))


def best_threshold(scores: Sequence[tuple[bool, float]]) -> tuple[float, float] | None:
    """(threshold, kappa) that agrees best with people on these labels. Chosen on the same
    labels it is measured on, so optimistic: confirm it on other labels."""
    values = sorted({s for _, s in scores})
    if len(values) < 2:
        return None
    best: tuple[float, float] | None = None
    for lo, hi in itertools.pairwise(values):
        t = (lo + hi) / 2
        k = cohen_kappa([(h, s >= t) for h, s in scores])
        if not math.isnan(k) and (best is None or k > best[1]):
            best = (t, k)
    return best
