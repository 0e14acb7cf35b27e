"""The traces table: batch insert, filtered queries with keyset pagination, scores and flags,
and the column streams that monitoring, online scoring and drift alerts read. Rows come back
as plain mappings; `prompteur.traces` turns them into its records."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.exc import OperationalError

from ..errors import UserError
from .tables_traces import Trace

if TYPE_CHECKING:
    from .db import Store

STATUSES: tuple[str, ...] = ("failing", "passing", "error", "scored", "unscored", "flagged")

_T = Trace.__table__
_DEADLOCK_RETRIES = 3


@dataclass(frozen=True)
class TraceFilter:
    prompt: str | None = None
    version: str | None = None  # a prefix
    label: str | None = None
    model: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    status: str | None = None
    ids: tuple[int, ...] = ()

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.prompt is not None:
            query = query.where(_T.c.prompt == self.prompt)
        if self.version:
            n = len(self.version)
            query = query.where(func.substr(_T.c.version, 1, n) == self.version)
        if self.label is not None:
            query = query.where(_T.c.label == self.label)
        if self.model is not None:
            query = query.where(_T.c.model == self.model)
        if self.since is not None:
            query = query.where(_T.c.started_at >= self.since)
        if self.until is not None:
            query = query.where(_T.c.started_at < self.until)
        if self.ids:
            query = query.where(_T.c.id.in_(self.ids))
        return _status(query, self.status)


def _status(query: Select[Any], status: str | None) -> Select[Any]:
    if status is None:
        return query
    conditions = {
        "failing": (_T.c.passed.is_(False)) | (_T.c.error.is_not(None)),
        "passing": _T.c.passed.is_(True) & _T.c.error.is_(None),
        "error": _T.c.error.is_not(None),
        "scored": _T.c.scored_at.is_not(None),
        "unscored": _T.c.scored_at.is_(None),
        "flagged": _T.c.flagged.is_(True),
    }
    if status not in conditions:
        raise UserError(
            f"unknown status {status!r}", field="status", hint="one of: " + ", ".join(STATUSES)
        )
    return query.where(conditions[status])


def _insert_ignore(dialect: str) -> Any:
    """INSERT that skips a span already stored (a client retrying a batch it sent)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(_T).on_conflict_do_nothing(index_elements=["trace_id", "span_id"])


