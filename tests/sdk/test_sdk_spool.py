"""The SDK's trace spool: traces survive a server outage, a closed client, a second process,
and the careless or hostile edges (unwritable folder, full disk, corrupt file, a refused trace,
a clock that jumps). The chaos test kills `prompteur serve` twice (kill -9) while two
processes record 10,000 traces, on SQLite and on PostgreSQL: every trace is stored once.

Servers are real: the stub app of test_sdk.py (a knob per failure) or the real app, on
loopback; application processes are real subprocesses."""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from helpers_sdk import Loopback
from test_sdk import KEY, StubState, dead_url, make_app, stub_server
from test_sdk_server import serve_project

from prompteur.errors import UserError
from prompteur.sdk import Client, ClientStats, find_spools

BIN = Path(sys.executable).parent
FAST = {"backoff": 0.02, "backoff_max": 0.2, "linger": 0.02}


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"


@pytest.fixture
def stub() -> Iterator[tuple[StubState, str]]:
    with stub_server() as served:
        yield served


def record(client: Client, n: int, start: int = 0, **extra: Any) -> None:
    for i in range(start, start + n):
        with client.trace("greet", {"i": i}, metadata={"seq": i, **extra}) as t:
            t.output = f"out {i}"


def seqs(traces: list[dict[str, Any]]) -> list[int]:
    return [t["metadata"]["seq"] for t in traces]


def left_behind(url: str, spool_dir: Path, n: int, key: str | None = KEY) -> Client:
    """A client that recorded `n` traces while its server failed, closed: its traces are
    left in the spool."""
    client = Client(url, api_key=key, spool=spool_dir, **FAST)
    record(client, n)
    client.close(0.2)
    return client


def spooled(client: Client, n: int, timeout: float = 60.0) -> ClientStats:
    """The stats once the worker has written `n` traces to the spool: what an outage leaves,
    however slow the machine is."""
    deadline = time.monotonic() + timeout
    while client.stats().spooled < n and time.monotonic() < deadline:
        time.sleep(0.01)
    return client.stats()


# ---- outages: spooled, then delivered in order -----------------------------------------------


def test_an_outage_is_spooled_and_delivered_in_order(stub, away, spool_dir, caplog) -> None:
    state, url = stub
    state.fail = True  # 503 everywhere
    caplog.set_level(logging.WARNING, "prompteur.sdk")
    with Client(url, api_key=KEY, spool=spool_dir, **FAST) as client:
        record(client, 50)
        s = spooled(client, 50)
        assert not client.flush(0.3)  # nothing can be delivered yet
        assert (s.sent, s.spooled, s.spool_pending, s.dropped, s.failed) == (0, 50, 50, 0, 0)
        assert "HTTP 503" in (s.last_error or "")
        assert "spooling traces to" in caplog.text
        record(client, 25, start=50)  # recorded during the outage: behind the spooled ones
        state.fail = False
        assert client.flush(10)
        s = client.stats()
    assert seqs(state.traces) == list(range(75))
    assert (s.sent, s.from_spool, s.spool_pending, s.dropped, s.failed) == (75, 75, 0, 0, 0)
    assert s.spooled == 75
    # Back to sending directly: the next traces do not touch the spool.
    (info,) = find_spools(spool_dir)
    assert info.traces == 0 and info.target == url


def test_retry_after_and_backoff_spread_the_attempts(away, spool_dir) -> None:
    state = StubState()
    hits: list[float] = []
    app = make_app(state)

    @app.middleware("http")
    async def busy(request: Request, call_next: Any) -> Any:
        if request.url.path == "/v1/traces" and len(hits) < 3:
            hits.append(time.monotonic())
            return JSONResponse({"detail": "busy"}, status_code=503, headers={"Retry-After": "1"})
        return await call_next(request)

    with Loopback(app) as server, Client(server.url, spool=spool_dir, **FAST) as client:
        record(client, 5)
        assert client.flush(15)
    assert seqs(state.traces) == list(range(5))
    gaps = [b - a for a, b in itertools.pairwise(hits)]
    # The server asked for 1 s: honoured although the client's own backoff is 0.02 s.
    assert len(gaps) == 2 and all(g >= 0.95 for g in gaps), gaps


