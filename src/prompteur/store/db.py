"""The store: one SQLAlchemy engine, migrated to the newest schema on open.

SQLite (the default, a file in `.prompteur/`) runs in WAL mode with a busy timeout so that
several processes can write at once; PostgreSQL is used when the URL says so.
"""

from __future__ import annotations

import functools
import json
import math
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from sqlalchemy import case, create_engine, event, func, make_url, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ..config import STATE_DIR
from ..errors import PrompteurError, UserError
from ..records import RunKind, RunStatus

if TYPE_CHECKING:
    from ..records import ResultRecord
    from .keys import KeyRepository
    from .labels import LabelRepository
    from .probes import ProbeRepository
    from .results import ResultQueries
    from .reviews import ReviewRepository
    from .traces import TraceRepository
from .tables import CachedResponse, PromptVersion, Result, Run, utcnow

T = TypeVar("T")
MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 7_310_517  # arbitrary constant: PostgreSQL advisory-lock key for migrations


class StoreError(PrompteurError):
    pass


# What the database under the store raises when it fails (a lost connection, a full disk):
# callers that must survive it (the SDK) catch this, without naming SQLAlchemy.
DatabaseError = SQLAlchemyError


def outage_errors() -> tuple[type[Exception], ...]:
    """What the database under the store raises when it cannot be reached or written now (a
    connection refused or lost, a database locked or full, a pool exhausted): not bad data,
    not a bug."""
    from sqlalchemy import exc as sa

    # TimeoutError: no pooled connection came free in time.
    return (sa.OperationalError, sa.InterfaceError, sa.DisconnectionError, sa.TimeoutError)


def hidden_password(url: str) -> str:
    """A store URL as it may be shown: its password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def store_failure(exc: BaseException) -> str | None:
    """One line for a failure of the database under the store, or None for any other error."""
    if isinstance(exc, DBAPIError):
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        return f"the store failed: {detail}"
    return None


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


# A pool's bounds. A server runs its blocking queries on up to 40 threads (anyio's default),
# so a pool may need 40 connections at once: with SQLAlchemy's default of 5 + 10, a burst
# (the backlog after the process was descheduled) waited for connections, and every one
# beyond 5 was opened and closed per query: a PostgreSQL backend fork, or a SQLite open and
# its PRAGMAs, each time. 10 stay open once opened; a CLI command still opens only one.
POOL_SIZE = 10
MAX_OVERFLOW = 30


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def strict_json(value: Any) -> str:
    """JSON as the databases read it: NaN and the infinities (a mean over no case) become
    null. Python writes them as bare NaN, which SQLite's JSON functions and PostgreSQL refuse:
    one such run plan made every query that filters runs by kind fail."""
    return json.dumps(_finite(value), allow_nan=False)


def _engine_options(url: str, autocommit: bool) -> dict[str, Any]:
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    options: dict[str, Any] = {"json_serializer": strict_json}
    # An in-memory SQLite database lives in one connection: its pool takes no bounds.
    if not sqlite or (parsed.database not in (None, "", ":memory:") and "memory" not in url):
        options.update(pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW)
    if autocommit:
        options["isolation_level"] = "AUTOCOMMIT"
    else:
        # A server may close a pooled connection (restart, idle timeout): test each one as it
        # is checked out. A SQLite connection is a file handle that nothing closes under us,
        # and the autocommit engine retries instead (`Store.read`).
        options["pool_pre_ping"] = not sqlite
    return options


def make_engine(url: str, *, autocommit: bool = False) -> Engine:
    """The engine for `url`. `autocommit`: no transaction around statements (reads that are
    one statement each, see `Store.read`)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite:///") and ":memory:" not in url:
        folder = Path(url[len("sqlite:///") :].partition("?")[0]).parent
        # Only the project's own state folder is made here: a store pointed at a folder that
        # is not there is a typo (or a disk not mounted) to say, not a tree to create.
        if not folder.is_dir() and folder.name != STATE_DIR:
            raise UserError(
                f"the store's folder does not exist: {folder}",
                field="store",
                hint="create it, or correct [project] store in prompteur.toml or "
                "PROMPTEUR_DATABASE_URL",
            )
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(
                f"cannot create the store's folder {folder}: {exc.strerror or exc}",
                field="store",
            ) from None
    try:
        engine = create_engine(url, **_engine_options(url, autocommit))
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


