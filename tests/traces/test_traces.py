"""Traces in the store: validation, secret scrubbing, idempotent batch inserts, filters and
pagination (SQLite and PostgreSQL), the migration's downgrade, the HTTP ingestion route, and
`prompteur traces list/show/flag/to-cases`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from pydantic import ValidationError
from typer.testing import CliRunner

from prompteur.cli import app as cli_app
from prompteur.errors import UserError
from prompteur.store import Store
from prompteur.traces import (
    TraceFilter,
    TraceIn,
    get_trace,
    iter_traces,
    list_traces,
    record,
    set_flag,
)
from prompteur.traces.cases import insert_cases, traces_to_cases

runner = CliRunner()
NOW = datetime.now(UTC)


def _trace(i: int, **kw: object) -> TraceIn:
    fields: dict[str, object] = {
        "prompt": "sentiment",
        "version": "abc123def456",
        "model": "local",
        "inputs": {"review": f"review number {i}"},
        "output": "positive",
        "latency_ms": 10.0 + i,
        "tokens_in": 20,
        "tokens_out": 1,
        "cost": 0.0,
        "started_at": NOW - timedelta(minutes=i),
    }
    fields.update(kw)
    return TraceIn(**fields)  # type: ignore[arg-type]


def test_record_scrubs_secrets_everywhere_and_keeps_unknown_fields(store: Store) -> None:
    key = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2
    t = TraceIn.model_validate(
        {
            "prompt_name": "sentiment",  # the contract's spelling and ours both work
            "inputs": {"review": f"my key is {key}", "nested": [{"auth": f"Bearer {key}"}]},
            "output": f"echo {key}",
            "error": None,
            "metadata": {
                "Authorization": "Basic dXNlcjpwYXNz",
                "headers": [["X-Api-Key", "plain-secret-1234"], ["accept", "json"]],
                "user": "alice",
                "db_password": "hunter2",
            },
            "input_tokens": 5,
            "client_version": "1.2",  # unknown: kept in metadata, not refused
        }
    )
    assert record(store, [t]) == 1
    [stored] = list_traces(store).items
    blob = json.dumps(stored.to_dict())
    assert key not in blob and "dXNlcjpwYXNz" not in blob and "hunter2" not in blob
    assert "plain-secret-1234" not in blob
    assert stored.inputs["review"] == "my key is [redacted]"
    assert stored.meta["user"] == "alice" and stored.meta["headers"][1] == ["accept", "json"]
    assert stored.meta["client_version"] == "1.2"
    assert stored.prompt == "sentiment" and stored.tokens_in == 5


def test_a_retried_batch_is_stored_once(store: Store) -> None:
    batch = [_trace(i, trace_id=f"{i:032x}", span_id=f"{i:016x}") for i in range(5)]
    assert record(store, batch) == 5
    assert record(store, batch) == 5  # accepted again, but not duplicated
    assert len(list(iter_traces(store))) == 5


def test_filters_and_keyset_pagination(store: Store) -> None:
    traces = [_trace(i) for i in range(25)]
    traces += [_trace(100, version="ffff0000", output=None, error="timeout")]
    traces += [_trace(101, prompt="other", scores={"polite": False})]
    record(store, traces)
    seen: list[int] = []
    cursor = None
    while True:
        page = list_traces(store, TraceFilter(prompt="sentiment"), limit=10, before=cursor)
        seen += [t.id for t in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 26 == len(set(seen)) and seen == sorted(seen, reverse=True)
    errors = list_traces(store, TraceFilter(status="error")).items
    assert [t.error for t in errors] == ["timeout"]
    assert list_traces(store, TraceFilter(status="failing")).items[0].prompt == "other"
    assert len(list_traces(store, TraceFilter(version="ffff")).items) == 1
    recent = list_traces(store, TraceFilter(since=NOW - timedelta(minutes=4, seconds=30)))
    assert len(recent.items) == 5
    with pytest.raises(UserError, match="unknown status"):
        list_traces(store, TraceFilter(status="weird"))


def test_flags_are_all_or_nothing(store: Store) -> None:
    record(store, [_trace(0), _trace(1)])
    ids = [t.id for t in iter_traces(store)]
    with pytest.raises(UserError, match="no trace 999"):
        set_flag(store, [ids[0], 999])
    assert not get_trace(store, ids[0]).flagged
    set_flag(store, ids[:1], note="wrong label")
    flagged = get_trace(store, ids[0])
    assert flagged.flagged and flagged.meta["note"] == "wrong label"


def test_invalid_traces_name_their_field() -> None:
    with pytest.raises(ValidationError, match="trace_id"):
        TraceIn(trace_id="x" * 33)
    with pytest.raises(ValidationError, match="latency_ms"):
        TraceIn(latency_ms=-1)
    with pytest.raises(ValidationError, match="cost"):
        TraceIn.model_validate_json('{"cost": NaN}')
    # Text a database cannot store is made storable, not a 500.
    t = TraceIn(prompt="a\x00b", output="\ud800x")
    assert t.prompt == "a\ufffdb"


def test_migration_downgrade_removes_the_table(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from prompteur.store.db import MIGRATIONS

    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    assert "traces" in sa.inspect(store.engine).get_table_names()
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    assert "traces" not in sa.inspect(store.engine).get_table_names()
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    assert "traces" in sa.inspect(store.engine).get_table_names()
    store.close()


# ---- HTTP ingestion ---------------------------------------------------------------------


def test_http_batches_need_write_and_land_in_the_keys_project(project: Path) -> None:
    from fastapi.testclient import TestClient
    from helpers_server import key, served

    from prompteur.app import create_app

    app = create_app([project])
    with TestClient(app) as client:
        body = {"traces": [_trace(i).model_dump(mode="json", exclude_none=True) for i in range(3)]}
        assert client.post("/v1/traces", json=body).status_code == 401
        assert client.post("/v1/traces", json=body, headers=key(app, "read")).status_code == 403
        r = client.post("/v1/traces", json=body, headers=key(app, "write"))
        assert r.status_code == 200 and r.json() == {"accepted": 3}
        bad = client.post(
            "/v1/traces", json={"traces": [{"tokens_in": -3}]}, headers=key(app, "write")
        )
        assert bad.status_code == 422 and "tokens_in" in bad.text
        read = key(app, "read")
        page = client.get("/v1/traces?limit=2&prompt=sentiment", headers=read).json()
        assert len(page["traces"]) == 2 and page["next_cursor"]
        rest = client.get(f"/v1/traces?cursor={page['next_cursor']}", headers=read).json()
        assert len(rest["traces"]) == 1 and rest["next_cursor"] is None
        one = client.get(f"/v1/traces/{page['traces'][0]['id']}", headers=read)
        assert one.json()["inputs"]["review"].startswith("review number")
        assert client.get("/v1/traces/424242", headers=read).status_code == 404
        assert client.get("/v1/traces?since=yesterday", headers=read).status_code == 400
        mon = client.get("/v1/monitor/sentiment?since=1d", headers=read).json()
        assert mon["series"][0]["total"]["volume"] == 3
    assert len(list(iter_traces(served(app).store))) == 3


# ---- to-cases and the CLI ---------------------------------------------------------------


SUITE = """# a comment that must survive
description: reviews
prompts: [sentiment]
checks:
  - type: word-count   # one word
    max: 1
