"""The store against real SQLite files and a real PostgreSQL server.

Every test runs on both: a fresh SQLite file, and a fresh PostgreSQL database created for the
test (dropped afterwards) on the server of `postgres_url` (scripts/test.sh starts one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from prompteur.errors import PrompteurError, UserError
from prompteur.store import Store, VersionInfo, db
from prompteur.store.db import MIGRATIONS
from prompteur.store.tables import Base


def _head() -> str:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def _revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_opening_migrates_to_head(store: Store) -> None:
    tables = set(sa.inspect(store.engine).get_table_names())
    assert {"alembic_version", "prompt_versions"} <= tables
    assert _revision(store.engine) == _head()


def test_opening_twice_is_idempotent(store_url: str) -> None:
    first = Store(store_url)
    assert first.save_version("greet", "a" * 64, "user: hi", "prompts/greet.prompt")
    second = Store(store_url)  # migrated already: must neither fail nor touch the data
    try:
        assert _revision(second.engine) == _head()
        assert [v.version for v in second.versions("greet")] == ["a" * 64]
        with second.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar_one()
        assert rows == 1
    finally:
        first.close()
        second.close()


def test_migrations_match_the_tables(store: Store) -> None:
    """The Alembic history builds exactly the schema the ORM declares (types included)."""
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


# ---- versions -----------------------------------------------------------------------------


def test_save_version_once(store: Store) -> None:
    assert store.save_version("greet", "v1" + "0" * 62, "user: hi", "greet.prompt") is True
    assert store.save_version("greet", "v1" + "0" * 62, "user: other", None) is False
    (only,) = store.versions("greet")
    assert only.content == "user: hi"  # immutable: the second save changed nothing
    assert only.source == "greet.prompt"
    # The same hash under another name is another version.
    assert store.save_version("other", "v1" + "0" * 62, "user: hi", None) is True
    assert store.prompt_names() == ["greet", "other"]


def test_versions_newest_first(store: Store) -> None:
    for i, version in enumerate(["c" * 64, "a" * 64, "b" * 64]):
        store.save_version("greet", version, f"user: {i}", None)
        time.sleep(0.002)  # distinct timestamps even on a coarse clock
    store.save_version("other", "d" * 64, "user: other", None)
    found = store.versions("greet")
    assert [v.version for v in found] == ["b" * 64, "a" * 64, "c" * 64]
    assert [v.content for v in found] == ["user: 2", "user: 1", "user: 0"]
    assert all(isinstance(v, VersionInfo) for v in found)
    assert store.versions("missing") == []


def test_created_at_is_aware_utc(store: Store) -> None:
    before = datetime.now(UTC)
    store.save_version("greet", "a" * 64, "user: hi", None)
    (info,) = store.versions("greet")
    assert info.created_at.utcoffset() is not None, "naive datetime from the store"
    assert info.created_at.utcoffset().total_seconds() == 0
    assert before <= info.created_at <= datetime.now(UTC)


def test_find_version_by_prefix(store: Store) -> None:
    store.save_version("greet", "abc123" + "0" * 58, "user: one", None)
    store.save_version("greet", "abd456" + "0" * 58, "user: two", None)
    store.save_version("other", "abe789" + "0" * 58, "user: three", None)

    found = store.find_version("greet", "abc")
    assert found is not None and found.content == "user: one"
    assert store.find_version("greet", "abd456" + "0" * 58).content == "user: two"
    assert store.find_version("greet", "abe") is None  # that one belongs to another name
    assert store.find_version("greet", "ff") is None
    with pytest.raises(UserError, match="ambiguous"):
        store.find_version("greet", "ab")


def test_find_version_prefix_is_literal(store: Store) -> None:
    """`_` and `%` are not wildcards, and case matters (SQLite's LIKE ignores it)."""
    store.save_version("greet", "abc123" + "0" * 58, "user: one", None)
    assert store.find_version("greet", "a_c") is None
    assert store.find_version("greet", "%") is None
    assert store.find_version("greet", "ABC") is None


def test_safe_url_hides_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    # The engine connects lazily: with migrations off, no server is needed to build the URL.
    monkeypatch.setattr(db, "migrate", lambda engine: None)
    store = Store("postgresql://alice:s3cret@db.example:5432/prompts")
    try:
        assert "s3cret" not in store.safe_url
        assert store.safe_url == "postgresql+psycopg://alice:***@db.example:5432/prompts"
        assert store.url == "postgresql://alice:s3cret@db.example:5432/prompts"
    finally:
        store.close()


@pytest.mark.postgres
def test_safe_url_of_an_open_store(postgres_url: str) -> None:
    """With a real server: the password travels in the URL but never shows."""
    admin = sa.create_engine(
        sa.make_url(postgres_url).set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
        poolclass=sa.NullPool,
    )
    role = f"prompteur_u_{uuid.uuid4().hex[:8]}"
    db = f"prompteur_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN PASSWORD 's3cret'")
        conn.exec_driver_sql(f"CREATE DATABASE {db} OWNER {role}")
    try:
        url = sa.make_url(postgres_url).set(username=role, password="s3cret", database=db)
        store = Store(url.render_as_string(hide_password=False))
        try:
            assert "s3cret" not in store.safe_url
            assert f"{role}:***@" in store.safe_url
            assert store.save_version("greet", "a" * 64, "user: hi", None)
        finally:
            store.close()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        admin.dispose()


