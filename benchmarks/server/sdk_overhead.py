"""The SDK's cost in the caller: a traced call and a cached `get_prompt` (issue 6).

    .venv/bin/python benchmarks/server/sdk_overhead.py            # against `prompteur serve`
    .venv/bin/python benchmarks/server/sdk_overhead.py --local    # no server: the local store
    .venv/bin/python benchmarks/server/sdk_overhead.py --json     # every figure as JSON

Setup: a fresh `prompteur init` project in a temporary folder, its sentiment prompt labelled
`staging`, a write key, and (unless --local) `prompteur serve` in a subprocess on a free
loopback port, so that the server does not share this process's GIL. The client is the real
`Client(url, api_key)`: its background worker really sends the traces while they are timed.

Measured in the same run, interleaved round by round (median over rounds, each round N calls;
the trace queue is flushed after each traced row, so each row pays for its own traces only):
- traced call: `with client.trace(handle, inputs) as t: t.output = "x"`, against the same
  loop with a bare `time.perf_counter()` pair (what any hand-written timing costs) and against
  an empty loop; the overhead is traced − bare pair. Also the decorator (`@client.traced`)
  against calling the same undecorated function.
- cached get_prompt: `client.get_prompt("sentiment", "staging")` on a warm cache against a
  plain dict lookup of the same key.
Per-call percentiles come from timing each call alone with perf_counter_ns (the timer's own
cost, measured as an empty timed block, is subtracted).

- traced call while the server is down (issue 21): the same loop with a second client whose
  server does not answer (a closed loopback port), so that every trace goes to the spool on
  disk, written by the worker while the caller is timed.

Goals: traced-call overhead ≤ 50 µs, with the server up and with it down (every trace spooled);
cached get_prompt ≤ 50 µs. Exit status 1 when a goal is missed, or when a trace was lost (the
worker must keep up: sent == traced calls; spooled == traced calls while the server is down).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _support import free_port

BIN = Path(sys.executable).parent


def _run(*args: str, cwd: Path) -> str:
    proc = subprocess.run(
        [str(BIN / "prompteur"), *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.exit(f"prompteur {' '.join(args)} failed:\n{proc.stderr}")
    return proc.stdout


def _wait_up(url: str, timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/openapi.json", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    sys.exit("the server did not start")


def _loop_time(body: Callable[[int], None], n: int) -> float:
    """Seconds per call of `body` run n times (one timer pair around the whole loop)."""
    t0 = time.perf_counter()
    body(n)
    return (time.perf_counter() - t0) / n


def _wait_spooled(client: Any, n: int, timeout: float = 60.0) -> None:
    """Until the worker has written `n` traces to the spool: the next row is not timed while
    it still writes this one's (the worker shares the GIL)."""
    deadline = time.monotonic() + timeout
    while client.stats().spooled + client.stats().dropped < n and time.monotonic() < deadline:
        time.sleep(0.01)


