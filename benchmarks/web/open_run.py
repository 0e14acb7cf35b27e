"""How long the web interface takes to open a run of 10,000 results.

Creates a throwaway project whose SQLite store holds one run of N results (two variants ×
N/2 cases, with outputs, inputs and checks like a real eval writes), serves the app with
uvicorn on loopback, and times the run page over HTTP (first page of the matrix, the summary
with intervals and the paired comparison), with and without filters — next to the time it
takes just to read the run's rows from the store (`list(store.results(run))`), the floor any
page that loaded every result would pay.

    .venv/bin/python benchmarks/web/open_run.py [--results 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from prompteur.runner import ResultRecord


def _records(n: int) -> list[ResultRecord]:
    out = []
    cases = n // 2
    for variant, version in (("A", "a" * 64), ("B", "b" * 64)):
        for i in range(cases):
            passed = (i * 7 + (variant == "B")) % 5 != 0
            out.append(
                ResultRecord(
                    prompt="sentiment",
                    version=version,
                    model="local",
                    case_id=f"case-{i:05d}",
                    repeat=0,
                    inputs={"review": f"Review number {i}: it arrived late but works well."},
                    expected="positive",
                    output="positive" if passed else "negative",
                    passed=passed,
                    score=float(passed),
                    checks=[
                        {
                            "name": "equals",
                            "passed": passed,
                            "score": float(passed),
                            "reason": "" if passed else "expected 'positive', got 'negative'",
                        }
                    ],
                    latency_s=0.06,
                    input_tokens=80,
                    output_tokens=1,
                    cost=0.0,
                )
            )
    return out


@contextlib.contextmanager
def _serve(root: Path) -> Iterator[str]:
    import uvicorn

    from prompteur.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app([root], dev=True), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from prompteur.config import load_config
    from prompteur.scaffold import init_project
    from prompteur.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "proj"
        init_project(root)
        store = Store(load_config(root).database_url)
        run_id = store.new_run("suites/sentiment.yaml", {"prompts": []}, args.results)
        records = _records(args.results)
        for i in range(0, len(records), 2000):
            store.write_results(run_id, records[i : i + 2000])
        store.set_run_status(run_id, "done")
        read = _time(lambda: list(store.results(run_id)), args.repeat)
        print(f"run of {len(records)} results ({args.results // 2} cases × 2 variants), SQLite")
        print(f"  read every row from the store (list(store.results)): {read * 1000:7.0f} ms")
        with _serve(root) as url, httpx.Client(base_url=url, timeout=60) as client:
            pages = {
                "open the run page (summary, comparison, matrix page 1)": f"/ui/runs/{run_id}",
                "filter: failures": f"/ui/runs/{run_id}?show=failures",
                "filter: changed between variants": f"/ui/runs/{run_id}?show=changed",
                "text search": f"/ui/runs/{run_id}?q=number%204242",
                "last page": f"/ui/runs/{run_id}?page=100",
            }
            client.get(pages["filter: failures"]).raise_for_status()  # warm up
            for label, path in pages.items():

                def fetch(path: str = path) -> None:
                    response = client.get(path)
                    response.raise_for_status()

                took = _time(fetch, args.repeat)
                print(f"  {label + ':':<55} {took * 1000:7.0f} ms")
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