cases:
  - inputs: {review: "Great."}
    expected: positive

threshold: 0.5
"""


def test_insert_cases_keeps_the_text_and_appends_to_the_list() -> None:
    new = insert_cases(SUITE, [{"id": "trace-1", "inputs": {"review": "x"}, "description": "n"}])
    assert new.startswith("# a comment that must survive")
    assert "  - type: word-count   # one word" in new
    data = yaml.safe_load(new)
    assert data["threshold"] == 0.5
    assert data["cases"][-1] == {"id": "trace-1", "inputs": {"review": "x"}, "description": "n"}
    no_cases = insert_cases("prompts: [a]\ndataset: d.jsonl\n", [{"inputs": {"a": 1}}])
    assert yaml.safe_load(no_cases)["cases"] == [{"inputs": {"a": 1}}]
    empty = insert_cases("prompts: [a]\ncases: []\ndataset: d.jsonl\n", [{"inputs": {"a": 1}}])
    assert yaml.safe_load(empty) == {
        "prompts": ["a"],
        "cases": [{"inputs": {"a": 1}}],
        "dataset": "d.jsonl",
    }


def test_to_cases_appends_failing_traces_once(project: Path) -> None:
    from prompteur.config import load_config

    store = Store(load_config().database_url)
    record(
        store,
        [
            _trace(1, output="Positive!!", scores=[{"name": "word-count", "passed": False}]),
            _trace(2, output="negative", scores={"word-count": True}),
            _trace(3, output=None, error="ModelError: boom"),
            _trace(4, inputs={"review": "Great."}, scores={"x": False}),  # already a case
        ],
    )
    suite = project / "suites" / "mine.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    result = traces_to_cases(store, suite, prompt="sentiment", status="failing")
    assert len(result.added) == 2 and result.duplicates == 1
    data = yaml.safe_load(suite.read_text(encoding="utf-8"))
    added = data["cases"][1:]
    assert [c["inputs"]["review"] for c in added] == ["review number 1", "review number 3"]
    assert all("expected" not in c and c["tags"] == ["from-trace"] for c in added)
    assert "bad output: 'Positive!!'" in added[0]["description"]
    assert "ModelError: boom" in added[1]["description"]
    assert "# a comment that must survive" in suite.read_text(encoding="utf-8")
    again = traces_to_cases(store, suite, prompt="sentiment", status="failing")
    assert again.added == [] and again.duplicates == 3
    store.close()

    # The CLI: ids, an expected value, errors that say what, and the suite still loads.
    cli = runner.invoke(cli_app, ["traces", "list", "--prompt", "sentiment", "--json"])
    assert cli.exit_code == 0, cli.output
    ids = [t["id"] for t in json.loads(cli.stdout)["traces"]]
    ok = runner.invoke(
        cli_app,
        [
            "traces",
            "to-cases",
            "--prompt",
            "sentiment",
            "--ids",
            str(ids[-2]),
            "--suite",
            str(suite),
            "--expected",
            "negative",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "added 1 case to" in ok.stdout
    assert yaml.safe_load(suite.read_text(encoding="utf-8"))["cases"][-1]["expected"] == "negative"
    before = suite.read_text(encoding="utf-8")
    missing = runner.invoke(
        cli_app, ["traces", "to-cases", "--prompt", "sentiment", "--ids", "99999", "-s", str(suite)]
    )
    assert missing.exit_code == 2 and "no trace 99999" in missing.output
    both = runner.invoke(
        cli_app,
        ["traces", "to-cases", "-p", "sentiment", "--failing", "--flagged", "-s", str(suite)],
    )
    assert both.exit_code == 2 and "one of --failing, --flagged or --ids" in both.output
    assert suite.read_text(encoding="utf-8") == before
    broken = project / "suites" / "broken.yaml"
    broken.write_text("prompts: [sentiment]\ncases:\n  - inputs: {review: x}\n    bogus: 1\n")
    bad = runner.invoke(
        cli_app, ["traces", "to-cases", "-p", "sentiment", "--failing", "-s", str(broken)]
    )
    assert bad.exit_code == 2 and "broken.yaml:4" in bad.output and "Traceback" not in bad.output
    from prompteur.suite import load_suite

    assert load_suite(suite).count_cases() > 3


def test_traces_show_and_flag_commands(project: Path) -> None:
    from prompteur.config import load_config

    store = Store(load_config().database_url)
    record(store, [_trace(0, metadata={"api_key": "abc"})])
    [t] = list(iter_traces(store))
    store.close()
    shown = runner.invoke(cli_app, ["traces", "show", str(t.id)])
    assert shown.exit_code == 0 and "review number 0" in shown.stdout
    assert '"api_key": "[redacted]"' in shown.stdout
    flag = runner.invoke(cli_app, ["traces", "flag", str(t.id), "--note", "wrong"])
    assert flag.exit_code == 0 and "flagged 1" in flag.stdout
    listed = runner.invoke(cli_app, ["traces", "list", "--status", "flagged", "--json"])
    assert [x["id"] for x in json.loads(listed.stdout)["traces"]] == [t.id]
    nope = runner.invoke(cli_app, ["traces", "show", "4242"])
    assert nope.exit_code == 2 and "no trace" in nope.output
    for cmd in (["traces", "--help"], ["traces", "to-cases", "--help"], ["monitor", "--help"]):
        assert runner.invoke(cli_app, cmd).exit_code == 0
