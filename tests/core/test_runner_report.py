"""Reports over large runs: summaries and comparisons in one pass over a stream of results
(the same figures as over a list), a bounded memory while reading a run back from the store,
and the bootstrap's fast path agreeing with its plain one."""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path

import pytest
from test_report import rec

from prompteur import report, stats
from prompteur.runner import ResultRecord
from prompteur.store import Store
from prompteur.store.db import ResultRows


def mixed(n: int, seed: int = 0) -> list[ResultRecord]:
    rng = random.Random(seed)
    out = []
    for c in range(n):
        for version in ("aaaa", "bbbb"):
            for repeat in range(2):
                passed = rng.random() < (0.6 if version == "aaaa" else 0.7)
                r = rec(version, c, passed, repeat=repeat)
                if not passed and rng.random() < 0.2:
                    r.error = "ServerError: boom"
                    r.score = None if rng.random() < 0.5 else 0.0
                r.score = rng.choice([None, 0.0, 0.25, 0.5, 1.0]) if not passed else r.score
                r.cost = None if rng.random() < 0.01 else r.cost
                r.cached = rng.random() < 0.1
                out.append(r)
    return out


def reference_worst(records: list[ResultRecord], k: int) -> list[tuple[str, int]]:
    """The worst failures as the report picked them before it streamed: a stable sort."""
    failing = sorted(
        (r for r in records if r.passed is False),
        key=lambda r: (r.error is None, r.score if r.score is not None else -1),
    )
    return [(r.case_id, r.repeat) for r in failing[:k]]


def test_one_pass_over_a_stream_gives_the_same_summary_and_comparison() -> None:
    records = mixed(300)
    from_list = report.summarise(records, worst=7)
    from_stream = report.summarise(iter(records), worst=7)
    assert from_list == from_stream
    for s in from_stream:
        mine = [r for r in records if r.version == s.version]
        assert [(w["case_id"], w["repeat"]) for w in s.worst] == reference_worst(mine, 7)
    assert report.paired(iter(records)) == report.paired(records)
    (cmp,) = report.paired(iter(records))
    assert cmp.cases == 300


def test_a_large_run_is_summarised_from_the_store_in_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ResultRows, "KEEP", 1000)  # smaller runs are kept for a second pass
    store = Store(f"sqlite:///{tmp_path / 'p.db'}")
    run_id = store.new_run("s", {}, 0)
    n = 10_000
    batch: list[ResultRecord] = []
    for c in range(n):
        batch.append(rec("aaaa", c, c % 3 != 0))
        if len(batch) == 2000:
            store.write_results(run_id, batch)
            batch = []
    rows = store.results(run_id)

    tracemalloc.start()
    streamed = report.summarise(rows, worst=3)
    compared = report.paired(rows)
    _, streamed_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    tracemalloc.start()
    held = list(rows)
    _, held_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    (s,) = streamed
    assert s.results == n and s.passed == n - len(range(0, n, 3)) and compared == []
    assert report.summarise(held, worst=3) == streamed
    kept = store.results(run_id)
    monkeypatch.setattr(ResultRows, "KEEP", n)
    assert [r.key for r in kept] == [r.key for r in kept] == [r.key for r in held]
    assert kept._kept is not None and len(kept) == n  # the second pass read no row
    # Streaming keeps a few counters per case (~0.5 KB), not every record (~1.5 KB here,
    # more with real inputs and outputs) — and the first few thousand rows at a time.
    assert streamed_peak < held_peak / 2, (streamed_peak, held_peak)
    store.close()


def test_bootstrap_fast_path_agrees_with_the_plain_one() -> None:
    rng = random.Random(5)
    k = 500  # k × resamples decides the path: 200,000 is the last plain one
    for values in (
        [float(rng.random() < 0.3) for _ in range(k)],  # few distinct patterns: multinomial
        [rng.random() for _ in range(k)],  # many: resampled indices
    ):
        clusters = list(range(k))
        plain = stats.bootstrap_mean(values, clusters, resamples=400)
        fast = stats.bootstrap_mean(values, clusters, resamples=4000)
        assert plain.estimate == fast.estimate
        width = plain.high - plain.low
        assert abs(plain.low - fast.low) < 0.2 * width
        assert abs(plain.high - fast.high) < 0.2 * width
        assert fast == stats.bootstrap_mean(values, clusters, resamples=4000)  # seeded
