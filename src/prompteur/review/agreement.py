"""How far people agree, and which of two variants they prefer.

Agreement: Cohen's kappa for two reviewers, Krippendorff's alpha for any number (missing
labels allowed; nominal or interval distance), each with a bootstrap interval that resamples
the items. Preference: the win rate among decided pairs with its Wilson interval, and the
exact two-sided sign test (ties left out), said in one sentence.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .. import i18n
from ..stats import Interval, percentile, wilson

Level = Literal["nominal", "interval"]
RESAMPLES = 2000

# The preference sentence, English keys of the i18n catalogue.
PREFERRED = "{name} is preferred in {pct} of cases {ci}, {p}{ties}"
NEITHER = "Neither is preferred: {pct} of cases {ci}, {p}{ties}"
NO_PREFERENCE = "No preference expressed yet."
TIES = "({ties} left out)"
TIE = (("tie", "ties"), ("égalité", "égalités"))
AGREEMENT = "{name} = {value} over {items}, {reviewers}"
AGREEMENT_UNDEFINED = "{name}: undefined ({items})"
ITEM = (("item", "items"), ("élément", "éléments"))
REVIEWER = (("reviewer", "reviewers"), ("relecteur", "relecteurs"))


def cohen_kappa(pairs: Sequence[tuple[Hashable, Hashable]]) -> float:
    """Cohen's kappa of two reviewers' labels on the same items (nan when chance agreement
    is total: every label the same)."""
    n = len(pairs)
    if n == 0:
        return math.nan
    observed = sum(1 for a, b in pairs if a == b) / n
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    expected = sum(first[c] * second[c] for c in first) / (n * n)
    if expected >= 1:
        return math.nan
    return (observed - expected) / (1 - expected)


def _delta(level: Level) -> Callable[[Any, Any], float]:
    if level == "interval":
        return lambda a, b: (float(a) - float(b)) ** 2
    return lambda a, b: 0.0 if a == b else 1.0


def krippendorff_alpha(units: Sequence[Sequence[Any]], level: Level = "nominal") -> float:
    """Krippendorff's alpha over units (items), each the list of the labels it received
    (any number of reviewers; a unit with fewer than two labels is not pairable and
    ignored). nan when there is no disagreement to expect (a single value overall)."""
    delta = _delta(level)
    pooled: Counter[Any] = Counter()
    observed = 0.0
    for labels in units:
        m = len(labels)
        if m < 2:
            continue
        counts = Counter(labels)
        pooled.update(counts)
        within = sum(
            ca * cb * delta(a, b) for a, ca in counts.items() for b, cb in counts.items() if a != b
        )
        observed += within / (m - 1)
    n = sum(pooled.values())
    if n < 2:
        return math.nan
    expected = sum(
        ca * cb * delta(a, b) for a, ca in pooled.items() for b, cb in pooled.items() if a != b
    )
    if expected == 0:
        return math.nan
    return 1.0 - (n - 1) * observed / expected


def _bootstrap(
    items: Sequence[Any], statistic: Callable[[Sequence[Any]], float], *, seed: int
) -> tuple[float, float]:
    """Percentile interval (95 %) of `statistic` over items resampled with replacement;
    resamples where it is undefined are dropped. The plain loop: numpy's absence only."""
    if len(items) < 2:
        return math.nan, math.nan
    rng = random.Random(seed)
    n = len(items)
    values = []
    for _ in range(RESAMPLES):
        value = statistic([items[rng.randrange(n)] for _ in range(n)])
        if value == value:
            values.append(value)
    return _interval(values)


def _interval(values: Sequence[float]) -> tuple[float, float]:
    if len(values) < RESAMPLES // 2:
        return math.nan, math.nan
    ordered = sorted(values)
    return percentile(ordered, 0.025), percentile(ordered, 0.975)


def _pattern_draws(weights: Sequence[int], seed: int) -> Any:
    """RESAMPLES bootstrap resamples as counts per pattern (a multinomial draw of all the
    items over their patterns), or None without numpy. Items with the same labels are
    interchangeable, so this is the same distribution as drawing items one by one, at a
    cost that does not grow with the number of items (a 500-item queue's page: 3 s → ms)."""
    try:
        import numpy as np
    except ImportError:
        return None
    total = sum(weights)
    p = np.asarray(weights, dtype=float) / total
    return np.random.default_rng(seed).multinomial(total, p, size=RESAMPLES)


