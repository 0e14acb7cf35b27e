"""The store: one SQLAlchemy engine, migrated to the newest schema on open.

SQLite (the default, a file in `.prompteur/`) runs in WAL mode with a busy timeout so that
several processes can write at once; PostgreSQL is used when the URL says so.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ..errors import PrompteurError, UserError
from .tables import PromptVersion

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 7_310_517  # arbitrary constant: PostgreSQL advisory-lock key for migrations


class StoreError(PrompteurError):
    pass


@dataclass(frozen=True)
class VersionInfo:
    name: str
    version: str
    content: str
    source: str | None
    created_at: datetime


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=30000")  # first: switching to WAL may wait for a lock
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite:///") and ":memory:" not in url:
        folder = Path(url[len("sqlite:///") :].partition("?")[0]).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(
                f"cannot create the store's folder {folder}: {exc.strerror or exc}",
                field="store",
            ) from None
    try:
        engine = create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise UserError(
            f"cannot open the store: {exc}",
            field="store",
            hint="a SQLAlchemy URL, e.g. sqlite:///.prompteur/prompteur.db or "
            "postgresql://user@host/db (needs prompteur[postgres])",
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; safe when several processes race to do it."""
    from alembic import command
    from alembic.config import Config as AlembicConfig
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with engine.connect() as conn:
        if MigrationContext.configure(conn).get_current_revision() == head:
            return
    with engine.begin() as conn:
        _lock(conn)
        if MigrationContext.configure(conn).get_current_revision() != head:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")


def _lock(conn: Connection) -> None:
    """Hold the migration lock until `conn`'s transaction ends.

    PostgreSQL: an advisory lock (its DDL is transactional). SQLite: the database's write
    lock, taken now with BEGIN IMMEDIATE (waiting up to the busy timeout); pysqlite would
    otherwise run each CREATE in its own implicit transaction, so that a second process could
    see half a schema and fail on "table ... already exists".
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        for attempt in range(3):
            try:
                migrate(self.engine)
                break
            except SQLAlchemyError as exc:
                if attempt == 2:
                    cause = getattr(exc, "orig", None) or exc
                    raise StoreError(
                        f"cannot prepare the store at {self.safe_url}: {cause}"
                    ) from None
                time.sleep(0.1 * (attempt + 1))
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden (it may come from PROMPTEUR_DATABASE_URL)."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()

    # ---- prompt versions ----------------------------------------------------------------

    def save_version(self, name: str, version: str, content: str, source: str | None) -> bool:
        """Record a version; False when it was already there (versions are immutable)."""
        with self.session() as s:
            if s.get(PromptVersion, (name, version)) is not None:
                return False
        try:
            with self.session() as s:
                s.add(PromptVersion(name=name, version=version, content=content, source=source))
        except IntegrityError:
            return False  # another process recorded the same version first
        return True

    def versions(self, name: str) -> list[VersionInfo]:
        with self.session() as s:
            rows = s.scalars(
                select(PromptVersion)
                .where(PromptVersion.name == name)
                .order_by(PromptVersion.created_at.desc())
            )
            return [_info(r) for r in rows]

    def find_version(self, name: str, prefix: str) -> VersionInfo | None:
        """The version of `name` whose hash starts with `prefix`; refuses an ambiguous prefix."""
        with self.session() as s:
            rows = list(
                s.scalars(
                    select(PromptVersion).where(
                        PromptVersion.name == name,
                        # Not LIKE: `_` and `%` would be wildcards, and SQLite ignores case.
                        func.substr(PromptVersion.version, 1, len(prefix)) == prefix,
                    )
                ).all()
            )
        if len(rows) > 1:
            raise UserError(
                f"version prefix '{prefix}' of '{name}' is ambiguous", hint="give more characters"
            )
        return _info(rows[0]) if rows else None

    def prompt_names(self) -> list[str]:
        with self.session() as s:
            return list(
                s.scalars(select(PromptVersion.name).distinct().order_by(PromptVersion.name))
            )


def _info(row: PromptVersion) -> VersionInfo:
    return VersionInfo(row.name, row.version, row.content, row.source, row.created_at)
