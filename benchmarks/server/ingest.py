"""Trace ingestion: spans per second sustained through `POST /v1/traces` into SQLite and
PostgreSQL, against a floor measured in the same run.

    .venv/bin/python benchmarks/server/ingest.py [--spans 40000] [--batch 500] [--postgres URL]

The server is `prompteur serve` in its own process (one worker), on loopback, with a write key;
the client posts batches of `--batch` realistic traces (a review as input, an answer, latency,
tokens, cost, a little metadata) from `--clients` threads until `--spans` are stored. The floor
is a raw SQLAlchemy Core `executemany` of the same rows (already built, no HTTP, no validation,
no scrubbing) into an empty table of the same store: HTTP / floor is the share of the database's
own speed that the route keeps. PostgreSQL runs when `--postgres` (or PROMPTEUR_TEST_POSTGRES_URL)
names a server: a scratch database is created there and dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from _support import free_port, scratch_database

ROOT = Path(__file__).resolve().parents[2]


def make_traces(n: int, offset: int = 0) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    out = []
    for i in range(offset, offset + n):
        out.append(
            {
                "prompt": "sentiment",
                "version": "3f2a9c1b7d4e",
                "label": "production",
                "model": "openai:gpt-4o-mini",
                "inputs": {"review": f"The battery died after {i % 30} days and nobody answered."},
                "output": "negative",
                "latency_ms": 80.0 + i % 50,
                "tokens_in": 180,
                "tokens_out": 1,
                "cost": 0.000027,
                "started_at": (now - timedelta(seconds=i)).isoformat(),
                "trace_id": uuid.uuid4().hex,
                "span_id": uuid.uuid4().hex[:16],
                "metadata": {"user": f"u{i % 97}", "region": "eu"},
            }
        )
    return out


def start_server(project: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prompteur.cli",
            "serve",
            "--port",
            str(port),
            "--project",
            str(project),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/openapi.json", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(
        f"the server did not start: {proc.stderr.read().decode() if proc.stderr else ''}"
    )


def http_ingest(url: str, key: str, spans: int, batch: int, clients: int) -> float:
    bodies = [
        json.dumps({"traces": make_traces(batch, k * batch)}).encode()
        for k in range(spans // batch)
    ]
    lock = threading.Lock()
    errors: list[str] = []

    def worker() -> None:
        with httpx.Client(
            headers={"Authorization": f"Bearer {key}", "content-type": "application/json"},
            timeout=60,
        ) as client:
            while True:
                with lock:
                    if not bodies:
                        return
                    body = bodies.pop()
                r = client.post(f"{url}/v1/traces", content=body)
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.text[:200]}")
                    return

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise SystemExit(f"ingestion failed: {errors[0]}")
    return (spans // batch) * batch / elapsed


def floor_insert(store_url: str, spans: int, batch: int) -> float:
    """Raw Core executemany of the same rows into an empty copy of the traces table."""
    from prompteur.store.db import make_engine
    from prompteur.store.tables_traces import Trace

    engine = make_engine(store_url)
    meta = sa.MetaData()
    table = Trace.__table__.to_metadata(meta, name="traces_floor")
    for index in list(table.indexes):
        index.name = f"floor_{index.name}"
    for constraint in list(table.constraints):
        if constraint.name and not isinstance(constraint, sa.PrimaryKeyConstraint):
            constraint.name = f"floor_{constraint.name}"
    meta.drop_all(engine)
    meta.create_all(engine)
    now = datetime.now(UTC)
    rows = []
    for t in make_traces(spans):
        rows.append(
            {
                **{k: v for k, v in t.items() if k not in ("metadata", "started_at")},
                "meta": t["metadata"],
                "operation": None,
                "parent_span_id": None,
                "source": "api",
                "error": None,
                "flagged": False,
                "scores": None,
                "passed": None,
                "score": None,
                "scored_at": None,
                "started_at": now,
                "created_at": now,
            }
        )
    start = time.perf_counter()
    for k in range(0, len(rows) // batch * batch, batch):
        with engine.begin() as conn:
            conn.execute(table.insert(), rows[k : k + batch])
    elapsed = time.perf_counter() - start
    meta.drop_all(engine)
    engine.dispose()
    return (len(rows) // batch) * batch / elapsed


def run(label: str, store_url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    from prompteur.scaffold import init_project
    from prompteur.server.keys import create_key
    from prompteur.store import Store
    from prompteur.traces import iter_traces  # noqa: F401 - fails early if traces are missing

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "bench"
        init_project(project)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        url_for_store = store_url or f"sqlite:///{project / '.prompteur' / 'prompteur.db'}"
        env["PROMPTEUR_DATABASE_URL"] = url_for_store
        store = Store(url_for_store)
        key = create_key(store, "bench", ("write",), "bench").secret
        proc, url = start_server(project, env)
        try:
            http_ingest(url, key, min(args.spans, 2000), args.batch, args.clients)  # warm-up
            rate = http_ingest(url, key, args.spans, args.batch, args.clients)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        with store.engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT count(*) FROM traces")).scalar_one()
        store.close()
        floor = floor_insert(url_for_store, args.spans, args.batch)
    return {
        "store": label,
        "spans": args.spans,
        "batch": args.batch,
        "clients": args.clients,
        "http_spans_per_s": round(rate),
        "floor_spans_per_s": round(floor),
        "ratio": round(rate / floor, 3),
        "stored": stored,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, default=40_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--postgres", default=os.environ.get("PROMPTEUR_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    results = [run("sqlite", None, args)]
    if args.postgres:
        with scratch_database(args.postgres) as url:
            results.append(run("postgresql", url, args))
    for r in results:
        print(
            f"{r['store']:<10} batch {r['batch']:>5} × {r['clients']} clients: "
            f"{r['http_spans_per_s']:>7,} spans/s over HTTP, floor {r['floor_spans_per_s']:>7,} "
            f"spans/s (raw insert), ratio {r['ratio']:.2f}  [{r['stored']:,} stored]"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
