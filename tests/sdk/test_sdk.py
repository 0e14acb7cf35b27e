"""The SDK against a real HTTP server on loopback whose behaviour each test controls.

The server is a small FastAPI app on uvicorn (in a thread, on a free port) implementing the
contract routes the SDK uses, plus knobs a production server does not have: a delay, a 503
mode, request counts. That is what proving SWR timing, fallbacks and a slow server needs; the
SDK against the real `prompteur serve` app is in test_sdk_server.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from helpers_sdk import Loopback, wait_for

from prompteur.errors import UserError
from prompteur.sdk import AsyncClient, Client, PromptHandle, Unavailable

KEY = "pk_test_secret_0123456789abcdef"
BODY = "---\nname: greet\ninputs:\n  who: {kind: string}\n---\nsystem:\nBe brief.\n\nuser:\n"


def prompt_text(word: str) -> str:
    return BODY + f"{word} {{{{ who }}}}\n"


def version_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class StubState:
    labels: dict[str, str] = field(default_factory=dict)  # label -> version
    contents: dict[str, str] = field(default_factory=dict)  # version -> text
    hits: Counter[str] = field(default_factory=Counter)
    headers: list[dict[str, str]] = field(default_factory=list)
    traces: list[dict[str, Any]] = field(default_factory=list)
    batches: int = 0
    delay: float = 0.0  # seconds before answering a prompt route
    trace_delay: float = 0.0
    fail: bool = False  # answer 503 everywhere

    def publish(self, label: str, word: str) -> str:
        text = prompt_text(word)
        v = version_of(text)
        self.contents[v] = text
        self.labels[label] = v
        return v


def make_app(state: StubState) -> Any:
    app = FastAPI()

    @app.middleware("http")
    async def count(request: Request, call_next: Any) -> Any:
        state.hits[request.url.path] += 1
        state.headers.append(dict(request.headers))
        if state.fail:
            return JSONResponse({"detail": "down"}, status_code=503)
        return await call_next(request)

    @app.get("/v1/prompts/{name}/versions/{ref}")
    async def version(name: str, ref: str) -> dict[str, Any]:
        await asyncio.sleep(state.delay)
        if name != "greet":
            raise HTTPException(404, detail=f"no prompt named '{name}'")
        v = state.labels.get(ref) or next((x for x in state.contents if x.startswith(ref)), None)
        if v is None:
            raise HTTPException(404, detail=f"no label or version '{ref}' of '{name}'")
        return {
            "name": name,
            "version": v,
            "content": state.contents[v],
            "labels": sorted(k for k, x in state.labels.items() if x == v),
            "created_at": "2026-11-21T00:00:00Z",
        }

    @app.post("/v1/prompts/{name}/complete")
    async def complete(name: str, request: Request) -> dict[str, Any]:
        body = await request.json()
        return {
            "name": name,
            "version": state.labels[body["label"]],
            "label": body["label"],
            "model": "stub:echo",
            "output": f"hello {body['inputs']['who']}",
            "finish_reason": "stop",
            "usage": {"input_tokens": 7, "output_tokens": 2},
            "latency_ms": 1.5,
            "cost_usd": 0.0,
            "trace_id": "a" * 32,
        }

    @app.post("/v1/traces")
    async def traces(request: Request) -> dict[str, int]:
        await asyncio.sleep(state.trace_delay)
        body = await request.json()
        state.batches += 1
        state.traces.extend(body["traces"])
        return {"accepted": len(body["traces"])}

    return app


@contextlib.contextmanager
def stub_server() -> Iterator[tuple[StubState, str]]:
    """The stub app on loopback, its `greet` prompt labelled production: (state, url)."""
    state = StubState()
    state.publish("production", "Hello")
    with Loopback(make_app(state)) as server:
        yield state, server.url


@pytest.fixture
def stub() -> Iterator[tuple[StubState, str]]:
    with stub_server() as served:
        yield served


def dead_url() -> str:
    """A loopback port nobody listens on: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


VERSION_PATH = "/v1/prompts/greet/versions/production"


# ---- prompts: cache, SWR, fallbacks -----------------------------------------------------------


def test_get_prompt_renders_and_a_cache_hit_makes_no_request(stub, away) -> None:
    state, url = stub
    with Client(url, api_key=KEY, cache_ttl=60) as client:
        first = client.get_prompt("greet")
        assert first.source == "server"
        assert first.version == state.labels["production"]
        assert first.labels == ("production",)
        assert first.render(who="Ada") == [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hello Ada"},
        ]
        for _ in range(50):
            again = client.get_prompt("greet", "production")
            assert again.source == "cache"
            assert again.version == first.version
    assert state.hits[VERSION_PATH] == 1
    assert all(h.get("authorization") == f"Bearer {KEY}" for h in state.headers)