def test_unusable_sqlite_path_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(PrompteurError, match="store"):
        Store(f"sqlite:///{blocker / 'sub' / 'x.db'}")


# ---- several processes at once ------------------------------------------------------------

WORKER = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path

    from prompteur.store import Store

    url, tag, gate = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    (gate.parent / f"ready-{tag}").touch()
    deadline = time.monotonic() + 60
    while not gate.exists():  # start together: both race to create the schema
        if time.monotonic() > deadline:
            sys.exit("the gate never opened")
        time.sleep(0.001)
    store = Store(url)
    own = sum(
        store.save_version("p", f"{tag}{i:04d}".ljust(64, "0"), f"user: {tag} {i}", None)
        for i in range(200)
    )
    # Both processes also save the same 50 versions: each must be recorded exactly once.
    shared = sum(
        store.save_version("p", f"shared{i:04d}".ljust(64, "0"), f"user: {i}", None)
        for i in range(50)
    )
    store.close()
    print(json.dumps({"own": own, "shared": shared}))
    """
)


def _race(url: str, gate_dir: Path) -> list[dict[str, int]]:
    gate = gate_dir / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, tag, str(gate)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        for tag in ("one", "two")
    ]
    try:
        deadline = time.monotonic() + 60
        while not all((gate_dir / f"ready-{t}").exists() for t in ("one", "two")):
            assert time.monotonic() < deadline, "workers did not start"
            assert all(p.poll() is None for p in procs), "a worker died before the gate"
            time.sleep(0.005)
        gate.touch()
        outputs = [p.communicate(timeout=180) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (_out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, f"worker failed:\n{err}"
    return [json.loads(out) for out, _ in outputs]


def test_two_processes_write_at_once(store_url: str, tmp_path: Path) -> None:
    """Two OS processes open the same fresh store together (both run the migration) and write
    250 versions each, 50 of them the same: every row lands once, nobody fails."""
    gate_dir = tmp_path / "gate"
    gate_dir.mkdir()
    results = _race(store_url, gate_dir)

    assert [r["own"] for r in results] == [200, 200]
    assert sum(r["shared"] for r in results) == 50
    store = Store(store_url)
    try:
        assert _revision(store.engine) == _head()
        versions = store.versions("p")
        assert len(versions) == 450
        assert len({v.version for v in versions}) == 450
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar_one() == 1
        if store.engine.dialect.name == "sqlite":
            with store.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
    finally:
        store.close()


def test_a_nan_in_a_run_plan_is_stored_as_null_and_runs_are_still_found(store: Store) -> None:
    # An optimization whose budget left a split unreported has a mean of NaN in its plan:
    # written as bare NaN, SQLite's JSON functions and PostgreSQL refuse the row, and every
    # query on runs by kind failed ("the store failed: malformed JSON").
    nan, inf = float("nan"), float("inf")
    plan = {"kind": "optimize", "best": {"mean": {"estimate": nan, "low": nan, "high": inf}}}
    run_id = store.new_run("suites/s.yaml", plan, 1)
    store.new_run("suites/s.yaml", {"kind": "eval", "scores": [1.0, -inf]}, 1)
    (found,) = store.runs(5, kind="optimize")
    assert found.id == run_id
    assert found.plan["best"]["mean"] == {"estimate": None, "low": None, "high": None}
    assert [r.plan["scores"] for r in store.runs(5, kind="eval")] == [[1.0, None]]
    assert db.strict_json({"a": (1, nan)}) == '{"a": [1, null]}'