@functools.cache
def _head_from_files() -> str | None:
    """The newest revision, read from the migration files' `revision` and `down_revision`
    lines; None when that is not plain (several heads, an unusual file). Read once per
    process: the migrations ship with the code."""
    import re

    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        rev = re.search(r"^revision\b[^=]*=\s*[\"']([^\"']+)[\"']", source, re.M)
        down = re.search(r"^down_revision\b[^=]*=(.*)$", source, re.M)
        if rev is None:
            continue  # __init__.py
        if down is None:
            return None
        revisions.add(rev.group(1))
        parents.update(re.findall(r"[\"']([^\"']+)[\"']", down.group(1)))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _up_to_date(engine: Engine) -> bool:
    """Whether the store is at the newest revision, checked without importing alembic
    (~0.2 s of every command that opens the store)."""
    head = _head_from_files()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:  # a new store: no table yet
        return False
    return [r[0] for r in current] == [head]


def migrate(engine: Engine, *, snapshot: bool = True) -> None:
    """Bring the schema to the newest revision; safe when several processes race to do it.
    An empty SQLite database gets the shipped snapshot of the migrations (store/snapshot.py)."""
    if _up_to_date(engine):
        return
    if snapshot and engine.dialect.name == "sqlite" and _from_snapshot(engine):
        return
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


def _from_snapshot(engine: Engine) -> bool:
    """Create the newest schema in an empty SQLite database in one transaction; False when the
    database is not empty or the snapshot is not of the newest revision."""
    from .snapshot import load

    head = _head_from_files()
    statements = load(head) if head else None
    if not statements:
        return False
    with engine.begin() as conn:
        _lock(conn)
        existing = conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        ).scalar()
        if existing:
            return False  # another process made it meanwhile, or an old store: Alembic's
        for statement in statements:
            conn.exec_driver_sql(statement)
    return True


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


# ---- runs, results, cache ------------------------------------------------------------------


@dataclass(frozen=True)
class RunInfo:
    id: str
    suite: str
    status: str
    plan: dict[str, Any]
    total: int
    created_at: datetime
    finished_at: datetime | None
    done: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0

    @property
    def kind(self) -> RunKind:
        return RunKind.of(self.plan)