def _percentiles(samples: list[int]) -> dict[str, float]:
    samples = sorted(samples)
    pick = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]  # noqa: E731
    return {"p50_ns": pick(0.50), "p99_ns": pick(0.99), "p999_ns": pick(0.999)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--local", action="store_true", help="no server: traces into the store")
    ap.add_argument("--calls", type=int, default=20_000, help="calls per round")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    root = Path(tempfile.mkdtemp(prefix="sdk-bench-")) / "proj"
    _run("init", str(root), cwd=root.parent)
    _run("label", "set", "sentiment", "staging", "--reason", "bench", cwd=root)
    server = None
    os.chdir(root)
    from prompteur import Client

    if args.local:
        client = Client(project=root, max_queue=args.calls * 2)
        where = "local store (SQLite)"
    else:
        key = json.loads(_run("keys", "create", "--scopes", "write", "--json", cwd=root))["key"]
        port = free_port()
        server = subprocess.Popen(
            [str(BIN / "prompteur"), "serve", "--port", str(port), "--log-level", "warning"],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        _wait_up(url)
        client = Client(url, api_key=key, max_queue=args.calls * 2)
        where = "prompteur serve on loopback (SQLite store)"
    # The same client against a server that does not answer: every trace is spooled.
    spool = Path(tempfile.mkdtemp(prefix="sdk-bench-spool-"))
    down = Client(
        f"http://127.0.0.1:{free_port()}",
        api_key="unused",
        spool=spool,
        max_queue=args.calls * 2,
        spool_max_traces=args.calls * (args.rounds + 1),  # spooling only: no cap reached
    )
    try:
        return _bench(client, down, args, where)
    finally:
        client.close()
        down.close(0)
        if server is not None:
            server.terminate()
            server.wait(timeout=10)


def _bench(client: Any, down: Any, args: argparse.Namespace, where: str) -> int:
    from time import perf_counter

    handle = client.get_prompt("sentiment", "staging")
    inputs = {"review": "It broke on day one."}
    n = args.calls

    def empty(k: int) -> None:
        for _ in range(k):
            pass

    def bare_pair(k: int) -> None:
        for _ in range(k):
            t0 = perf_counter()
            out = "x"
            _ = perf_counter() - t0, out

    def traced(k: int) -> None:
        for _ in range(k):
            with client.trace(handle, inputs) as t:
                t.output = "x"

    def plain(review: str) -> str:
        return "negative"

    decorated = client.traced("sentiment", label="staging")(plain)

    def call_plain(k: int) -> None:
        for _ in range(k):
            plain("It broke on day one.")

    def call_decorated(k: int) -> None:
        for _ in range(k):
            decorated("It broke on day one.")

    lookup = {("sentiment", "staging", None): handle}

    def dict_get(k: int) -> None:
        for _ in range(k):
            lookup.get(("sentiment", "staging", None))

    def cached(k: int) -> None:
        for _ in range(k):
            client.get_prompt("sentiment", "staging")

    def traced_down(k: int) -> None:
        for _ in range(k):
            with down.trace(handle, inputs) as t:
                t.output = "x"

    bodies = {
        "empty loop": empty,
        "bare perf_counter pair": bare_pair,
        "traced call (with client.trace)": traced,
        "traced call, server down (spooled)": traced_down,
        "plain function call": call_plain,
        "traced function (@client.traced)": call_decorated,
        "dict lookup": dict_get,
        "cached get_prompt": cached,
    }
    rounds: dict[str, list[float]] = {k: [] for k in bodies}
    traced_calls = 0
    spooled_calls = 0
    for _ in range(args.rounds):
        for name, body in bodies.items():  # interleaved: drift hits every row alike
            rounds[name].append(_loop_time(body, n))
            if name == "traced call, server down (spooled)":
                spooled_calls += n
                _wait_spooled(down, spooled_calls)
            elif name.startswith("traced"):
                traced_calls += n
                # The worker's backlog is sent now, not while the next row is timed: a row
                # pays for its own traces (the worker shares the GIL), not for the previous'.
                client.flush(30)
    per_call = {k: statistics.median(v) * 1e6 for k, v in rounds.items()}  # µs

    # Per-call distribution: each call timed alone.
    def timed(fn: Callable[[], None], k: int) -> list[int]:
        ns = time.perf_counter_ns
        out = []
        for _ in range(k):
            t0 = ns()
            fn()
            out.append(ns() - t0)
        return out

    def one_trace() -> None:
        with client.trace(handle, inputs) as t:
            t.output = "x"

    floor = statistics.median(timed(lambda: None, n))
    dist_trace = [s - floor for s in timed(one_trace, n)]
    traced_calls += n
    client.flush(30)
    dist_cached = [s - floor for s in timed(lambda: client.get_prompt("sentiment", "staging"), n)]
    dist_dict = [s - floor for s in timed(lambda: lookup.get(("sentiment", "staging", None)), n)]
    flushed = client.flush(60)
    stats = client.stats()

    overhead_trace = (
        per_call["traced call (with client.trace)"] - per_call["bare perf_counter pair"]
    )
    overhead_down = (
        per_call["traced call, server down (spooled)"] - per_call["bare perf_counter pair"]
    )
    down_stats = down.stats()
    overhead_deco = per_call["traced function (@client.traced)"] - per_call["plain function call"]
    cached_cost = per_call["cached get_prompt"]
    result = {
        "where": where,
        "calls_per_round": n,
        "rounds": args.rounds,
        "per_call_us": {k: round(v, 3) for k, v in per_call.items()},
        "traced_overhead_us": round(overhead_trace, 3),
        "traced_overhead_server_down_us": round(overhead_down, 3),
        "decorator_overhead_us": round(overhead_deco, 3),
        "cached_get_prompt_us": round(cached_cost, 3),
        "cached_vs_dict": round(cached_cost / max(per_call["dict lookup"], 1e-9), 1),
        "single_call": {
            "trace": _percentiles(dist_trace),
            "cached_get_prompt": _percentiles(dist_cached),
            "dict_lookup": _percentiles(dist_dict),
            "timer_floor_ns": floor,
        },
        "traces": {
            "traced_calls": traced_calls,
            "sent": stats.sent,
            "dropped": stats.dropped,
            "failed": stats.failed,
            "flushed": flushed,
        },
        "server_down": {
            "traced_calls": spooled_calls,
            "spooled": down_stats.spooled,
            "dropped": down_stats.dropped,
            "failed": down_stats.failed,
            "dropped_by_cap": down_stats.dropped_by_cap,
        },
    }
    ok = (
        overhead_trace <= 50
        and overhead_down <= 50
        and overhead_deco <= 50
        and cached_cost <= 50
        and stats.sent == traced_calls
        and down_stats.spooled == spooled_calls
    )
    result["goals_met"] = ok
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"SDK overhead in the caller — {where}; {args.rounds} rounds × {n} calls\n")
        print("| loop body | µs per call (median of rounds) |")
        print("|---|---:|")
        for k, v in per_call.items():
            print(f"| {k} | {v:.3f} |")
        sc = result["single_call"]
        print()
        print(f"traced call overhead (traced − bare pair): {overhead_trace:.2f} µs (goal ≤ 50)")
        print(
            f"traced call overhead, server down, every trace spooled: {overhead_down:.2f} µs "
            "(goal ≤ 50)"
        )
        print(f"decorator overhead (traced − plain function): {overhead_deco:.2f} µs (goal ≤ 50)")
        print(
            f"cached get_prompt: {cached_cost:.3f} µs, {result['cached_vs_dict']}× a dict lookup"
            " (goal ≤ 50 µs)"
        )
        print(
            "one call alone, timer floor subtracted (p50 / p99 / p99.9, ns): "
            f"trace {sc['trace']['p50_ns']:.0f} / {sc['trace']['p99_ns']:.0f} / "
            f"{sc['trace']['p999_ns']:.0f}; "
            f"cached get_prompt {sc['cached_get_prompt']['p50_ns']:.0f} / "
            f"{sc['cached_get_prompt']['p99_ns']:.0f} / {sc['cached_get_prompt']['p999_ns']:.0f};"
            f" dict lookup {sc['dict_lookup']['p50_ns']:.0f} / {sc['dict_lookup']['p99_ns']:.0f}"
            f" / {sc['dict_lookup']['p999_ns']:.0f}"
        )
        t = result["traces"]
        print(
            f"traces: {t['traced_calls']} traced, {t['sent']} sent, {t['dropped']} dropped, "
            f"{t['failed']} failed (flushed: {t['flushed']})"
        )
        d = result["server_down"]
        print(
            f"server down: {d['traced_calls']} traced, {d['spooled']} spooled, {d['dropped']} "
            f"dropped, {d['failed']} failed, {d['dropped_by_cap']} dropped by the cap"
        )
        print("goals met" if ok else "GOAL MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
