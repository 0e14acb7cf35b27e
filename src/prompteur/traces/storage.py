"""Traces in the store: batch insert, queries with filters and keyset pagination, scores and
flags. Functions over a `Store`; Core statements (not ORM objects) on the hot paths."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Select, select, update
from sqlalchemy.exc import OperationalError

from ..errors import UserError
from ..store.tables import utcnow
from ..store.tables_traces import Trace
from .model import TraceIn, TraceRecord, new_span_id, new_trace_id, utc
from .scrub import scrub_text, scrub_value

if TYPE_CHECKING:
    from ..store import Store

Status = Literal["failing", "passing", "error", "scored", "unscored", "flagged"]
STATUSES: tuple[str, ...] = ("failing", "passing", "error", "scored", "unscored", "flagged")

_T = Trace.__table__
_COLUMNS = [c.name for c in _T.columns]


def _insert_ignore(dialect: str) -> Any:
    """INSERT that skips a span already stored (a client retrying a batch it sent)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(_T).on_conflict_do_nothing(index_elements=["trace_id", "span_id"])


def summarise_scores(
    scores: list[dict[str, Any]], threshold: float | None = None
) -> tuple[bool | None, float | None]:
    """Whether a trace passes and its weighted mean score: with a threshold (the suite's),
    passing is a mean score at or above it; without, every verdict passed."""
    weighted = [(s["score"], s.get("weight", 1.0)) for s in scores if s.get("score") is not None]
    total = sum(w for _, w in weighted)
    score = sum(v * w for v, w in weighted) / total if total else None
    if threshold is not None and score is not None:
        return score >= threshold, score
    verdicts = [s["passed"] for s in scores if s.get("passed") is not None]
    if verdicts:
        return all(verdicts), score
    return (score >= 0.5 if score is not None else None), score


def to_row(t: TraceIn, now: datetime) -> dict[str, Any]:
    """The row of a validated trace, secrets removed."""
    meta: dict[str, Any] = dict(t.metadata)
    for k, v in (t.model_extra or {}).items():
        meta.setdefault(k, v)
    if t.expected is not None:
        meta["expected"] = t.expected
    scores = [s.model_dump() for s in t.scores] if t.scores is not None else None
    passed, score = summarise_scores(scores) if scores else (None, None)
    return {
        "trace_id": t.trace_id or new_trace_id(),
        "span_id": t.span_id or new_span_id(),
        "parent_span_id": t.parent_span_id,
        "prompt": t.prompt,
        "version": t.version,
        "label": t.label,
        "model": t.model,
        "operation": t.operation,
        "source": t.source,
        "inputs": scrub_value(t.inputs) if t.inputs else {},
        "output": scrub_text(t.output) if t.output is not None else None,
        "error": scrub_text(t.error) if t.error is not None else None,
        "latency_ms": t.latency_ms,
        "tokens_in": t.tokens_in,
        "tokens_out": t.tokens_out,
        "cost": t.cost,
        "meta": scrub_value(meta, by_name=True) if meta else {},
        "flagged": t.flagged,
        "scores": scrub_value(scores) if scores else None,
        "passed": passed,
        "score": score,
        "scored_at": now if scores else None,
        "started_at": utc(t.started_at) if t.started_at is not None else now,
        "created_at": now,
    }


def record(store: Store, traces: list[TraceIn]) -> int:
    """Insert a batch of traces in one transaction; returns how many were accepted.

    A span already stored (same trace_id and span_id) is skipped, so a client may retry a
    batch safely; it still counts as accepted.
    """
    if not traces:
        return 0
    now = utcnow()
    rows = [to_row(t, now) for t in traces]
    statement = _insert_ignore(store.engine.dialect.name)
    for attempt in range(_DEADLOCK_RETRIES + 1):
        try:
            with store.engine.begin() as conn:
                conn.execute(statement, rows)
        except OperationalError as exc:
            # Two requests carrying the same spans in different orders (a batch retried while
            # its first try still runs) can each wait on the other's row: PostgreSQL aborts one
            # transaction whole, and trying it again skips what the other stored.
            sqlstate = getattr(exc.orig, "sqlstate", None)
            if attempt == _DEADLOCK_RETRIES or sqlstate not in ("40P01", "40001"):
                raise
            continue
        return len(rows)
    raise AssertionError("unreachable")


_DEADLOCK_RETRIES = 3


# ---- reading --------------------------------------------------------------------------------


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
        from sqlalchemy import func

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


def _record(row: Any) -> TraceRecord:
    data = dict(row._mapping)
    data["inputs"] = dict(data["inputs"] or {})
    data["meta"] = dict(data["meta"] or {})
    return TraceRecord(**data)


@dataclass
class TracePage:
    items: list[TraceRecord]
    next_cursor: int | None  # give it back as `before` for the next, older page


def list_traces(
    store: Store, where: TraceFilter | None = None, *, limit: int = 50, before: int | None = None
) -> TracePage:
    """The newest traces first, `limit` at a time (keyset pagination on the id: stable while
    new traces arrive)."""
    query = (where or TraceFilter()).apply(select(_T))
    if before is not None:
        query = query.where(_T.c.id < before)
    query = query.order_by(_T.c.id.desc()).limit(limit + 1)
    with store.engine.connect() as conn:
        rows = [_record(r) for r in conn.execute(query)]
    more = len(rows) > limit
    rows = rows[:limit]
    return TracePage(rows, rows[-1].id if more and rows else None)


def iter_traces(store: Store, where: TraceFilter | None = None) -> Iterator[TraceRecord]:
    """Every matching trace, oldest first, streamed."""
    query = (where or TraceFilter()).apply(select(_T)).order_by(_T.c.id)
    with store.engine.connect() as conn:
        for row in conn.execution_options(yield_per=1000).execute(query):
            yield _record(row)


def get_trace(store: Store, ref: int | str) -> TraceRecord:
    """A trace by its row id, or by its trace id (the first span of it)."""
    query = select(_T)
    text = str(ref).strip()
    if text.isdigit() and len(text) < 16:
        query = query.where(_T.c.id == int(text))
    else:
        query = query.where(_T.c.trace_id == text).order_by(_T.c.id)
    with store.engine.connect() as conn:
        row = conn.execute(query.limit(1)).first()
    if row is None:
        raise UserError(f"no trace {text!r}", hint="see: prompteur traces list")
    return _record(row)


def set_scores(
    store: Store, scored: Iterable[tuple[int, list[dict[str, Any]], bool | None, float | None]]
) -> int:
    """Store online scores on traces: (row id, scores, passed, score) each; returns how many
    traces were updated."""
    from sqlalchemy import bindparam

    now = utcnow()
    params = [
        {"_id": i, "scores": scrub_value(sc), "passed": p, "score": v, "scored_at": now}
        for i, sc, p, v in scored
    ]
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
    with store.engine.begin() as conn:
        conn.execute(stmt, params)
    return len(params)


def set_flag(store: Store, ids: list[int], flagged: bool = True, note: str | None = None) -> int:
    """Flag traces (a person or a client said "this one is wrong")."""
    with store.session() as s:
        rows = list(s.scalars(select(Trace).where(Trace.id.in_(ids))))
        missing = sorted(set(ids) - {r.id for r in rows})
        if missing:  # raised inside the transaction: nothing is changed
            raise UserError(f"no trace {missing[0]}", hint="see: prompteur traces list")
        for row in rows:
            row.flagged = flagged
            if note:
                row.meta = {**row.meta, "note": scrub_text(note)}
    return len(rows)