def _finite(values: Any) -> list[float]:
    return [float(v) for v in values if v == v and abs(v) != math.inf]


def kappa_interval(
    pairs: Sequence[tuple[Hashable, Hashable]], *, seed: int = 0
) -> tuple[float, float]:
    """95 % bootstrap interval of Cohen's kappa, resampling items."""
    if len(pairs) < 2:
        return math.nan, math.nan
    patterns = Counter(pairs)
    keys = list(patterns)
    counts = _pattern_draws([patterns[k] for k in keys], seed)
    if counts is None:
        return _bootstrap(pairs, cohen_kappa, seed=seed)
    import numpy as np

    labels = {x: i for i, x in enumerate(dict.fromkeys(x for k in keys for x in k))}
    first = np.zeros((len(keys), len(labels)))
    second = np.zeros((len(keys), len(labels)))
    for row, (a, b) in enumerate(keys):
        first[row, labels[a]] = 1
        second[row, labels[b]] = 1
    n = len(pairs)
    observed = counts @ np.array([float(a == b) for a, b in keys]) / n
    chance = ((counts @ first) * (counts @ second)).sum(axis=1) / (n * n)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappas = np.where(chance < 1, (observed - chance) / (1 - chance), np.nan)
    return _interval(_finite(kappas))


def alpha_interval(
    units: Sequence[Sequence[Any]], level: Level = "nominal", *, seed: int = 0
) -> tuple[float, float]:
    """95 % bootstrap interval of Krippendorff's alpha, resampling units (items)."""
    pairable = [list(u) for u in units if len(u) >= 2]
    if len(pairable) < 2:
        return math.nan, math.nan
    patterns = Counter(tuple(sorted(u, key=repr)) for u in pairable)
    keys = list(patterns)
    counts = _pattern_draws([patterns[k] for k in keys], seed)
    if counts is None:
        return _bootstrap(pairable, lambda u: krippendorff_alpha(u, level), seed=seed)
    import numpy as np

    delta = _delta(level)
    values = list(dict.fromkeys(v for k in keys for v in k))
    index = {v: i for i, v in enumerate(values)}
    within = np.zeros(len(keys))
    pooled = np.zeros((len(keys), len(values)))
    for row, labels in enumerate(keys):
        c = Counter(labels)
        for v, n in c.items():
            pooled[row, index[v]] = n
        within[row] = sum(
            ca * cb * delta(a, b) for a, ca in c.items() for b, cb in c.items() if a != b
        ) / (len(labels) - 1)
    distance = np.array([[delta(a, b) if a != b else 0.0 for b in values] for a in values])
    totals = counts @ pooled
    observed = counts @ within
    expected = np.einsum("rk,kl,rl->r", totals, distance, totals)
    n = totals.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        alphas = np.where(expected > 0, 1.0 - (n - 1) * observed / expected, np.nan)
    return _interval(_finite(alphas))


@dataclass(frozen=True)
class AgreementFigure:
    """One agreement coefficient over a queue's items: which, its value and interval, on how
    many items and reviewers."""

    method: str  # "cohen_kappa" or "krippendorff_alpha"
    value: float
    low: float
    high: float
    items: int
    reviewers: int
    level: Level = "nominal"

    def to_dict(self) -> dict[str, Any]:
        def finite(x: float) -> float | None:
            return x if x == x else None

        return {
            "method": self.method,
            "level": self.level,
            "value": finite(self.value),
            "low": finite(self.low),
            "high": finite(self.high),
            "items": self.items,
            "reviewers": self.reviewers,
        }

    def words(self, lang: str = "en") -> str:
        """ "Cohen's kappa = 0.57 [-0.20–1.00] over 6 items, 2 reviewers", in `lang` through
        the i18n catalogue (French: decimal commas, "6 éléments, 2 relecteurs")."""
        fr = lang == "fr"
        values = {
            "name": "Cohen's kappa" if self.method == "cohen_kappa" else "Krippendorff's alpha",
            "items": i18n.plural(self.items, *ITEM[fr], lang=lang),
            "reviewers": i18n.plural(self.reviewers, *REVIEWER[fr], lang=lang),
        }
        if self.value != self.value:
            text = AGREEMENT_UNDEFINED
        else:
            text = AGREEMENT
            ci = "" if self.low != self.low else f" [{self.low:.2f}–{self.high:.2f}]"
            value = f"{self.value:.2f}{ci}"
            values["value"] = value.replace(".", ",") if fr else value
        return i18n.typography(i18n.fill(i18n.template(text, lang), lang, values), lang)