class TraceRepository:
    """`store.traces`."""

    def __init__(self, store: Store) -> None:
        self._engine = store.engine

    def insert(self, rows: list[dict[str, Any]]) -> int:
        """Insert rows in one transaction (a span already stored is skipped)."""
        if not rows:
            return 0
        statement = _insert_ignore(self._engine.dialect.name)
        for attempt in range(_DEADLOCK_RETRIES + 1):
            try:
                with self._engine.begin() as conn:
                    conn.execute(statement, rows)
            except OperationalError as exc:
                # Two requests carrying the same spans in different orders (a batch retried
                # while its first try still runs) can each wait on the other's row: PostgreSQL
                # aborts one transaction whole, and trying it again skips what the other stored.
                sqlstate = getattr(exc.orig, "sqlstate", None)
                if attempt == _DEADLOCK_RETRIES or sqlstate not in ("40P01", "40001"):
                    raise
                continue
            return len(rows)
        raise AssertionError("unreachable")

    def page(
        self, where: TraceFilter | None, *, limit: int, before: int | None
    ) -> tuple[list[dict[str, Any]], bool]:
        """The newest rows first, `limit` of them, older than `before`; and whether there
        are more (keyset pagination on the id: stable while new traces arrive)."""
        query = (where or TraceFilter()).apply(select(_T))
        if before is not None:
            query = query.where(_T.c.id < before)
        query = query.order_by(_T.c.id.desc()).limit(limit + 1)
        with self._engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        return rows[:limit], len(rows) > limit

    def iter(self, where: TraceFilter | None = None) -> Iterator[dict[str, Any]]:
        """Every matching row, oldest first, streamed."""
        query = (where or TraceFilter()).apply(select(_T)).order_by(_T.c.id)
        with self._engine.connect() as conn:
            for row in conn.execution_options(yield_per=1000).execute(query):
                yield dict(row._mapping)

    def get(self, ref: int | str) -> dict[str, Any] | None:
        """A row by its id, or the first span of a trace id."""
        query = select(_T)
        text = str(ref).strip()
        if text.isdigit() and len(text) < 16:
            query = query.where(_T.c.id == int(text))
        else:
            query = query.where(_T.c.trace_id == text).order_by(_T.c.id)
        with self._engine.connect() as conn:
            row = conn.execute(query.limit(1)).first()
        return dict(row._mapping) if row is not None else None

    def set_scores(self, params: list[dict[str, Any]]) -> int:
        """Scores of traces: each {"_id", "scores", "passed", "score", "scored_at"}."""
        if not params:
            return 0
        stmt = (
            update(_T)
            .where(_T.c.id == bindparam("_id"))
            .values(
                scores=bindparam("scores"),
                passed=bindparam("passed"),
                score=bindparam("score"),
                scored_at=bindparam("scored_at"),
            )
        )
        with self._engine.begin() as conn:
            conn.execute(stmt, params)
        return len(params)

    def flag(self, ids: list[int], flagged: bool, note: str | None) -> int:
        """Flag (or unflag) traces, with a note; refuses, changing nothing, an unknown id."""
        from sqlalchemy.orm import Session

        with Session(self._engine) as s, s.begin():
            rows = list(s.scalars(select(Trace).where(Trace.id.in_(ids))))
            missing = sorted(set(ids) - {r.id for r in rows})
            if missing:  # raised inside the transaction: nothing is changed
                raise UserError(f"no trace {missing[0]}", hint="see: prompteur traces list")
            for row in rows:
                row.flagged = flagged
                if note:
                    row.meta = {**row.meta, "note": note}
        return len(rows)

    # ---- column streams for monitoring, scoring and alerts ----------------------------------

    def stats_rows(self, since: datetime, until: datetime, prompt: str | None) -> Iterator[Any]:
        """(prompt, version, started_at, error, passed, latency_ms, tokens_in, tokens_out,
        cost) of the traces started in [since, until), streamed."""
        query = select(
            _T.c.prompt,
            _T.c.version,
            _T.c.started_at,
            _T.c.error,
            _T.c.passed,
            _T.c.latency_ms,
            _T.c.tokens_in,
            _T.c.tokens_out,
            _T.c.cost,
        ).where(_T.c.started_at >= since, _T.c.started_at < until)
        if prompt is not None:
            query = query.where(_T.c.prompt == prompt)
        with self._engine.connect() as conn:
            yield from conn.execution_options(yield_per=5000).execute(query)

    def window_rows(self, start: datetime, end: datetime, prompt: str | None) -> Iterator[Any]:
        """(prompt, started_at, inputs, passed) of the traces of a prompt in [start, end)."""
        query = select(_T.c.prompt, _T.c.started_at, _T.c.inputs, _T.c.passed).where(
            _T.c.started_at >= start, _T.c.started_at < end, _T.c.prompt.is_not(None)
        )
        if prompt is not None:
            query = query.where(_T.c.prompt == prompt)
        with self._engine.connect() as conn:
            yield from conn.execution_options(yield_per=5000).execute(query)

    def unscored(self, prompt: str | None, since: Any) -> list[dict[str, Any]]:
        """The traces online scoring may score: a prompt, an output, no error, no score yet."""
        query = select(
            _T.c.id,
            _T.c.trace_id,
            _T.c.span_id,
            _T.c.prompt,
            _T.c.model,
            _T.c.inputs,
            _T.c.output,
            _T.c.latency_ms,
            _T.c.cost,
            _T.c.meta,
        ).where(
            _T.c.scored_at.is_(None),
            _T.c.prompt.is_not(None),
            _T.c.output.is_not(None),
            _T.c.error.is_(None),
        )
        if prompt is not None:
            query = query.where(_T.c.prompt == prompt)
        if since is not None:
            query = query.where(_T.c.started_at >= since)
        query = query.order_by(_T.c.id)
        with self._engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]
