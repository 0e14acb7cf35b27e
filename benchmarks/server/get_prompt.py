"""`get_prompt` over HTTP on loopback, open-loop at a fixed rate: p50 / p99 on SQLite and
PostgreSQL, beside a bare FastAPI hello-world served the same way (the floor).

    .venv/bin/python benchmarks/server/get_prompt.py [--rate 500] [--seconds 10]
        [--postgres URL]   # default: $PROMPTEUR_TEST_POSTGRES_URL (scripts/postgres.sh)

Each target is a real `uvicorn` server process (one worker, like `prompteur serve`). The
client is one asyncio loop with httpx that starts request i at t0 + i / rate whatever the
previous ones did (open loop: a slow answer does not slow the load down), and a request's
latency runs from its scheduled start, so queueing behind a slow one is counted (no
coordinated omission). The route is `GET /v1/prompts/sentiment/versions/production` with a
read key: key check, label → version → content, the version's labels; every request goes
to the store (no cache on the server).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from _support import free_port, scratch_database

ROOT = Path(__file__).resolve().parents[2]
HELLO_APP = textwrap.dedent(
    """
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/hello")
    def hello() -> dict[str, str]:
        return {"hello": "world"}
    """
)


@dataclass
class Figures:
    target: str
    sent: int
    errors: int
    p50: float
    p90: float
    p99: float
    worst: float
    achieved_rate: float


def wait_ready(url: str, headers: dict[str, str], proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server for {url} exited with {proc.returncode}")
        try:
            if httpx.get(url, headers=headers, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


class Connections:
    """Keep-alive HTTP/1.1 connections to one server, reused one request at a time.

    Hand-written rather than httpx: on 2 shared cores httpx's ~1 ms of client CPU per request
    would be measured as server latency. The servers answer with Content-Length bodies.
    """

    def __init__(self, host: str, port: int, request: bytes) -> None:
        self.host, self.port, self.request = host, port, request
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def get(self) -> int:
        if self.idle:
            try:
                return await self._send(*self.idle.pop())
            except (asyncio.IncompleteReadError, ConnectionError):
                pass  # the server closed an idle keep-alive connection: any client retries
        return await self._send(*await asyncio.open_connection(self.host, self.port))

    async def _send(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
        writer.write(self.request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await reader.readexactly(length)
        self.idle.append((reader, writer))
        return status

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


async def load(url: str, headers: dict[str, str], rate: float, seconds: float) -> Figures:
    parsed = httpx.URL(url)
    lines = [f"GET {parsed.raw_path.decode()} HTTP/1.1", f"Host: {parsed.host}:{parsed.port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    conns = Connections(parsed.host, parsed.port or 80, ("\r\n".join(lines) + "\r\n\r\n").encode())
    n = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    for _ in range(50):  # warm-up: connections, server caches, SQLAlchemy statement cache
        await conns.get()
    # This process has imported prompteur (prepare_project): a full collection of its objects
    # took 35-65 ms here, a stall of the client that was measured as server latency.
    gc.collect()
    gc.freeze()

    async def one(at: float) -> None:
        nonlocal errors
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            ok = await asyncio.wait_for(conns.get(), 10) == 200
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            ok = False
        if ok:
            latencies.append(time.perf_counter() - at)
        else:
            errors += 1

    start = time.perf_counter() + 0.05
    tasks = [asyncio.create_task(one(start + i / rate)) for i in range(n)]
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    gc.unfreeze()
    conns.close()
    latencies.sort()
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return Figures(
        url, n, errors, q[49] * 1e3, q[89] * 1e3, q[98] * 1e3, latencies[-1] * 1e3, n / elapsed
    )


def prepare_project(folder: Path, store_url: str) -> str:
    """A project with the starter prompts stored and `production` set; returns a read key."""
    from prompteur import registry
    from prompteur.library import Library
    from prompteur.scaffold import init_project
    from prompteur.server.keys import create_key
    from prompteur.store import Store

    init_project(folder)
    store = Store(store_url)
    try:
        library = Library(folder / "prompts")
        for prompt in library.prompts():
            library.save(store, prompt)
        version = library.get("sentiment").version
        registry.move_label(
            store, "sentiment", "production", version, actor="bench", reason=None, evidence=None
        )
        return create_key(store, folder.name, ("read",), "bench").secret
    finally:
        store.close()


def serve_prompteur(folder: Path, store_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PROMPTEUR_DATABASE_URL": store_url}
    cmd = [sys.executable, "-m", "prompteur.cli", "serve", "--project", str(folder)]
    cmd += ["--port", str(port), "--log-level", "warning"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def serve_hello(folder: Path, port: int) -> subprocess.Popen[bytes]:
    (folder / "hello_app.py").write_text(HELLO_APP, encoding="utf-8")
    cmd = [sys.executable, "-m", "uvicorn", "hello_app:app", "--port", str(port)]
    cmd += ["--log-level", "warning", "--no-access-log"]
    return subprocess.Popen(cmd, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def measure(
    label: str, proc: subprocess.Popen[bytes], url: str, headers: dict[str, str], args: Any
) -> Figures:
    try:
        wait_ready(url, headers, proc)
        figures = asyncio.run(load(url, headers, args.rate, args.seconds))
        figures.target = label
        return figures
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=500.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    parser.add_argument("--postgres", default=os.environ.get("PROMPTEUR_TEST_POSTGRES_URL"))
    args = parser.parse_args()

    results: list[Figures] = []
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as scratch:
        base = Path(tmp)
        port = free_port()
        results.append(
            measure(
                "bare FastAPI hello-world (floor)",
                serve_hello(base, port),
                f"http://127.0.0.1:{port}/hello",
                {},
                args,
            )
        )
        stores = [("SQLite", f"sqlite:///{base / 'sqlite' / 'store.db'}")]
        if args.postgres:
            stores.append(("PostgreSQL", scratch.enter_context(scratch_database(args.postgres))))
        for kind, store_url in stores:
            folder = base / kind.lower() / "bench"
            secret = prepare_project(folder, store_url)
            port = free_port()
            results.append(
                measure(
                    f"get_prompt, {kind}",
                    serve_prompteur(folder, store_url, port),
                    f"http://127.0.0.1:{port}/v1/prompts/sentiment/versions/production",
                    {"Authorization": f"Bearer {secret}"},
                    args,
                )
            )

    print(
        f"open loop at {args.rate:.0f} req/s for {args.seconds:.0f} s per target; "
        f"nproc {os.cpu_count()}, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print("| target | requests | errors | achieved req/s | p50 ms | p90 ms | p99 ms | max ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for f in results:
        print(
            f"| {f.target} | {f.sent} | {f.errors} | {f.achieved_rate:.0f} | {f.p50:.2f} | "
            f"{f.p90:.2f} | {f.p99:.2f} | {f.worst:.1f} |"
        )


if __name__ == "__main__":
    main()