def test_close_leaves_the_spool_to_the_next_process(stub, away, spool_dir) -> None:
    state, url = stub
    state.fail = True
    client = Client(url, api_key=KEY, spool=spool_dir, **FAST)
    record(client, 30)
    started = time.monotonic()
    assert client.close(0.3) is False  # the deadline passed: nothing was delivered
    assert time.monotonic() - started < 5
    s = client.stats()
    assert (s.spooled, s.dropped, s.failed, s.sent) == (30, 0, 0, 0)
    state.fail = False
    # Another process with the same server, key and folder delivers them as it starts, before
    # recording anything itself.
    code = (
        "import json, sys; from prompteur import Client\n"
        f"c = Client({url!r}, api_key={KEY!r}, spool={str(spool_dir)!r})\n"
        "ok = c.close(20); print(json.dumps(c.stats().to_dict())); sys.exit(0 if ok else 1)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    assert (stats["from_spool"], stats["spool_pending"]) == (30, 0)
    assert seqs(state.traces) == list(range(30))


def test_a_spool_made_with_another_key_is_not_sent_with_this_one(stub, away, spool_dir) -> None:
    state, url = stub
    state.fail = True
    left_behind(url, spool_dir, 3)
    state.fail = False
    with Client(url, api_key="pk_other_project_key", spool=spool_dir, **FAST) as other:
        record(other, 2, start=100)
        assert other.flush(5)
    assert seqs(state.traces) == [100, 101]  # the first key's traces wait for their key
    (theirs,) = [s for s in find_spools(spool_dir) if s.traces]
    assert theirs.traces == 3
    # Named explicitly (a key that was replaced), the file is delivered with the new key.
    with Client(url, api_key="pk_other_project_key", spool=theirs.path, **FAST) as again:
        assert again.flush(5)
        assert again.stats().from_spool == 3
    assert sorted(seqs(state.traces)) == [0, 1, 2, 100, 101]


def test_secrets_never_reach_the_disk(stub, away, spool_dir) -> None:
    state, url = stub
    state.fail = True
    secret = "sk-" + "a1B2" * 8
    client = Client(url, api_key=KEY, spool=spool_dir, **FAST)
    with client.trace(
        "greet", {"who": f"key {secret}"}, metadata={"api_key": "hunter2", "seq": 0}
    ) as t:
        t.output = f"echo {secret}"
    client.close(0.3)
    assert client.stats().spooled == 1
    files = [p for p in spool_dir.iterdir() if p.is_file()]
    on_disk = b"".join(p.read_bytes() for p in files)
    assert b"greet" in on_disk
    for text in (secret, "hunter2", KEY):
        assert text.encode() not in on_disk
    if os.name == "posix":  # the application's data: for its user only
        assert spool_dir.stat().st_mode & 0o077 == 0
        assert all(p.stat().st_mode & 0o077 == 0 for p in files), [
            (p.name, oct(p.stat().st_mode)) for p in files
        ]
    state.fail = False
    with Client(url, api_key=KEY, spool=spool_dir, **FAST) as again:
        assert again.flush(10)
    (sent,) = state.traces
    assert sent["metadata"]["api_key"] == "[redacted]" and secret not in json.dumps(sent)


# ---- bounds ---------------------------------------------------------------------------------


def test_caps_drop_the_oldest_first_and_count_them(stub, away, spool_dir, caplog) -> None:
    state, url = stub
    state.fail = True
    caplog.set_level(logging.WARNING, "prompteur.sdk")
    client = Client(url, spool=spool_dir, spool_max_traces=10, batch_size=5, **FAST)
    record(client, 25)
    s = spooled(client, 25)
    assert (s.spooled, s.dropped_by_cap, s.spool_pending) == (25, 15, 10)
    assert "dropped by the spool's cap" in caplog.text
    assert "of its cap" in caplog.text  # the growth warning, before anything was dropped
    state.fail = False
    assert client.flush(10)
    client.close()
    assert seqs(state.traces) == list(range(15, 25))  # the newest ten, in order
    info = find_spools(spool_dir)[0]
    assert (info.traces, info.dropped) == (0, 15)


def test_the_byte_cap_holds_and_a_trace_bigger_than_it_is_counted(stub, away, spool_dir) -> None:
    state, url = stub
    state.fail = True
    client = Client(url, spool=spool_dir, spool_max_bytes=2000, batch_size=1, **FAST)
    record(client, 20)  # each ~300 bytes
    with client.trace("greet", {"big": "x" * 5000}, metadata={"seq": 99}):
        pass
    s = spooled(client, 21)
    info = find_spools(spool_dir)[0]
    assert info.bytes <= 2000 and info.traces == s.spool_pending > 0
    assert s.spooled == 21 and s.dropped_by_cap == 21 - info.traces
    state.fail = False
    assert client.flush(10)
    client.close()
    assert seqs(state.traces) == list(range(20 - info.traces, 20))  # the big one: dropped


def test_a_growth_warning_is_given_once_past_the_threshold(stub, away, spool_dir, caplog) -> None:
    state, url = stub
    state.fail = True
    caplog.set_level(logging.WARNING, "prompteur.sdk")
    client = Client(url, spool=spool_dir, spool_max_traces=100, batch_size=10, **FAST)
    record(client, 40)
    spooled(client, 40)
    assert "of its cap" not in caplog.text  # 40 %: below the threshold (50 %)
    record(client, 30, start=40)
    spooled(client, 70)
    warned = [r for r in caplog.records if "of its cap" in r.getMessage()]
    assert len(warned) == 1 and "holds 50 traces" in warned[0].getMessage()
    client.close(0)


# ---- several processes --------------------------------------------------------------------

APP = """
import json, sys, time
from prompteur import Client
url, key, spool, proc, n, rate = sys.argv[1:7]
n, rate = int(n), float(rate)
client = Client(url, api_key=key, spool=spool, backoff=0.05, backoff_max=0.5, timeout=2.0,
                linger=0.05, flush_at_exit=0)
print("ready", flush=True)
sys.stdin.readline()  # both processes start recording together
start = time.perf_counter()
for i in range(n):
    if i % 10 == 0:
        wait = start + i / rate - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
    with client.trace("sentiment", {"i": i}, metadata={"proc": proc, "seq": i}) as t:
        t.output = "ok"
recorded = time.perf_counter() - start
done = client.close(180)
print(json.dumps({**client.stats().to_dict(), "closed": done, "recorded_s": recorded}))
"""


def ready(server: Any) -> Any:
    assert server.stdout.readline().strip() == "ready"
    return server


def go(server: Any) -> None:
    server.stdin.write("go\n")
    server.stdin.flush()


def start_apps(url: str, key: str, spool: Path, n: int, rate: float) -> list[Any]:
    """Processes "a" and "b", each recording `n` traces at `rate` per second, started
    together once both are ready."""
    apps = [
        subprocess.Popen(
            [sys.executable, "-c", APP, url, key, str(spool), name, str(n), str(rate)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for p in apps:
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
    for p in apps:
        go(p)
    return apps


def finish_app(p: Any) -> dict[str, Any]:
    out, err = p.communicate(timeout=240)
    assert p.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_two_processes_sharing_a_spool_deliver_each_trace_once(stub, away, spool_dir) -> None:
    state, url = stub
    state.fail = True
    apps = start_apps(url, KEY, spool_dir, 600, 2000)
    time.sleep(0.8)  # both are spooling
    state.fail = False
    stats = [finish_app(p) for p in apps]
    got = Counter((t["metadata"]["proc"], t["metadata"]["seq"]) for t in state.traces)
    # The stub keeps every request: a trace sent twice would show here (no server dedup).
    assert len(got) == 1200 and max(got.values()) == 1
    for name in ("a", "b"):
        mine = [t["metadata"]["seq"] for t in state.traces if t["metadata"]["proc"] == name]
        assert mine == sorted(mine)  # each process's traces arrive in the order recorded
    assert sum(s["spooled"] for s in stats) > 0
    assert sum(s["dropped"] + s["failed"] + s["dropped_by_cap"] for s in stats) == 0
    assert all(s["spool_pending"] == 0 and s["closed"] for s in stats)


# ---- refusals -----------------------------------------------------------------------------


def refusing_app(state: StubState, bad: str = "poison") -> FastAPI:
    """The stub, refusing a batch (422, as the real server does) when any trace in it has
    the input `bad`."""
    app = make_app(state)

    @app.middleware("http")
    async def refuse(request: Request, call_next: Any) -> Any:
        if request.url.path == "/v1/traces" and not state.fail:
            body = await request.body()
            if bad.encode() in body:
                return JSONResponse({"detail": "invalid trace"}, status_code=422)
        return await call_next(request)

    return app


@pytest.mark.parametrize("outage", [False, True], ids=["direct", "from-the-spool"])
def test_a_refused_trace_is_isolated_counted_and_never_blocks(
    away, spool_dir, outage: bool
) -> None:
    state = StubState()
    state.fail = outage
    with Loopback(refusing_app(state)) as server:
        client = Client(server.url, spool=spool_dir, batch_size=50, **FAST)
        for i in range(40):
            inputs = {"poison": True} if i in (7, 30) else {"i": i}
            with client.trace("greet", inputs, metadata={"seq": i}):
                pass
        if outage:
            assert spooled(client, 40).spool_pending == 40
            state.fail = False
        assert client.flush(10)
        s = client.stats()
        client.close()
    assert seqs(state.traces) == [i for i in range(40) if i not in (7, 30)]
    assert (s.sent, s.failed, s.spool_pending) == (38, 2, 0)
    assert "refused by the server: HTTP 422" in (s.last_error or "")


def test_a_wrong_url_or_a_refused_key_keeps_the_traces(away, spool_dir) -> None:
    state = StubState()
    app = make_app(state)
    answer = {"status": 404}

    @app.middleware("http")
    async def refuse(request: Request, call_next: Any) -> Any:
        if answer["status"]:
            return JSONResponse({"detail": "no"}, status_code=answer["status"])
        return await call_next(request)

    with Loopback(app) as server, Client(server.url, spool=spool_dir, **FAST) as client:
        record(client, 5)
        s = spooled(client, 5)
        assert s.spool_pending == 5 and s.failed == 0
        assert "HTTP 404" in (client.stats().last_error or "")
        answer["status"] = 401
        record(client, 5, start=5)
        assert spooled(client, 10).spool_pending == 10
        assert not client.flush(0.5)
        assert "refused the API key" in (client.stats().last_error or "")
        answer["status"] = 0  # the setup is fixed
        assert client.flush(10)
    assert seqs(state.traces) == list(range(10))


# ---- the disk -----------------------------------------------------------------------------


def test_an_unwritable_spool_folder(away, tmp_path: Path, monkeypatch, caplog) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    # Named by the application: said at once.
    with pytest.raises(UserError) as info:
        Client(dead_url(), spool=blocker / "spool")
    assert info.value.field == "spool"
    # The default folder (the environment's): the client starts; losses are counted, logged.
    monkeypatch.setenv("PROMPTEUR_SPOOL_DIR", str(blocker / "spool"))
    caplog.set_level(logging.WARNING, "prompteur.sdk")
    client = Client(dead_url(), retries=1, backoff=0.01)
    record(client, 10)
    assert client.flush(10)
    s = client.stats()
    client.close()
    assert (s.sent, s.spooled, s.failed) == (0, 0, 10)
    assert "the trace spool cannot be used" in caplog.text
    assert "lost so far" in caplog.text


FULL_DISK = """
import json, resource, signal, sys, time
from prompteur import Client
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG)
client = Client(sys.argv[1], spool=sys.argv[2], batch_size=50, retries=0, backoff=0.01)
with client.trace("greet", {"i": -1}):
    pass
while client.stats().spooled < 1:  # the spool exists, small
    time.sleep(0.01)
resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))
for i in range(3000):
    with client.trace("greet", {"i": i, "pad": "x" * 200}):
        pass
client.flush(5)
client.close(0.2)
print(json.dumps(client.stats().to_dict()))
"""


def test_a_full_disk_is_counted_never_silent(away, spool_dir) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", FULL_DISK, dead_url(), str(spool_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout)
    assert s["spooled"] < 3001 and s["failed"] > 0  # the disk filled up
    assert s["spooled"] + s["failed"] + s["dropped"] + s["dropped_by_cap"] == 3001
    assert "the trace spool cannot be used" in proc.stderr
    assert "Traceback" not in proc.stderr
    (info,) = [s for s in find_spools(spool_dir) if not s.corrupt]
    assert info.traces == s["spooled"]  # what was counted as spooled is really there


def test_a_corrupt_spool_file_is_set_aside_and_reported(stub, away, spool_dir, caplog) -> None:
    state, url = stub
    state.fail = True
    path = left_behind(url, spool_dir, 3, key=None).spool.path  # type: ignore[union-attr]
    for extra in ("-wal", "-shm"):
        Path(str(path) + extra).unlink(missing_ok=True)
    path.write_bytes(b"\x00garbage" * 512)
    (listed,) = find_spools(spool_dir)
    assert listed.corrupt and listed.error  # inspecting changes nothing
    caplog.set_level(logging.WARNING, "prompteur.sdk")
    state.fail = False
    with Client(url, spool=spool_dir, **FAST) as client:
        record(client, 2, start=10)
        assert client.flush(5)
        s = client.stats()
    assert seqs(state.traces) == [10, 11]
    assert "is corrupt" in caplog.text and "moved to" in caplog.text
    assert "spool was corrupt" in (s.last_error or "")
    kept = [i for i in find_spools(spool_dir) if i.corrupt]
    assert len(kept) == 1 and kept[0].path.read_bytes().startswith(b"\x00garbage")


def test_a_corrupt_row_is_refused_alone(served_real, away, spool_dir) -> None:
    url, key, store = served_real
    with Client(url, api_key=key, spool=spool_dir, **FAST) as client:
        path = client.spool.path  # type: ignore[union-attr]
    rows = [
        json.dumps({"prompt": "greet", "trace_id": f"{i:032x}", "span_id": f"{i:016x}"})
        for i in range(4)
    ]
    rows.insert(2, '{"prompt": "greet", "latency_ms": -5, "trac')  # cut mid-write, or edited
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS traces (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "payload TEXT NOT NULL, size INTEGER NOT NULL, created_at REAL NOT NULL)"
    )
    conn.executemany(
        "INSERT INTO traces (payload, size, created_at) VALUES (?, ?, 0)",
        [(r, len(r)) for r in rows],
    )
    conn.commit()
    conn.close()
    with Client(url, api_key=key, spool=spool_dir, **FAST) as client:
        assert client.flush(10)
        s = client.stats()
    assert (s.from_spool, s.failed) == (4, 1)
    assert stored_ids(store) == [f"{i:032x}" for i in range(4)]


# ---- clocks -------------------------------------------------------------------------------


def test_clock_jumps_change_nothing(stub, away, spool_dir, monkeypatch) -> None:
    """Wall-clock jumps (NTP, a VM resumed) neither reorder, drop nor stall the spool: order is
    the row id, waits are on the monotonic clock, the drain lock is the OS's."""
    import prompteur.sdk._spool as spool_module

    state, url = stub
    state.fail = True
    real = time.time
    jumps = iter([-86_400.0 * 365, 0.0, 86_400.0 * 30, -3600.0] * 1000)

    class Jumpy:
        def __getattr__(self, name: str) -> Any:
            return getattr(time, name)

        @staticmethod
        def time() -> float:
            return real() + next(jumps)

    monkeypatch.setattr(spool_module, "time", Jumpy())
    with Client(url, spool=spool_dir, batch_size=3, **FAST) as client:
        record(client, 12)
        assert spooled(client, 12).spool_pending == 12
        state.fail = False
        assert client.flush(10)
    assert seqs(state.traces) == list(range(12))


# ---- the server: deduplication and 503 ----------------------------------------------------


def trace_rows(n: int, offset: int = 0) -> list[Any]:
    from prompteur.traces import TraceIn

    return [
        TraceIn(prompt="p", trace_id=f"{i + offset:032x}", span_id=f"{i:016x}", inputs={"i": i})
        for i in range(n)
    ]


def test_the_store_keeps_one_row_per_span_under_concurrent_inserts(store) -> None:
    """Two requests inserting the same spans at the same time (a batch retried while the first
    try is still running), in opposite orders: each span is stored once, nothing fails."""
    from sqlalchemy import func, select

    from prompteur.store.tables_traces import Trace
    from prompteur.traces import record as store_traces

    errors: list[BaseException] = []

    def insert(barrier: threading.Barrier, rows: list[Any]) -> None:
        barrier.wait()
        try:
            store_traces(store, rows)
        except BaseException as exc:
            errors.append(exc)

    for round_ in range(5):
        batch = trace_rows(300, offset=round_ * 1000)
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(target=insert, args=(barrier, batch)),
            threading.Thread(target=insert, args=(barrier, list(reversed(batch)))),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
    with store.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(Trace)).scalar()
        distinct = conn.execute(
            select(func.count()).select_from(
                select(Trace.trace_id, Trace.span_id).distinct().subquery()
            )
        ).scalar()
    assert total == distinct == 1500


def stored_ids(store: Any) -> list[str]:
    from prompteur.traces import iter_traces

    return [t.trace_id for t in iter_traces(store)]


@pytest.fixture
def served_real(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str, Any]]:
    """The real app on loopback (SQLite store), with a write key."""
    from prompteur.app import create_app
    from prompteur.server.keys import create_key
    from prompteur.server.projects import open_project

    monkeypatch.delenv("PROMPTEUR_URL", raising=False)
    opened = open_project(project)
    key = create_key(opened.store, opened.name, ("write",), "spool-test").secret
    with Loopback(create_app([opened])) as server:
        yield server.url, key, opened.store


def test_the_same_batch_posted_twice_at_once_is_stored_once(served_real) -> None:
    url, key, store = served_real
    body = {
        "traces": [
            {"prompt": "p", "trace_id": f"{i:032x}", "span_id": f"{i:016x}"} for i in range(200)
        ]
    }
    headers = {"Authorization": f"Bearer {key}"}
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def post() -> None:
        barrier.wait()
        codes.append(httpx.post(f"{url}/v1/traces", json=body, headers=headers).status_code)

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200, 200]
    assert sorted(stored_ids(store)) == [f"{i:032x}" for i in range(200)]


def quick_busy_timeout(store: Any) -> None:
    """SQLite waits 30 s for a lock; a test need not."""
    from sqlalchemy import event

    def pragma(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=200")

    event.listen(store.engine, "connect", pragma)
    store.engine.dispose()


@contextlib.contextmanager
def sqlite_write_locked(store: Any) -> Iterator[None]:
    """Another process holds the store's write lock: readers go on, writers fail."""
    path = store.engine.url.database
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def test_a_store_that_cannot_write_answers_503_with_retry_after(
    served_real, away, spool_dir
) -> None:
    url, key, store = served_real
    quick_busy_timeout(store)
    headers = {"Authorization": f"Bearer {key}"}
    one = {"traces": [{"prompt": "p", "trace_id": "f" * 32, "span_id": "e" * 16}]}
    assert httpx.post(f"{url}/v1/traces", json=one, headers=headers).status_code == 200
    with sqlite_write_locked(store):
        r = httpx.post(f"{url}/v1/traces", json=one, headers=headers)
        assert r.status_code == 503 and r.headers["retry-after"] == "2"
        assert "unavailable" in r.json()["detail"] and "sqlite" not in r.text.lower()
        otlp = httpx.post(f"{url}/otlp/v1/traces", json=otlp_body(), headers=headers)
        assert otlp.status_code == 503 and otlp.headers["retry-after"] == "2"
        with Client(url, api_key=key, spool=spool_dir, **FAST) as client:
            record(client, 5)
            assert spooled(client, 5).spool_pending == 5
    # The store is back: the spool is delivered (within the 2 s the server asked to wait).
    with Client(url, api_key=key, spool=spool_dir, **FAST) as client:
        assert client.flush(15)
        assert client.stats().from_spool == 5
    assert len(stored_ids(store)) == 6


@pytest.mark.postgres
def test_a_postgresql_store_that_is_down_answers_503_then_gets_the_spool(
    project: Path, away, spool_dir, fresh_postgres: str, postgres_url: str, monkeypatch
) -> None:
    import sqlalchemy as sa

    from prompteur.app import create_app
    from prompteur.server.keys import create_key
    from prompteur.server.projects import open_project

    monkeypatch.setenv("PROMPTEUR_DATABASE_URL", fresh_postgres)
    opened = open_project(project)
    key = create_key(opened.store, opened.name, ("write",), "pg").secret
    name = sa.make_url(fresh_postgres).database
    admin = sa.create_engine(
        sa.make_url(postgres_url).set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
        poolclass=sa.NullPool,
    )

    def database(up: bool) -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(up).lower()}')
            if not up:  # the server's pooled connections die with it
                conn.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                )

    headers = {"Authorization": f"Bearer {key}"}
    one = {"traces": [{"prompt": "p", "trace_id": "f" * 32, "span_id": "e" * 16}]}
    try:
        with (
            Loopback(create_app([opened])) as server,
            Client(server.url, api_key=key, spool=spool_dir, **FAST) as client,
        ):
            assert httpx.post(f"{server.url}/v1/traces", json=one, headers=headers).is_success
            database(up=False)
            r = httpx.post(f"{server.url}/v1/traces", json=one, headers=headers)
            assert r.status_code == 503 and r.headers["retry-after"] == "2"
            time.sleep(1.1)  # the key cache has expired: the key lookup itself cannot run
            r = httpx.post(f"{server.url}/v1/traces", json=one, headers=headers)
            assert r.status_code == 503 and "psycopg" not in r.text and name not in r.text
            record(client, 5)
            assert spooled(client, 5).spool_pending == 5
            database(up=True)
            assert client.flush(20)
            assert client.stats().from_spool == 5
    finally:
        database(up=True)
        admin.dispose()
    assert len(stored_ids(opened.store)) == 6
    opened.store.close()


