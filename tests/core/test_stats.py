"""Statistics against values computed by hand or published tables."""

from __future__ import annotations

import math
import random

import pytest

from prompteur import stats


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (5, 10, 0.2366, 0.7634),
        (81, 263, 0.2553, 0.3662),
    ],
)
def test_wilson_matches_published_values(k: int, n: int, low: float, high: float) -> None:
    iv = stats.wilson(k, n)
    assert iv.estimate == pytest.approx(k / n)
    assert iv.low == pytest.approx(low, abs=5e-4) and iv.high == pytest.approx(high, abs=5e-4)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 20, 49, 100, 263, 1000, 12345])
def test_wilson_bounds_are_exact_at_the_edges(n: int) -> None:
    # Before the clamp, wilson(0, n).low came out as a rounding residue (5e-17 and the like).
    none, every = stats.wilson(0, n), stats.wilson(n, n)
    assert none.low == 0.0 and none.estimate == 0.0 and 0.0 < none.high < 1.0
    assert every.high == 1.0 and every.estimate == 1.0 and 0.0 < every.low < 1.0
    assert none.high == pytest.approx(1 - every.low)  # the two edges mirror each other
    for k in range(0, n + 1, max(1, n // 7)):
        iv = stats.wilson(k, n)
        assert 0.0 <= iv.low <= iv.estimate <= iv.high <= 1.0


def test_mcnemar_exact_by_hand() -> None:
    assert stats.mcnemar_exact(1, 9) == pytest.approx(2 * 11 / 1024)
    assert stats.mcnemar_exact(0, 5) == pytest.approx(0.0625)
    assert stats.mcnemar_exact(5, 5) == 1.0
    assert stats.mcnemar_exact(0, 0) == 1.0


def test_holm_adjustment() -> None:
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([0.5]) == [0.5]


def test_pass_hat_k_and_pass_at_k() -> None:
    cases = [(2, 4), (4, 4), (0, 4)]
    assert stats.pass_hat_k(cases, 2) == pytest.approx((1 / 6 + 1 + 0) / 3)
    assert stats.pass_hat_k(cases, 1) == pytest.approx(6 / 12)
    assert stats.pass_at_k([(1, 4)], 2) == pytest.approx(1 - math.comb(3, 2) / math.comb(4, 2))
    assert stats.flaky({"a": (2, 4), "b": (4, 4), "c": (0, 4)}) == ["a"]


def test_permutation_exact_and_monte_carlo() -> None:
    assert stats.permutation_paired([1, 1, 1, 1, 1]) == pytest.approx(2 / 32)
    assert stats.permutation_paired([1, -1, 1, -1]) == 1.0
    rng = random.Random(1)
    shifted = [rng.gauss(0.5, 1) for _ in range(60)]
    null = [rng.gauss(0, 1) for _ in range(60)]
    assert stats.permutation_paired(shifted, resamples=4000) < 0.01
    assert stats.permutation_paired(null, resamples=4000) > 0.05


def test_bootstrap_clusters_cases() -> None:
    # Ten cases, each repeated 5 times with identical results: the interval must reflect
    # ten independent cases, not fifty.
    values, clusters = [], []
    for case in range(10):
        v = 1.0 if case < 5 else 0.0
        values += [v] * 5
        clusters += [case] * 5
    clustered = stats.bootstrap_mean(values, clusters, seed=3)
    naive = stats.bootstrap_mean(values, seed=3)
    assert clustered.estimate == pytest.approx(0.5)
    assert (clustered.high - clustered.low) > 1.7 * (naive.high - naive.low)
    assert stats.bootstrap_mean([1.0] * 8).low == 1.0


def test_normal_quantile() -> None:
    assert stats._z(0.975) == pytest.approx(1.959964, abs=1e-6)
    assert stats._z(0.8) == pytest.approx(0.841621, abs=1e-6)
    assert stats._z(0.001) == pytest.approx(-3.090232, abs=1e-6)


def test_cases_needed_paired_connor() -> None:
    assert stats.cases_needed_paired(0.1, 0.2) == 155


def test_paired_comparison_in_words() -> None:
    pairs = [(False, True)] * 12 + [(True, False)] * 1 + [(True, True)] * 50 + [(False, False)] * 37
    result = stats.compare_paired("v1", "v2", pairs)
    assert result.only_b == 12 and result.only_a == 1
    assert result.rate_b - result.rate_a == pytest.approx(0.11)
    assert result.significant and "v2 is significantly better" in result.words()
    tie = stats.compare_paired("v1", "v2", [(True, False), (False, True)] * 5 + [(True, True)] * 20)
    assert not tie.significant
    assert "No significant difference" in tie.words() and "cases" in tie.words()


def test_holm_applied_across_many_comparisons() -> None:
    strong = [(False, True)] * 9 + [(True, True)] * 20
    weak = [(False, True)] * 5 + [(True, True)] * 20
    res = stats.compare_many({("a", "b"): strong, ("a", "c"): weak})
    assert res[0].p_adjusted == pytest.approx(2 * stats.mcnemar_exact(0, 9))
    assert res[1].p_adjusted == pytest.approx(max(res[0].p_adjusted, stats.mcnemar_exact(0, 5)))
    assert "Holm-adjusted" in res[1].words()


def test_paired_scores_use_permutation_and_bootstrap() -> None:
    pairs = [(True, True)] * 20
    scores = [(0.5, 0.8)] * 15 + [(0.6, 0.6)] * 5
    res = stats.compare_paired("a", "b", pairs, scores=scores)
    assert res.score_difference is not None and res.score_p_value is not None
    assert res.score_difference.estimate == pytest.approx(0.225)
    assert res.score_p_value < 0.001
    assert "Mean score difference +0.225" in res.words()
