"""The SDK with no server: the local project's store (labels through the registry) for prompts,
the store for traces, the embedded model for `complete`. On SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from prompteur.errors import UserError
from prompteur.sdk import Client


def _release(project: Path) -> str:
    """Record the sentiment prompt's version and point `production` at it."""
    from prompteur.config import load_config
    from prompteur.library import Library
    from prompteur.registry import move_label
    from prompteur.store import Store

    config = load_config(project)
    prompt = Library.from_config(config).get("sentiment")
    store = Store(config.database_url)
    try:
        Library.from_config(config).save(store, prompt)
        move_label(
            store, "sentiment", "production", prompt.version, actor="t", reason=None, evidence=None
        )
    finally:
        store.close()
    return prompt.version


def _traces(project: Path) -> list:
    from prompteur.config import load_config
    from prompteur.store import Store
    from prompteur.traces import TraceFilter, list_traces

    store = Store(load_config(project).database_url)
    try:
        return list_traces(store, TraceFilter(prompt="sentiment"), limit=100).items
    finally:
        store.close()


def _round_trip(project: Path) -> None:
    version = _release(project)
    with Client(project=project) as client:
        assert "project=" in repr(client)
        handle = client.get_prompt("sentiment")
        assert (handle.source, handle.version, handle.labels) == ("store", version, ("production",))
        assert client.get_prompt("sentiment").source == "cache"
        assert client.get_prompt("sentiment", version=version[:8]).version == version
        assert client.get_prompt("sentiment", None).version == version  # the newest
        with pytest.raises(UserError, match="no label or version 'staging'"):
            client.get_prompt("sentiment", "staging")
        assert handle.render(review="Nice.")[-1]["content"].endswith("Review: Nice.\nSentiment:")
        for i in range(25):
            with client.trace(handle, {"review": f"r{i}"}) as t:
                t.output = "positive"
        assert client.flush(10)
        assert client.stats().sent == 25
    traces = _traces(project)
    assert len(traces) == 25
    assert {t.version for t in traces} == {version}
    assert {t.source for t in traces} == {"sdk"}


def test_local_project_on_sqlite(project: Path) -> None:
    _round_trip(project)


@pytest.mark.postgres
def test_local_project_on_postgres(
    project: Path, fresh_postgres: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A database of its own: the project's rows must not meet other tests'.
    monkeypatch.setenv("PROMPTEUR_DATABASE_URL", fresh_postgres)
    _round_trip(project)


def test_local_complete_runs_the_embedded_model_and_traces_it(project: Path) -> None:
    version = _release(project)
    with Client(project=project) as client:
        done = client.complete("sentiment", {"review": "Broke on day one. Awful."})
        assert client.flush(10)
    assert done.output.strip() in {"positive", "negative"}
    assert (done.version, done.model) == (version, "local")
    assert done.tokens_in and done.tokens_in > 20 and done.trace_id
    [trace] = _traces(project)
    assert (trace.trace_id, trace.version, trace.label) == (done.trace_id, version, "production")
    assert (trace.output, trace.tokens_in) == (done.output, done.tokens_in)
    assert trace.latency_ms and trace.latency_ms > 0


def test_no_project_and_no_url_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROMPTEUR_URL", raising=False)
    monkeypatch.delenv("PROMPTEUR_DATABASE_URL", raising=False)
    with pytest.raises(UserError) as info:
        Client()
    assert info.value.field == "url" and "no prompteur project" in info.value.message
    with pytest.raises(UserError, match="not an http"):
        Client("ftp://example")
    with pytest.raises(UserError) as info:
        Client(project=tmp_path)
    assert (info.value.field, info.value.file) == ("project", str(tmp_path))
    assert not (tmp_path / ".prompteur").exists()  # nothing half-made
    with pytest.raises(UserError, match="no such folder"):
        Client(project=tmp_path / "typo")


def test_traces_queued_at_exit_are_flushed(project: Path) -> None:
    _release(project)
    code = (
        "from prompteur import Client\n"
        "c = Client()\n"
        "for i in range(5):\n"
        "    with c.trace('sentiment', {'i': i}, label='production') as t:\n"
        "        t.output = 'x'\n"
        # No flush, no close: the atexit hook sends them.
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=project, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert len(_traces(project)) == 5