def test_an_otel_exporter_rides_out_a_store_outage(served_real) -> None:
    """OTLP/HTTP exporters retry 503 (not 500) and honour Retry-After: a short store outage
    costs them nothing."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    url, key, store = served_real
    quick_busy_timeout(store)
    exporter = OTLPSpanExporter(
        endpoint=f"{url}/otlp/v1/traces", headers={"Authorization": f"Bearer {key}"}, timeout=20
    )
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("t")
    with sqlite_write_locked(store):
        done = threading.Event()

        def export() -> None:
            with tracer.start_as_current_span("chat m") as span:
                span.set_attribute("gen_ai.operation.name", "chat")
                span.set_attribute("gen_ai.request.model", "otel-model")
            done.set()

        worker = threading.Thread(target=export)
        worker.start()
        time.sleep(1.0)  # the first attempt got 503 + Retry-After: 2
        assert not done.is_set()
    worker.join(30)
    provider.shutdown()
    from prompteur.traces import iter_traces

    assert [t.model for t in iter_traces(store)] == ["otel-model"]


def otlp_body() -> dict[str, Any]:
    return {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "ab" * 16,
                                "spanId": "cd" * 8,
                                "name": "chat m",
                                "startTimeUnixNano": "1700000000000000000",
                                "endTimeUnixNano": "1700000001000000000",
                                "attributes": [
                                    {
                                        "key": "gen_ai.operation.name",
                                        "value": {"stringValue": "chat"},
                                    },
                                    {
                                        "key": "gen_ai.request.model",
                                        "value": {"stringValue": "m"},
                                    },
                                ],
                            }
                        ]
                    }
                ]
            }
        ]
    }


def test_the_gateway_returns_its_trace_when_the_store_cannot_write(
    project: Path, away, spool_dir
) -> None:
    """The model answered but the store could not record the call: the answer still comes
    back, with the trace, and the SDK delivers that trace once the store is back."""
    from prompteur.traces import iter_traces

    with (
        serve_project(project) as served,
        Client(served.url, api_key=served.key, spool=spool_dir, **FAST) as client,
    ):
        quick_busy_timeout(served.store)
        client.get_prompt("sentiment")  # the key is checked (and cached) before the lock
        with sqlite_write_locked(served.store):
            done = client.complete("sentiment", {"review": "Great value."})
            assert done.output and done.trace_id
            assert done.raw["trace"]["trace_id"] == done.trace_id
            assert spooled(client, 1).spool_pending == 1
        assert client.flush(15)
    (row,) = list(iter_traces(served.store))
    assert row.trace_id == done.trace_id and row.source == "gateway"
    assert row.inputs == {"review": "Great value."} and row.output == done.output


# ---- the command line ---------------------------------------------------------------------


def prompteur(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Any:
    return subprocess.run(
        [str(BIN / "prompteur"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=120,
    )


def test_the_spool_command_shows_drains_and_clears(stub, away, spool_dir) -> None:
    state, url = stub
    state.fail = True
    left_behind(url, spool_dir, 7)
    env = {"PROMPTEUR_URL": url, "PROMPTEUR_API_KEY": KEY}
    shown = prompteur("traces", "spool", "--dir", str(spool_dir), "--json")
    assert shown.returncode == 0, shown.stderr
    (one,) = json.loads(shown.stdout)["spools"]
    assert (one["traces"], one["target"], one["corrupt"]) == (7, url, False)
    assert KEY not in shown.stdout
    listed = prompteur("traces", "spool", "--dir", str(spool_dir))
    assert f"traces go to {url}: 7 waiting" in listed.stdout
    stuck = prompteur(
        "traces", "spool", "drain", "--dir", str(spool_dir), "--timeout", "0.5", env=env
    )
    assert stuck.returncode == 1 and "7 left" in stuck.stdout and "503" in stuck.stdout
    state.fail = False
    drained = prompteur("traces", "spool", "drain", "--dir", str(spool_dir), env=env)
    assert drained.returncode == 0, drained.stderr
    assert "delivered 7 traces from the spool; 0 left" in drained.stdout
    assert seqs(state.traces) == list(range(7))
    # clear: refused without --yes, then deletes and says how many.
    state.fail = True
    left_behind(url, spool_dir, 4)
    refused = prompteur("traces", "spool", "clear", "--dir", str(spool_dir), env=env)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    cleared = prompteur("traces", "spool", "clear", "--dir", str(spool_dir), "--yes", env=env)
    assert cleared.returncode == 0 and "deleted 4 spooled traces" in cleared.stdout
    assert find_spools(spool_dir)[0].traces == 0


# ---- chaos: kill -9 the server twice while two processes record 10,000 traces ------------


def wait_up(url: str, timeout: float = 120.0) -> None:
    """Until the server answers (a 401 will do: the first /openapi.json builds the schema)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            httpx.get(url + "/v1/traces", timeout=1.0)
            return
        time.sleep(0.02)
    raise AssertionError("the server did not start")