def test_stale_is_returned_at_once_and_refreshed_once_in_the_background(stub, away) -> None:
    state, url = stub
    with Client(url, cache_ttl=0.2) as client:
        v1 = client.get_prompt("greet").version
        v2 = state.publish("production", "Bonjour")
        state.delay = 0.5  # the refresh is slow: the caller must not wait for it
        time.sleep(0.25)
        started = time.perf_counter()
        stale = [client.get_prompt("greet") for _ in range(20)]
        elapsed = time.perf_counter() - started
        assert elapsed < 0.1, f"20 stale reads took {elapsed:.3f}s"
        assert {h.source for h in stale} == {"stale"}
        assert {h.version for h in stale} == {v1}
        # One refresh in flight for the key, however many stale reads.
        assert wait_for(lambda: client.get_prompt("greet").version == v2)
        fresh = client.get_prompt("greet")
        assert fresh.source == "cache"
        assert fresh.render(who="Ada")[-1]["content"] == "Bonjour Ada"
    assert state.hits[VERSION_PATH] == 2


def test_concurrent_callers_share_one_cache_and_one_refresh(stub, away) -> None:
    state, url = stub
    with Client(url, cache_ttl=0.3) as client:
        client.get_prompt("greet")
        time.sleep(0.35)
        state.delay = 0.3
        errors: list[BaseException] = []

        def reader() -> None:
            try:
                for _ in range(200):
                    assert client.get_prompt("greet").version
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=reader) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert wait_for(lambda: client.get_prompt("greet").source == "cache")
    assert state.hits[VERSION_PATH] == 2


def test_fallback_order_last_good_then_library_then_snapshot(
    stub, project: Path, away: Path
) -> None:
    state, url = stub
    # 1. last good: the server answered once, then fails (503) on a client without a cache.
    with Client(url, cache_ttl=0) as client:
        good = client.get_prompt("greet")
        state.fail = True
        served = client.get_prompt("greet")
        assert served.source == "last-good"
        assert served.version == good.version
        snapshot = away / "prompts.snapshot.json"
        assert client.snapshot(snapshot) == 1
    state.fail = False

    # 2. the local library file: a dead server, a project that has the prompt as a file.
    (project / "prompts" / "greet.prompt.md").write_text(prompt_text("Hi"), encoding="utf-8")
    with Client(dead_url(), project=project, snapshot=snapshot) as client:
        served = client.get_prompt("greet")
        assert served.source == "library"
        assert served.version == version_of(prompt_text("Hi"))
        assert served.render(who="Bo")[-1]["content"] == "Hi Bo"
        assert client.stats().fallbacks == 1

    # 3. the snapshot: no server, no library file with that name.
    with Client(dead_url(), snapshot=snapshot) as client:
        served = client.get_prompt("greet")
        assert served.source == "snapshot"
        assert served.version == good.version
        assert served.labels == ("production",)
        assert served.render(who="Cy")[-1]["content"] == "Hello Cy"
        # A version the snapshot does not have is not made up.
        with pytest.raises(Unavailable, match="no cached copy, library file or snapshot"):
            client.get_prompt("greet", version="ffff")

    # 4. nothing to fall back on.
    with Client(dead_url()) as client, pytest.raises(Unavailable):
        client.get_prompt("greet")


