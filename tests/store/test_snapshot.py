"""A new SQLite store is made from the shipped snapshot of the migrations: the snapshot is
exactly what the migrations build, a stale one is never used, and a store that already has
tables is migrated by Alembic."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from prompteur.store import Store, snapshot
from prompteur.store import db as store_db


def _alembic_store(path: Path, revision: str = "head") -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    engine = sa.create_engine(f"sqlite:///{path}")
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(store_db.MIGRATIONS))
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


def test_the_shipped_snapshot_is_what_the_migrations_build(tmp_path: Path) -> None:
    _alembic_store(tmp_path / "alembic.db")
    assert snapshot.SNAPSHOT.read_text(encoding="utf-8") == snapshot.dump(
        tmp_path / "alembic.db"
    ), "a migration changed the schema: run `python -m prompteur.store.snapshot`"


def test_a_new_store_from_the_snapshot_equals_one_from_the_migrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _alembic_store(tmp_path / "alembic.db")
    used: list[bool] = []
    made = store_db._from_snapshot
    monkeypatch.setattr(store_db, "_from_snapshot", lambda e: used.append(made(e)) or used[-1])
    store = Store(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        assert store.save_version("p", "a" * 64, "user: hi", None)
    finally:
        store.close()
    assert snapshot.dump(tmp_path / "new.db") == snapshot.dump(tmp_path / "alembic.db")
    assert used == [True]


def test_a_stale_snapshot_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "stale.sql"
    stale.write_text(
        "-- head: 0001_an_old_head\nCREATE TABLE wrong (x INTEGER)\n", encoding="utf-8"
    )
    monkeypatch.setattr(snapshot, "SNAPSHOT", stale)
    assert snapshot.load(store_db._head_from_files() or "") is None
    store = Store(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        tables = set(sa.inspect(store.engine).get_table_names())
    finally:
        store.close()
    assert "wrong" not in tables and {"runs", "results", "alembic_version"} <= tables


def test_an_older_store_is_migrated_by_alembic_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _alembic_store(path, "0004")
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO prompt_versions (name, version, content, created_at) "
            "VALUES ('p', 'v', 'user: hi', '2026-01-01 00:00:00')"
        )
    engine.dispose()
    store = Store(f"sqlite:///{path}")
    try:
        assert [v.version for v in store.versions("p")] == ["v"]
        tables = set(sa.inspect(store.engine).get_table_names())
    finally:
        store.close()
    assert {"traces", "review_queues"} <= tables
    _alembic_store(tmp_path / "alembic.db")
    fresh, migrated = snapshot.dump(tmp_path / "alembic.db"), snapshot.dump(path)
    assert fresh.splitlines()[0] == migrated.splitlines()[0]  # at the same head
