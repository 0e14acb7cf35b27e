"""The review statistics against independent implementations: scikit-learn's
cohen_kappa_score and the krippendorff package (test-only oracles), and exact binomial tails
computed here from their definition."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from prompteur.review.agreement import (
    Preference,
    agreement,
    cohen_kappa,
    krippendorff_alpha,
    sign_test,
)


def _random_pairs(seed: int, n: int, labels: str, agree: float) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        a = rng.choice(labels)
        out.append((a, a if rng.random() < agree else rng.choice(labels)))
    return out


@pytest.mark.parametrize("seed", range(8))
def test_cohen_kappa_matches_scikit_learn(seed: int) -> None:
    pairs = _random_pairs(seed, 30 + seed * 17, "abc"[: 2 + seed % 2], 0.2 + seed / 10)
    a, b = zip(*pairs, strict=True)
    assert cohen_kappa(pairs) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)


def test_cohen_kappa_known_values() -> None:
    assert cohen_kappa([("p", "p"), ("f", "f")] * 5) == pytest.approx(1.0)
    # 20 items: 7 both yes, 3 yes/no, 2 no/yes, 8 both no → po = .75, pe = .5 → kappa = .5
    pairs = [("y", "y")] * 7 + [("y", "n")] * 3 + [("n", "y")] * 2 + [("n", "n")] * 8
    assert cohen_kappa(pairs) == pytest.approx(0.5)
    assert math.isnan(cohen_kappa([("p", "p")] * 4))  # no chance disagreement: undefined


def _matrix(units: list[list[object]], raters: int) -> np.ndarray:
    """Reliability data (raters × units) with nan for a missing label."""
    m = np.full((raters, len(units)), np.nan)
    for j, labels in enumerate(units):
        for i, v in enumerate(labels):
            m[i, j] = v
    return m


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("level", ["nominal", "interval"])
def test_krippendorff_alpha_matches_the_reference_package(seed: int, level: str) -> None:
    rng = random.Random(seed)
    raters = 3 + seed % 3
    units = []
    for _ in range(40):
        truth = rng.randint(1, 5)
        count = rng.randint(1, raters)  # missing labels: fewer reviewers on some items
        units.append([truth if rng.random() < 0.6 else rng.randint(1, 5) for _ in range(count)])
    expected = krippendorff.alpha(
        reliability_data=_matrix(units, raters), level_of_measurement=level
    )
    assert krippendorff_alpha(units, level) == pytest.approx(expected, abs=1e-9)


def test_krippendorff_alpha_textbook_example() -> None:
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the 4 observers ×
    # 12 units example: nominal alpha = 0.743.
    data = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    units = [[row[j] for row in data if row[j] is not None] for j in range(12)]
    assert krippendorff_alpha(units, "nominal") == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha(units, "interval") == pytest.approx(0.849, abs=5e-4)


def test_agreement_picks_kappa_for_two_and_alpha_for_more_with_intervals() -> None:
    pairs = _random_pairs(1, 80, "pf", 0.8)
    two = agreement({i: {"ann": a, "bob": b} for i, (a, b) in enumerate(pairs)})
    assert two.method == "cohen_kappa" and two.items == 80 and two.reviewers == 2
    assert two.low < two.value < two.high
    three = agreement({i: {"ann": a, "bob": b, "cy": a} for i, (a, b) in enumerate(pairs)})
    assert three.method == "krippendorff_alpha" and three.reviewers == 3
    assert three.low < three.value < three.high
    again = agreement({i: {"ann": a, "bob": b} for i, (a, b) in enumerate(pairs)})
    assert (again.low, again.high) == (two.low, two.high)  # seeded: the same interval
    assert "Cohen's kappa" in two.words() and "relecteurs" in two.words("fr")
    ci = f"[{two.low:.2f}–{two.high:.2f}]"
    assert two.words() == f"Cohen's kappa = {two.value:.2f} {ci} over 80 items, 2 reviewers"
    assert two.words("fr") == (
        f"Cohen's kappa = {two.value:.2f} {ci} sur 80 éléments, 2 relecteurs".replace(".", ",")
    )
    lone = agreement({1: {"ann": "p", "bob": "p"}})
    assert lone.words() == "Cohen's kappa: undefined (1 item)"
    assert lone.words("fr") == "Cohen's kappa\u00a0: indéfini (1 élément)"


def _exact_two_sided(k: int, n: int) -> Fraction:
    """Sum of the probabilities of every outcome no more likely than k (Binomial(n, 1/2))."""
    pk = Fraction(math.comb(n, k), 2**n)
    return (
        sum(
            (
                Fraction(math.comb(n, i), 2**n)
                for i in range(n + 1)
                if math.comb(n, i) <= math.comb(n, k)
            ),
            Fraction(0),
        )
        if pk
        else Fraction(1)
    )


@pytest.mark.parametrize(("wins", "losses"), [(9, 1), (10, 0), (5, 5), (64, 36), (7, 3), (0, 3)])
def test_sign_test_is_the_exact_binomial_tail(wins: int, losses: int) -> None:
    assert sign_test(wins, losses) == pytest.approx(
        float(min(Fraction(1), _exact_two_sided(wins, wins + losses))), rel=1e-12
    )


def test_sign_test_known_values() -> None:
    assert sign_test(9, 1) == pytest.approx(22 / 1024)  # 2 × (1 + 10) / 2^10
    assert sign_test(10, 0) == pytest.approx(2 / 1024)
    assert sign_test(5, 5) == 1.0 and sign_test(0, 0) == 1.0


def test_the_preference_sentence() -> None:
    pref = Preference("v1", "v2", a_wins=36, b_wins=64, ties=12)
    r = pref.rate("b")
    assert r.estimate == pytest.approx(0.64)
    p = sign_test(64, 36)
    assert 0.005 < p < 0.01
    assert pref.words() == (
        f"v2 is preferred in 64% of cases [{r.low * 100:.0f}–{r.high * 100:.0f}], "
        f"p = {p:.3f} (12 ties left out)"
    )
    # French through the catalogue, typeset: a narrow no-break space before %, decimal comma.
    assert pref.words("fr") == (
        f"v2 est préféré dans 64\u202f% des cas [54–73], p = {p:.3f} (12 égalités à part)"
    ).replace(".", ",")
    assert Preference("x", "y", 1, 4, 1).words().endswith("(1 tie left out)")
    assert Preference("x", "y", 1, 4, 1).words("fr").endswith("(1 égalité à part)")
    assert (
        Preference("x", "y", 5, 5, 0)
        .words("fr")
        .startswith("Ni l'un ni l'autre n'est préféré\u00a0: 50\u202f% des cas")
    )
    assert (
        Preference("x", "y", 8, 2, 0).words() == "x is preferred in 80% of cases [49–94], p = 0.11"
    )
    assert Preference("x", "y", 0, 0, 3).words() == "No preference expressed yet."
    assert Preference("x", "y", 5, 5, 0).words().startswith("Neither is preferred")


def test_the_pattern_bootstrap_draws_the_same_intervals_as_the_item_bootstrap() -> None:
    from prompteur.review.agreement import _bootstrap, alpha_interval, kappa_interval

    pairs = _random_pairs(3, 200, "abc", 0.7)
    fast = kappa_interval(pairs, seed=1)
    slow = _bootstrap(pairs, cohen_kappa, seed=1)
    assert fast == pytest.approx(slow, abs=0.03)
    assert fast[0] < cohen_kappa(pairs) < fast[1]
    rng = random.Random(5)
    units = [[rng.randint(1, 4) for _ in range(rng.randint(2, 4))] for _ in range(150)]
    for level in ("nominal", "interval"):
        fast = alpha_interval(units, level, seed=2)  # type: ignore[arg-type]
        slow = _bootstrap(units, lambda u, lv=level: krippendorff_alpha(u, lv), seed=2)
        assert fast == pytest.approx(slow, abs=0.04)