def test_a_dead_server_costs_one_connection_attempt_not_one_per_call(away: Path) -> None:
    snap = away / "s.json"
    snap.write_text(
        json.dumps(
            {
                "format": "prompteur-snapshot/1",
                "prompts": [
                    {
                        "name": "greet",
                        "version": version_of(prompt_text("Yo")),
                        "content": prompt_text("Yo"),
                        "labels": ["production"],
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    with Client(dead_url(), snapshot=snap, retry_after=30) as client:
        assert client.get_prompt("greet").source == "snapshot"
        for _ in range(100):
            assert client.get_prompt("greet").source == "snapshot"
        assert client.stats().fetches == 1


def test_snapshot_errors_name_file_line_and_field(away: Path) -> None:
    bad = away / "bad.json"
    bad.write_text(
        '{\n  "format": "prompteur-snapshot/1",\n  "prompts": [\n    {"name": "x"\n', "utf-8"
    )
    with pytest.raises(UserError) as info:
        Client(dead_url(), snapshot=bad)
    assert info.value.file == str(bad) and info.value.line == 5
    bad.write_text(
        '{\n  "format": "prompteur-snapshot/1",\n  "prompts": [\n'
        '    {"name": "x", "content": "y"}\n  ]\n}\n',
        "utf-8",
    )
    with pytest.raises(UserError) as info:
        Client(dead_url(), snapshot=bad)
    assert (info.value.line, info.value.field) == (4, "prompts[0].version")
    assert "required" in info.value.message


def test_versions_unknown_names_and_refused_keys(stub, away) -> None:
    state, url = stub
    v = state.labels["production"]
    with Client(url, api_key=KEY) as client:
        by_version = client.get_prompt("greet", version=v[:10])
        assert (by_version.version, by_version.label) == (v, None)
        assert state.hits[f"/v1/prompts/greet/versions/{v[:10]}"] == 1
        with pytest.raises(UserError, match="no prompt named 'nope'"):
            client.get_prompt("nope")
        with pytest.raises(UserError, match="not both"):
            client.get_prompt("greet", "production", version=v)


def test_the_key_never_shows(stub, away, caplog: pytest.LogCaptureFixture) -> None:
    state, url = stub
    caplog.set_level(logging.DEBUG)
    client = Client(url, api_key=KEY, retries=0)
    assert KEY not in repr(client) and KEY not in str(vars(client))
    client.get_prompt("greet")
    state.fail = True
    with client.trace("greet", {"who": "x"}):
        pass
    client.flush(0.5)
    client.close(0.2)
    assert client.stats().spooled == 1  # kept for later, under a hash of the URL and key
    assert client.spool is not None and KEY not in str(client.spool.path)
    spooled = b"".join(p.read_bytes() for p in client.spool.path.parent.iterdir())
    assert b"who" in spooled and KEY.encode() not in spooled
    assert KEY not in caplog.text
    assert KEY not in json.dumps(state.traces)


# ---- the gateway ------------------------------------------------------------------------------


def test_complete_goes_through_the_gateway(stub, away) -> None:
    state, url = stub
    with Client(url, api_key=KEY) as client:
        done = client.complete("greet", {"who": "Ada"})
        assert done.output == "hello Ada" and str(done) == "hello Ada"
        assert done.trace_id == "a" * 32
        assert (done.tokens_in, done.tokens_out, done.model) == (7, 2, "stub:echo")
        assert done.version == state.labels["production"]
    assert state.hits["/v1/prompts/greet/complete"] == 1


# ---- tracing ----------------------------------------------------------------------------------


def test_traces_are_batched_with_what_happened(stub, away) -> None:
    state, url = stub
    with Client(url, api_key=KEY) as client:
        handle = client.get_prompt("greet")
        for i in range(30):
            with client.trace(handle, {"who": f"n{i}"}, model="m1") as t:
                t.output = f"out {i}"
                t.tokens_in, t.tokens_out, t.cost = 5, 2, 0.001
        assert client.flush(5)
        assert client.stats().sent == 30
    assert len(state.traces) == 30
    assert state.batches < 30  # batched, not one request per trace
    first = state.traces[0]
    assert first["prompt"] == "greet" and first["version"] == handle.version
    assert first["label"] == "production" and first["model"] == "m1"
    assert first["inputs"] == {"who": "n0"} and first["output"] == "out 0"
    assert first["latency_ms"] >= 0 and first["tokens_in"] == 5 and first["cost"] == 0.001
    assert len({t["trace_id"] for t in state.traces}) == 30


def test_exceptions_are_recorded_and_reraised_unchanged(stub, away) -> None:
    state, url = stub
    boom = ValueError("boom")

    with Client(url) as client:
        client.get_prompt("greet")  # traces of a label learn its version from the cache

        @client.traced("greet", label="production")
        def answer(who: str, polite: bool = True) -> str:
            raise boom

        @client.traced("greet")
        async def answer_async(who: str) -> str:
            await asyncio.sleep(0)
            t = client.current_trace()
            assert t is not None
            t.tokens_out = 3
            return f"hi {who}"

        with pytest.raises(ValueError) as info:
            answer("Ada")
        assert info.value is boom
        with pytest.raises(KeyError) as info2, client.trace("greet", {"who": "Bo"}):
            raise KeyError("missing")
        assert info2.value.args == ("missing",)
        assert asyncio.run(answer_async("Cy")) == "hi Cy"
        assert answer.__name__ == "answer"
        assert client.flush(5)
    by_who = {t["inputs"]["who"]: t for t in state.traces}
    assert by_who["Ada"]["error"] == "ValueError: boom" and by_who["Ada"]["output"] is None
    assert by_who["Ada"]["inputs"] == {"who": "Ada"}
    assert by_who["Ada"]["version"] == state.labels["production"]  # known from the cache
    assert by_who["Bo"]["error"] == "KeyError: 'missing'"
    assert by_who["Cy"]["output"] == "hi Cy" and by_who["Cy"]["tokens_out"] == 3
    assert by_who["Cy"]["error"] is None


def test_a_slow_server_never_blocks_the_caller_and_drops_are_counted(
    stub, away, caplog: pytest.LogCaptureFixture
) -> None:
    state, url = stub
    state.trace_delay = 2.0
    client = Client(url, max_queue=50, batch_size=10, warn_every=100)
    calls = 2000
    started = time.perf_counter()
    for i in range(calls):
        with client.trace("greet", {"i": i}) as t:
            t.output = "x"
    elapsed = time.perf_counter() - started
    # Generous: ~5 µs a call here; a caller waiting on the server once would take 2 s.
    assert elapsed < 1.0, f"{calls} traced calls took {elapsed:.3f}s"
    stats = client.stats()
    assert stats.dropped >= calls - 50 - 10
    assert stats.sent + stats.dropped + stats.failed + stats.queued <= calls
    assert "trace(s) lost so far" in caplog.text
    # Once per 100 lost traces (and at the first), not once per trace.
    lines = [r for r in caplog.records if "lost so far" in r.getMessage()]
    assert 1 < len(lines) <= stats.dropped // 100 + 2
    started = time.perf_counter()
    client.close(timeout=0.5)
    assert time.perf_counter() - started < 5
    final = client.stats()
    # The batch still being sent when the client closed is spooled (sent again later).
    assert final.sent + final.dropped + final.failed + final.spooled == calls


def test_without_a_spool_a_dead_server_is_retried_then_counted_as_failed(away) -> None:
    client = Client(dead_url(), retries=2, backoff=0.05, spool=False)
    started = time.perf_counter()
    for i in range(10):
        with client.trace("greet", {"i": i}):
            pass
    assert time.perf_counter() - started < 0.1
    assert client.flush(10)
    stats = client.stats()
    assert (stats.sent, stats.failed, stats.dropped) == (0, 10, 0)
    assert "ConnectError" in (stats.last_error or "")
    client.close()


def test_retries_deliver_once_the_server_is_back(stub, away) -> None:
    state, url = stub
    state.fail = True
    with Client(url, retries=5, backoff=0.1) as client:
        with client.trace("greet", {"who": "late"}) as t:
            t.output = "ok"
        threading.Timer(0.25, lambda: setattr(state, "fail", False)).start()
        assert client.flush(10)
        assert client.stats().sent == 1
    assert [t["inputs"] for t in state.traces] == [{"who": "late"}]


# ---- async twin and the lazy import ----------------------------------------------------------


def test_async_client(stub, away) -> None:
    state, url = stub

    async def main() -> tuple[PromptHandle, PromptHandle, str]:
        async with AsyncClient(url, api_key=KEY) as client:
            first = await client.get_prompt("greet")
            second = await client.get_prompt("greet")
            done = await client.complete("greet", {"who": "Ada"})
            with client.trace(first, {"who": "Ada"}) as t:
                t.output = done.output
            assert await client.flush(5)
            return first, second, done.output

    first, second, output = asyncio.run(main())
    assert (first.source, second.source, output) == ("server", "cache", "hello Ada")
    assert state.hits[VERSION_PATH] == 1 and len(state.traces) == 1


def test_import_prompteur_does_not_load_the_sdk() -> None:
    import subprocess
    import sys

    code = (
        "import sys, prompteur; assert 'prompteur.sdk' not in sys.modules; "
        "assert 'httpx' not in sys.modules; from prompteur import Client; "
        "print(Client.__module__)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "prompteur.sdk._client"
    with contextlib.suppress(ImportError), pytest.raises(AttributeError):
        import prompteur

        _ = prompteur.NoSuchThing  # type: ignore[attr-defined]


def test_odd_values_are_sent_as_text_and_a_broken_one_loses_only_its_trace(stub, away) -> None:
    state, url = stub
    loop: dict[str, Any] = {}
    loop["self"] = loop  # cannot be serialised at all
    with Client(url) as client:

        @client.traced("greet")
        def varargs(*words: str, sep: str = " ") -> str:
            return sep.join(words)

        varargs("a", "b", sep="-")
        with client.trace("greet", {"when": Path("/x"), "tags": {3}}) as t:
            t.output = {"label": "positive", "score": 0.9}
        with client.trace("greet", {"loop": loop}):
            pass
        assert client.flush(5)
        stats = client.stats()
    assert (stats.sent, stats.failed) == (2, 1)
    assert "cannot serialise" in (stats.last_error or "")
    first, second = state.traces
    assert first["inputs"] == {"words": ["a", "b"], "sep": "-"} and first["output"] == "a-b"
    assert second["inputs"] == {"when": "/x", "tags": "{3}"}
    assert json.loads(second["output"]) == {"label": "positive", "score": 0.9}
