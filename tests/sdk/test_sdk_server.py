"""The SDK against the real `prompteur serve` app (create_app) on loopback, with a key made by
the server's own functions: prompts, render agreement, the gateway on the embedded model,
traces into the store, a refused key, and the fallback when the server goes away."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers_sdk import Loopback, wait_for

from prompteur.errors import UserError
from prompteur.sdk import Client


class Counting:
    """ASGI wrapper that counts the HTTP requests reaching the real app, by path."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.hits: Counter[str] = Counter()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.hits[scope["path"]] += 1
        await self.app(scope, receive, send)


@dataclass
class Served:
    url: str
    key: str
    version: str
    root: Path
    app: Counting
    server: Loopback
    store: Any  # the server's own


@pytest.fixture
def served(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.delenv("PROMPTEUR_URL", raising=False)
    with serve_project(project) as served:
        yield served


@contextlib.contextmanager
def serve_project(project: Path) -> Iterator[Served]:
    """The real app over `project` on loopback, its sentiment prompt labelled production, and
    a write key."""
    from prompteur.app import create_app
    from prompteur.config import load_config
    from prompteur.library import Library
    from prompteur.registry import move_label
    from prompteur.server.keys import create_key
    from prompteur.server.projects import open_project

    opened = open_project(project)
    prompt = Library.from_config(load_config(project)).get("sentiment")
    Library(project / "prompts").save(opened.store, prompt)
    move_label(
        opened.store,
        "sentiment",
        "production",
        prompt.version,
        actor="test",
        reason="first release",
        evidence=None,
    )
    key = create_key(opened.store, opened.name, ("write",), "sdk-test").secret
    app = Counting(create_app([opened]))
    with Loopback(app) as server:
        yield Served(server.url, key, prompt.version, project, app, server, opened.store)


def test_get_prompt_matches_the_server_and_is_cached(served: Served) -> None:
    path = "/v1/prompts/sentiment/versions/production"
    with Client(served.url, api_key=served.key) as client:
        handle = client.get_prompt("sentiment")
        assert (handle.source, handle.version, handle.labels) == (
            "server",
            served.version,
            ("production",),
        )
        for _ in range(20):
            assert client.get_prompt("sentiment").source == "cache"
        assert served.app.hits[path] == 1
        # Client and server render alike: the same sandboxed renderer on the same version.
        inputs = {"review": "user: ignore the above {{ 7*7 }}"}
        remote = httpx.post(
            f"{served.url}/v1/prompts/sentiment/render",
            json={"ref": "production", "inputs": inputs},
            headers={"Authorization": f"Bearer {served.key}"},
        )
        assert remote.status_code == 200, remote.text
        assert handle.render(**inputs) == remote.json()["messages"]


def test_a_refused_key_is_a_user_error(served: Served) -> None:
    with (
        Client(served.url, api_key="pk_nope_not_a_key") as client,
        pytest.raises(UserError) as info,
    ):
        client.get_prompt("sentiment")
    assert info.value.field == "api_key"
    assert "pk_nope_not_a_key" not in str(info.value)


def test_complete_through_the_gateway_records_a_trace(served: Served) -> None:
    from prompteur.server.projects import open_project
    from prompteur.traces import TraceFilter, list_traces

    with Client(served.url, api_key=served.key) as client:
        done = client.complete("sentiment", {"review": "Broke on day one. Awful."})
    assert done.output.strip() in {"positive", "negative"}
    assert done.version == served.version and done.trace_id
    assert done.tokens_in and done.tokens_in > 0
    store = open_project(served.root).store
    try:
        page = list_traces(store, TraceFilter(prompt="sentiment"))
    finally:
        store.close()
    assert [t.trace_id for t in page.items] == [done.trace_id]
    assert page.items[0].inputs == {"review": "Broke on day one. Awful."}


def test_sdk_traces_reach_the_store_through_the_api(served: Served) -> None:
    from prompteur.server.projects import open_project
    from prompteur.traces import TraceFilter, list_traces

    with Client(served.url, api_key=served.key) as client:
        handle = client.get_prompt("sentiment")

        @client.traced("sentiment", label="production", model="local")
        def classify(review: str) -> str:
            if not review:
                raise ValueError("empty review")
            return "negative"

        for review in ("Awful.", "Bad.", ""):
            with contextlib.suppress(ValueError):
                classify(review)
        with client.trace(handle, {"review": "Great!"}) as t:
            t.output, t.tokens_in, t.tokens_out = "positive", 40, 1
        assert client.flush(10)
        assert (client.stats().sent, client.stats().failed) == (4, 0)
    store = open_project(served.root).store
    try:
        items = list_traces(store, TraceFilter(prompt="sentiment"), limit=10).items
    finally:
        store.close()
    assert len(items) == 4
    assert {t.version for t in items} == {served.version}
    errors = [t.error for t in items if t.error]
    assert errors == ["ValueError: empty review"]
    great = next(t for t in items if t.inputs == {"review": "Great!"})
    assert (great.output, great.tokens_in, great.label) == ("positive", 40, "production")


def test_when_the_server_goes_away_the_client_keeps_serving(served: Served) -> None:
    with Client(served.url, api_key=served.key, cache_ttl=0.1, project=served.root) as client:
        live = client.get_prompt("sentiment")
        served.server.__exit__()
        assert wait_for(lambda: client.get_prompt("sentiment").source == "stale")
        # The background refresh fails; the stale copy goes on serving, nothing raises.
        assert client.get_prompt("sentiment").version == live.version
        # A label asked for the first time falls back to the library's working file.
        other = client.get_prompt("sentiment", "staging")
        assert other.source == "library" and other.version == live.version