# What `prompteur serve` runs (create_app over the project, then uvicorn), made ready ahead:
# a restart then costs a server start, not Python imports and store checks on a busy machine
# (30 s here under load, when the CLI did both after the kill).
WARM_SERVE = """
import sys
import uvicorn
from prompteur.app import create_app
app = create_app(["."])
config = uvicorn.Config(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="error",
                        access_log=False)
config.load()
server = uvicorn.Server(config)
print("ready", flush=True)
sys.stdin.readline()
server.run()
"""


def warm_server(port: int, cwd: Path, env: dict[str, str]) -> Any:
    return subprocess.Popen(
        [sys.executable, "-c", WARM_SERVE, str(port)],
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_chaos_two_processes_two_kills_every_trace_stored_once(
    project: Path, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    from helpers_http import free_port

    from prompteur.store import Store
    from prompteur.traces import iter_traces

    env = {k: v for k, v in os.environ.items() if k not in ("PROMPTEUR_URL", "PROMPTEUR_API_KEY")}
    if backend == "postgresql":
        env["PROMPTEUR_DATABASE_URL"] = request.getfixturevalue("fresh_postgres")
    made = subprocess.run(
        [str(BIN / "prompteur"), "keys", "create", "--scopes", "write", "--json"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    key = json.loads(made.stdout)["key"]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    spool = tmp_path / "shared-spool"  # both processes share it
    per_process, rate = 5000, 500.0  # 10 s of steady recording each

    started = time.monotonic()
    # The first server and the two that replace it, ready before anything is recorded.
    servers = [warm_server(port, project, env) for _ in range(3)]
    apps: list[Any] = []
    kills: list[float] = []
    downtime: list[float] = []
    try:
        for p in servers:
            ready(p)
        server, spares = servers[0], servers[1:]
        go(server)
        wait_up(url)
        apps = start_apps(url, key, spool, per_process, rate)
        recording = time.monotonic()
        for pause, spare in zip((1.5, 1.5), spares, strict=True):
            time.sleep(pause)
            server.send_signal(signal.SIGKILL)  # kill -9: no shutdown, requests cut mid-way
            server.wait()
            down = time.monotonic()
            kills.append(down - recording)
            server = spare
            go(server)
            wait_up(url)
            downtime.append(time.monotonic() - down)
        stats = [finish_app(p) for p in apps]  # restarted for good: they deliver and exit
    finally:
        for p in apps:
            if p.poll() is None:
                p.kill()
        for p in servers:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(timeout=30)
            if p.poll() is None:
                p.kill()
    wall = time.monotonic() - started

    store = Store(env.get("PROMPTEUR_DATABASE_URL") or load_url(project))
    try:
        keys = Counter((t.meta["proc"], t.meta["seq"]) for t in iter_traces(store))
    finally:
        store.close()
    expected = {(p, i) for p in ("a", "b") for i in range(per_process)}
    recorded = max(s["recorded_s"] for s in stats)
    report = {
        "backend": backend,
        "stored": sum(keys.values()),
        "distinct": len(keys),
        "duplicates": sum(v - 1 for v in keys.values()),
        "kills_at_s": [round(k, 2) for k in kills],
        "downtime_s": [round(d, 2) for d in downtime],
        "recorded_s": round(recorded, 1),
        "wall_s": round(wall, 1),
        "spooled": sum(s["spooled"] for s in stats),
        "from_spool": sum(s["from_spool"] for s in stats),
        "sent": sum(s["sent"] for s in stats),
    }
    print("chaos:", json.dumps(report))
    assert set(keys) == expected
    assert report["stored"] == 10_000 and report["duplicates"] == 0
    # Both kills fell while the processes were recording, and traces went through the spool.
    assert all(k < recorded for k in kills), report
    assert report["spooled"] > 0
    assert all(s["dropped"] == s["failed"] == s["dropped_by_cap"] == 0 for s in stats)
    assert all(s["closed"] and s["spool_pending"] == 0 for s in stats)
    assert not [i for i in find_spools(spool) if i.traces or i.corrupt]


def load_url(project: Path) -> str:
    from prompteur.config import load_config

    return load_config(project).database_url