def _insert_ignore(dialect: str, table: Any) -> Any:
    """INSERT that skips rows whose key is already there (resume, concurrent writers)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing()


class StoreCache:
    """The response cache, in the store (so it is shared by every process on the project)."""

    # Keys per query: well under SQLite's and PostgreSQL's bound-parameter limits.
    BATCH = 500

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, key: str) -> dict[str, Any] | None:
        return self.get_many([key])[0]

    def get_many(self, keys: list[str]) -> list[dict[str, Any] | None]:
        """The cached value of each key (None when absent), in one query per 500 keys."""
        t = CachedResponse.__table__
        found: dict[str, Any] = {}
        with self.store.engine.connect() as conn:
            for i in range(0, len(keys), self.BATCH):
                chunk = list(set(keys[i : i + self.BATCH]))
                rows = conn.execute(select(t.c.key, t.c.response).where(t.c.key.in_(chunk)))
                found.update((k, v) for k, v in rows)
        return [dict(found[k]) if found.get(k) is not None else None for k in keys]

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.put_many([(key, value)])

    def put_many(self, entries: list[tuple[str, dict[str, Any]]]) -> None:
        """Store answers in one transaction; a key already there keeps its first answer."""
        if not entries:
            return
        stmt = _insert_ignore(self.store.engine.dialect.name, CachedResponse.__table__)
        now = utcnow()
        with self.store.engine.begin() as conn:
            conn.execute(stmt, [{"key": k, "response": v, "created_at": now} for k, v in entries])


def _new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


@functools.cache
def _result_fields() -> tuple[str, ...]:
    from dataclasses import fields

    from ..records import ResultRecord

    return tuple(f.name for f in fields(ResultRecord))


def _record(row: Any) -> ResultRecord:
    """A record from a row of `ResultRows._query` (its columns in the record's field order)."""
    from ..records import ResultRecord

    record = ResultRecord(*row)
    record.checks = list(record.checks or [])
    record.tags = list(record.tags or [])
    return record


class ResultRows(Sequence["ResultRecord"]):
    """A run's results, read from the store when iterated, 2,000 rows at a time: a report
    over 100,000 results never holds them all. A run of up to `KEEP` results is kept after
    the first full pass (a report reads it several times). Indexing and len() query too;
    `list(rows)` gives an ordinary list."""

    KEEP = 20_000

    def __init__(self, engine: Engine, run_id: str) -> None:
        self._engine = engine
        self.run_id = run_id
        self._kept: list[ResultRecord] | None = None

    def _query(self) -> Any:
        t = Result.__table__
        return (
            select(*(t.c[name] for name in _result_fields()))
            .where(t.c.run_id == self.run_id)
            .order_by(t.c.id)
        )

    def __iter__(self) -> Iterator[ResultRecord]:
        if self._kept is not None:
            yield from self._kept
            return
        kept: list[ResultRecord] | None = []
        # Core rows, not ORM objects: a session would keep every Result in its identity map.
        with self._engine.connect() as conn:
            rows = conn.execution_options(yield_per=2000).execute(self._query())
            for row in rows:
                record = _record(row)
                if kept is not None:
                    kept.append(record)
                    if len(kept) > self.KEEP:
                        kept = None
                yield record
        self._kept = kept

    def __len__(self) -> int:
        if self._kept is not None:
            return len(self._kept)
        t = Result.__table__
        query = select(func.count()).select_from(t).where(t.c.run_id == self.run_id)
        with self._engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    @overload
    def __getitem__(self, index: int) -> ResultRecord: ...

    @overload
    def __getitem__(self, index: slice) -> list[ResultRecord]: ...

    def __getitem__(self, index: int | slice) -> ResultRecord | list[ResultRecord]:
        if self._kept is not None or isinstance(index, slice):
            return (self._kept if self._kept is not None else list(self))[index]
        n = index if index >= 0 else len(self) + index
        if n < 0:
            raise IndexError(index)
        with self._engine.connect() as conn:
            row = conn.execute(self._query().offset(n).limit(1)).first()
        if row is None:
            raise IndexError(index)
        return _record(row)

    def __repr__(self) -> str:
        return f"ResultRows(run_id={self.run_id!r})"


class RunsMixin:
    engine: Engine

    def session(self) -> Any: ...

    @property
    def cache(self) -> StoreCache:
        return StoreCache(self)  # type: ignore[arg-type]

    def new_run(self, suite: str, plan: dict[str, Any], total: int) -> str:
        run_id = _new_run_id()
        with self.session() as s:
            s.add(Run(id=run_id, suite=suite, plan=plan, total=total, status=RunStatus.RUNNING))
        return run_id

    def set_run_status(
        self,
        run_id: str,
        status: RunStatus,
        *,
        total: int | None = None,
        only_running: bool = False,
    ) -> None:
        """`only_running`: leave a run that has already ended as it ended (its first end
        is its end)."""
        with self.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                raise UserError(f"no run '{run_id}'")
            if only_running and run.status != RunStatus.RUNNING:
                return
            run.status = RunStatus(status).value
            if total is not None:
                run.total = total
            run.finished_at = utcnow() if RunStatus(status).final else None

    def update_run_plan(self, run_id: str, changes: dict[str, Any]) -> None:
        """Merge keys into a run's plan (an optimization's history grows as it searches)."""
        with self.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                raise UserError(f"no run '{run_id}'")
            run.plan = {**run.plan, **changes}

    def write_results(self, run_id: str, records: list[ResultRecord]) -> None:
        if not records:
            return
        now = utcnow()
        names = _result_fields()
        # Shallow: `asdict` would deep-copy every inputs and checks structure first.
        rows = [
            {**{n: getattr(r, n) for n in names}, "run_id": run_id, "created_at": now}
            for r in records
        ]
        stmt = _insert_ignore(self.engine.dialect.name, Result.__table__)
        with self.engine.begin() as conn:
            conn.execute(stmt, rows)

    def done_keys(self, run_id: str) -> set[tuple[str, str, str, int]]:
        with self.session() as s:
            rows = s.execute(
                select(Result.version, Result.model, Result.case_id, Result.repeat).where(
                    Result.run_id == run_id
                )
            )
            return {(v, m, c, int(r)) for v, m, c, r in rows}

    def results(self, run_id: str) -> ResultRows:
        """The run's results in the order they were stored, streamed on each iteration."""
        return ResultRows(self.engine, run_id)

    def get_run(self, ref: str) -> RunInfo:
        """A run by id, a prefix or a suffix of it; `latest` (or `last`) is the newest."""
        with self.session() as s:
            if ref in {"latest", "last"}:
                rows = list(s.scalars(select(Run).order_by(Run.created_at.desc()).limit(1)))
            else:
                # A prefix, or the random suffix people copy from the end of an id.
                n = len(ref)
                rows = list(
                    s.scalars(
                        select(Run)
                        .where(
                            (func.substr(Run.id, 1, n) == ref)
                            | (func.substr(Run.id, func.length(Run.id) - n + 1, n) == ref)
                        )
                        .limit(2)
                    )
                )
        if not rows:
            raise UserError(f"no run '{ref}'", hint="see: prompteur runs")
        if len(rows) > 1:
            raise UserError(f"run prefix '{ref}' is ambiguous", hint="give more characters")
        return self._with_counts([rows[0]])[0]

    def runs(self, limit: int = 20, *, kind: RunKind | str | None = None) -> list[RunInfo]:
        """The newest runs first; only those of `kind` when given."""
        query = select(Run).order_by(Run.created_at.desc()).limit(limit)
        if kind is not None:
            kind = RunKind(kind)
            recorded = Run.plan["kind"].as_string()
            if kind is RunKind.EVAL:  # eval runs made before kinds were recorded have none
                query = query.where(recorded.is_(None) | (recorded == kind.value))
            else:
                query = query.where(recorded == kind.value)
        with self.session() as s:
            rows = list(s.scalars(query))
        return self._with_counts(rows)

    def _with_counts(self, rows: list[Run]) -> list[RunInfo]:
        if not rows:
            return []
        ids = [r.id for r in rows]
        with self.session() as s:
            counts = {
                rid: (n, p, f, e)
                for rid, n, p, f, e in s.execute(
                    select(
                        Result.run_id,
                        func.count(),
                        func.sum(case((Result.passed.is_(True), 1), else_=0)),
                        func.sum(
                            case((Result.passed.is_(False) & Result.error.is_(None), 1), else_=0)
                        ),
                        func.sum(case((Result.error.is_not(None), 1), else_=0)),
                    )
                    .where(Result.run_id.in_(ids))
                    .group_by(Result.run_id)
                )
            }
        out = []
        for r in rows:
            n, p, f, e = counts.get(r.id, (0, 0, 0, 0))
            out.append(
                RunInfo(
                    r.id,
                    r.suite,
                    r.status,
                    dict(r.plan),
                    r.total,
                    r.created_at,
                    r.finished_at,
                    int(n),
                    int(p or 0),
                    int(f or 0),
                    int(e or 0),
                )
            )
        return out


class Store(RunsMixin):
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
        # Reads of one statement (the server's hot path) on PostgreSQL: an autocommit pool
        # without pre-ping, so a read is one round trip instead of four (ping, BEGIN, query,
        # COMMIT). One statement sees one snapshot, so it needs no transaction. SQLite's
        # driver opens no transaction for a SELECT and pings nothing: the one engine serves.
        sqlite = self.engine.dialect.name == "sqlite"
        self._reader = self.engine if sqlite else make_engine(url, autocommit=True)

    # ---- repositories: one per group of tables, made on first use -------------------------

    @functools.cached_property
    def labels(self) -> LabelRepository:
        from .labels import LabelRepository

        return LabelRepository(self)

    @functools.cached_property
    def traces(self) -> TraceRepository:
        from .traces import TraceRepository

        return TraceRepository(self)

    @functools.cached_property
    def pages(self) -> ResultQueries:
        from .results import ResultQueries

        return ResultQueries(self)

    @functools.cached_property
    def probes(self) -> ProbeRepository:
        from .probes import ProbeRepository

        return ProbeRepository(self)

    @functools.cached_property
    def keys(self) -> KeyRepository:
        from .keys import KeyRepository

        return KeyRepository(self)

    @functools.cached_property
    def reviews(self) -> ReviewRepository:
        from .reviews import ReviewRepository

        return ReviewRepository(self)

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden (it may come from PROMPTEUR_DATABASE_URL)."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def read(self, query: Callable[[Connection], T]) -> T:
        """`query(conn)` on a reading connection, outside any transaction: give it one
        statement (or statements that need not agree with each other).

        The pool does not ping its connections; a connection the server has closed fails its
        statement instead, which makes SQLAlchemy discard every connection of the pool opened
        before, so a second try on a fresh one is enough (a read can safely be repeated).
        """
        try:
            with self._reader.connect() as conn:
                return query(conn)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        with self._reader.connect() as conn:
            return query(conn)

    def close(self) -> None:
        if self._reader is not self.engine:
            self._reader.dispose()
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

    def version_counts(self) -> dict[str, int]:
        """How many versions each prompt name has stored."""
        with self.session() as s:
            return {
                name: int(n)
                for name, n in s.execute(
                    select(PromptVersion.name, func.count()).group_by(PromptVersion.name)
                )
            }

    def prompt_names(self) -> list[str]:
        with self.session() as s:
            return list(
                s.scalars(select(PromptVersion.name).distinct().order_by(PromptVersion.name))
            )

    def pass_counts(self, name: str, version: str) -> dict[str, tuple[int, int]]:
        """model → (passed, judged) over every result of this prompt version, in all runs."""
        stmt = (
            select(
                Result.model,
                func.sum(case((Result.passed.is_(True), 1), else_=0)),
                func.count(Result.passed),
            )
            .where(Result.prompt == name, Result.version == version)
            .group_by(Result.model)
        )
        rows = self.read(lambda conn: conn.execute(stmt).all())
        return {m: (int(p or 0), int(n or 0)) for m, p, n in rows}


def _info(row: PromptVersion) -> VersionInfo:
    return VersionInfo(row.name, row.version, row.content, row.source, row.created_at)
