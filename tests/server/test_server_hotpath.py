"""The SDK's hot path, `GET /v1/prompts/{name}/versions/{ref}`: one SQL statement per request
(version and its labels together, no transaction around it), never stale after a label moves
elsewhere, and reads that survive a connection the database server has closed."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from helpers_server import key, served

from prompteur import registry
from prompteur.app import create_app
from prompteur.errors import UserError
from prompteur.library import Library
from prompteur.store import Store

URL = "/v1/prompts/sentiment/versions"


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every statement any engine sends, and every COMMIT, while the block runs."""
    seen: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split()[0].upper())

    def on_commit(_conn: Any) -> None:
        seen.append("COMMIT")

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", on_execute)
    sa.event.listen(sa.engine.Engine, "commit", on_commit)
    try:
        yield seen
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", on_execute)
        sa.event.remove(sa.engine.Engine, "commit", on_commit)


def _two_versions(project: Path, store: Store) -> tuple[str, str]:
    library = Library(project / "prompts")
    first = library.get("sentiment")
    library.save(store, first)
    path = project / "prompts" / "sentiment.prompty"
    path.write_text(path.read_text(encoding="utf-8") + "\nAnswer in one word.\n", "utf-8")
    second = Library(project / "prompts").get("sentiment")
    library.save(store, second)
    assert first.version != second.version
    return first.version, second.version


def _move(store: Store, label: str, version: str) -> None:
    registry.move_label(store, "sentiment", label, version, actor="t", reason=None, evidence=None)


def test_one_statement_per_request_and_label_moves_seen_at_once(
    project: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTEUR_DATABASE_URL", store_url)
    app = create_app([project])
    store = served(app).store
    v1, v2 = _two_versions(project, store)
    _move(store, "production", v1)
    _move(store, "staging", v1)
    _move(store, "canary", v2)
    h = key(app, "read")
    # Another process on the same store, like a second server replica.
    other = Store(store_url)
    try:
        with TestClient(app) as client:
            client.get(f"{URL}/production", headers=h)  # the key check, then cached for 1 s
            with statements() as seen:
                got = client.get(f"{URL}/production", headers=h)
            assert got.status_code == 200, got.text
            body = got.json()
            assert (body["version"], body["labels"]) == (v1, ["production", "staging"])
            assert "Answer in one word." not in body["content"]
            assert seen == ["SELECT"]

            _move(other, "production", v2)
            body = client.get(f"{URL}/production", headers=h).json()
            assert (body["version"], body["labels"]) == (v2, ["canary", "production"])
            assert "Answer in one word." in body["content"]

            # Not a label: a version prefix, the newest; the labels are still the version's.
            body = client.get(f"{URL}/{v1[:10]}", headers=h).json()
            assert (body["version"], body["labels"]) == (v1, ["staging"])
            body = client.get(f"{URL}/latest", headers=h).json()
            assert body["version"] == v2
            missing = client.get(f"{URL}/nightly", headers=h)
            assert missing.status_code == 404
            assert "canary, production, staging" in missing.json()["hint"]
    finally:
        other.close()


def test_a_nul_matches_nothing(store: Store, tmp_path: Path) -> None:
    # PostgreSQL refuses a NUL in a query's text: it must be a "not found", not a crash.
    for ref in ("\x00", "prod\x00uction"):
        with pytest.raises(UserError, match="no label or version"):
            registry.resolve_with_labels(store, "sentiment", ref)
        with pytest.raises(UserError, match="no label or version"):
            registry.resolve(store, "sentiment", ref)


@pytest.mark.postgres
def test_reads_survive_connections_the_server_closed(project: Path, fresh_postgres: str) -> None:
    store = Store(fresh_postgres)
    admin = sa.create_engine(
        sa.make_url(fresh_postgres).set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
        poolclass=sa.NullPool,
    )
    try:
        v1, _ = _two_versions(project, store)
        _move(store, "production", v1)
        assert registry.labels_of(store, "sentiment") == {"production": v1}  # pooled now
        with admin.connect() as conn:
            ended = conn.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
        assert ended >= 1
        info, labels = registry.resolve_with_labels(store, "sentiment", "production")
        assert (info.version, labels) == (v1, ["production"])
        assert registry.labels_of(store, "sentiment") == {"production": v1}
    finally:
        store.close()
        admin.dispose()


def test_server_start_up_objects_are_frozen_while_it_runs(project: Path) -> None:
    app = create_app([project])
    with TestClient(app):
        # A full collection then skips the ~100,000 objects the app was built from.
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0