def agreement(
    labels: Mapping[Hashable, Mapping[str, Any]], level: Level = "nominal", *, seed: int = 0
) -> AgreementFigure:
    """Agreement over items labelled by several reviewers: `labels[item][reviewer] = value`.
    Two reviewers → Cohen's kappa on the items both labelled (nominal; with an interval
    level, alpha is used, kappa being for categories); more → Krippendorff's alpha."""
    reviewers = sorted({r for by in labels.values() for r in by})
    if len(reviewers) == 2 and level == "nominal":
        a, b = reviewers
        pairs = [(by[a], by[b]) for by in labels.values() if a in by and b in by]
        low, high = kappa_interval(pairs, seed=seed)
        return AgreementFigure("cohen_kappa", cohen_kappa(pairs), low, high, len(pairs), 2)
    units = [list(by.values()) for by in labels.values() if len(by) >= 2]
    low, high = alpha_interval(units, level, seed=seed)
    return AgreementFigure(
        "krippendorff_alpha",
        krippendorff_alpha(units, level),
        low,
        high,
        len(units),
        len(reviewers),
        level,
    )


def sign_test(wins: int, losses: int) -> float:
    """Exact two-sided sign test (binomial, p = 1/2) of `wins` against `losses`, ties
    already left out: the probability of a split at least this uneven."""
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


@dataclass(frozen=True)
class Preference:
    """Blind pairwise votes of variant `a` against variant `b`."""

    a: str
    b: str
    a_wins: int
    b_wins: int
    ties: int

    @property
    def decided(self) -> int:
        return self.a_wins + self.b_wins

    @property
    def p(self) -> float:
        return sign_test(self.b_wins, self.a_wins)

    def rate(self, side: str) -> Interval:
        """The share of decided pairs won by `side` ("a" or "b"), with its Wilson interval."""
        return wilson(self.b_wins if side == "b" else self.a_wins, self.decided)

    @property
    def preferred(self) -> str | None:
        if self.a_wins == self.b_wins:
            return None
        return "b" if self.b_wins > self.a_wins else "a"

    def words(self, lang: str = "en") -> str:
        """ "B is preferred in 64% of cases [55–72], p = 0.003" (French: "B est préféré dans
        64 % des cas [55–72], p = 0,003", typeset by prompteur.i18n); ties are counted
        apart. The one sentence the terminal, the review pages, the run page and the HTML
        report show."""
        if self.decided == 0:
            return i18n.translate(NO_PREFERENCE, lang)
        side = self.preferred or "b"
        r = self.rate(side)
        p = self.p
        values = {
            "name": self.b if side == "b" else self.a,
            "pct": i18n.pct(r.estimate, lang, digits=0),
            "ci": f"[{r.low * 100:.0f}–{r.high * 100:.0f}]",
            "p": "p < " + i18n.number(0.001, lang)
            if p < 0.001
            else "p = " + i18n.number(p, lang, ".3f" if p < 0.01 else ".2f"),
            "ties": "",
        }
        if self.ties:
            tied = i18n.plural(self.ties, *TIE[lang == "fr"], lang=lang)
            values["ties"] = " " + i18n.fill(i18n.template(TIES, lang), lang, {"ties": tied})
        text = PREFERRED if self.preferred else NEITHER
        return i18n.typography(i18n.fill(i18n.template(text, lang), lang, values), lang)

    def to_dict(self) -> dict[str, Any]:
        def rate(side: str) -> dict[str, float] | None:
            if not self.decided:
                return None
            r = self.rate(side)
            return {"rate": r.estimate, "low": r.low, "high": r.high}

        return {
            "a": self.a,
            "b": self.b,
            "a_wins": self.a_wins,
            "b_wins": self.b_wins,
            "ties": self.ties,
            "a_rate": rate("a"),
            "b_rate": rate("b"),
            "p": self.p,
            "preferred": {"a": self.a, "b": self.b}.get(self.preferred or ""),
            "sentence": self.words("en"),
            "sentence_fr": self.words("fr"),
        }
