"""Traces in the store: batch insert, queries with filters and keyset pagination, scores and
flags. Functions over a `Store`; Core statements (not ORM objects) on the hot paths."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from ..errors import UserError
from ..store import utcnow
from ..store.traces import STATUSES, TraceFilter
from .model import TraceIn, TraceRecord, new_span_id, new_trace_id, utc
from .scrub import scrub_text, scrub_value

if TYPE_CHECKING:
    from ..store import Store

Status = Literal["failing", "passing", "error", "scored", "unscored", "flagged"]
__all__ = ["STATUSES", "TraceFilter"]


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
    return store.traces.insert([to_row(t, now) for t in traces])


# ---- reading --------------------------------------------------------------------------------


def _record(row: dict[str, Any]) -> TraceRecord:
    data = dict(row)
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
    found, more = store.traces.page(where, limit=limit, before=before)
    rows = [_record(r) for r in found]
    return TracePage(rows, rows[-1].id if more and rows else None)


def iter_traces(store: Store, where: TraceFilter | None = None) -> Iterator[TraceRecord]:
    """Every matching trace, oldest first, streamed."""
    for row in store.traces.iter(where):
        yield _record(row)


def get_trace(store: Store, ref: int | str) -> TraceRecord:
    """A trace by its row id, or by its trace id (the first span of it)."""
    row = store.traces.get(ref)
    if row is None:
        raise UserError(f"no trace {str(ref).strip()!r}", hint="see: prompteur traces list")
    return _record(row)


def set_scores(
    store: Store, scored: Iterable[tuple[int, list[dict[str, Any]], bool | None, float | None]]
) -> int:
    """Store online scores on traces: (row id, scores, passed, score) each; returns how many
    traces were updated."""
    now = utcnow()
    params = [
        {"_id": i, "scores": scrub_value(sc), "passed": p, "score": v, "scored_at": now}
        for i, sc, p, v in scored
    ]
    return store.traces.set_scores(params)


def set_flag(store: Store, ids: list[int], flagged: bool = True, note: str | None = None) -> int:
    """Flag traces (a person or a client said "this one is wrong")."""
    return store.traces.flag(ids, flagged, scrub_text(note) if note else None)
