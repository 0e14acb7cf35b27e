"""How fast the review page serves a 500-item queue, item after item.

Creates a throwaway project whose SQLite store holds a run of N results and a review queue of
all of them (a second reviewer has labelled every item already, so the queue's page computes
an agreement with its bootstrap interval), serves the app with uvicorn on loopback, and
reviews the whole queue as a person would, page by page: open the item's page, post its label
(the answer redirects to the next item). Prints the median and 95th percentile of each, the
item served end to end (page + label) against the 100 ms limit (its median: the p95 is
printed too, and says more about the machine's load than about the page), and the queue's
page.

    .venv/bin/python benchmarks/web/review_queue.py [--items 500]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from open_run import _records, _serve

LIMIT_MS = 100.0


def _quantiles(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return statistics.median(values), values[max(0, int(len(values) * 0.95) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500)
    args = parser.parse_args()

    from prompteur import review
    from prompteur.config import load_config
    from prompteur.runs import RunKind, start
    from prompteur.scaffold import init_project
    from prompteur.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "proj"
        init_project(root)
        store = Store(load_config(root).database_url)
        records = _records(args.items * 2)[: args.items]
        handle = start(store, RunKind.EVAL, "suites/sentiment.yaml", {}, len(records))
        with handle:
            store.write_results(handle.id, records)
        q = review.from_run(store, "bench", handle.id, score=review.DEFAULT)
        for position in range(1, args.items + 1):
            review.label(store, q, position, "bob", value=position % 3 != 0)
        print(f"queue of {args.items} items (one variant's results), SQLite, dev server")
        page_ms, label_ms, item_ms = [], [], []
        with _serve(root) as url, httpx.Client(base_url=url, timeout=60) as client:
            client.get("/ui/review/bench/1").raise_for_status()  # warm up
            same_origin = {"Origin": url}
            for position in range(1, args.items + 1):
                t0 = time.perf_counter()
                r = client.get(f"/ui/review/bench/{position}")
                r.raise_for_status()
                t1 = time.perf_counter()
                r = client.post(
                    f"/ui/review/bench/{position}",
                    data={"value": "pass" if position % 4 else "fail", "comment": ""},
                    headers=same_origin,
                )
                assert r.status_code == 303, (r.status_code, r.text[:300])
                t2 = time.perf_counter()
                page_ms.append((t1 - t0) * 1000)
                label_ms.append((t2 - t1) * 1000)
                item_ms.append((t2 - t0) * 1000)
            queue_ms = []
            for _ in range(5):  # the first loads numpy for the bootstrap
                t0 = time.perf_counter()
                client.get("/ui/review/bench").raise_for_status()
                queue_ms.append((time.perf_counter() - t0) * 1000)
        done = review.progress(store, review.queue(store, "bench"))
        store.close()
    assert done["done"] == args.items, done
    for label, values in (
        ("open the item's page", page_ms),
        ("post its label (redirect to the next)", label_ms),
        ("one item served end to end", item_ms),
    ):
        median, p95 = _quantiles(values)
        print(f"  {label + ':':<42} median {median:6.1f} ms   p95 {p95:6.1f} ms")
    median, p95 = _quantiles(item_ms)
    verdict = "under" if median < LIMIT_MS else "OVER"
    print(
        f"  limit {LIMIT_MS:.0f} ms per item served (page + label): median {median:.1f} ms, "
        f"{verdict} the limit (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    print(
        f"  the queue's page (progress, kappa and its bootstrap interval): first "
        f"{queue_ms[0]:.0f} ms, then median {statistics.median(queue_ms[1:]):.0f} ms"
    )
    return 0 if median < LIMIT_MS else 1


if __name__ == "__main__":
    sys.exit(main())
