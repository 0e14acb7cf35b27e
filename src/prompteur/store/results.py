"""A run's results as the server and the web interface page through them: the run list with
counts, one page of results, the run's variants, its matrix (cases × variants) filtered and
paginated in SQL, and light records (the scalar columns a summary reads).

A run of 10,000 results must open in well under a second: the filters (failures, passes,
changed between variants, text) are HAVING clauses over (case, repeat) groups, only one page
of rows is read whole, and the summary never reads inputs, outputs or checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, and_, case, cast, func, or_, select

from ..records import ResultRecord
from .tables import Result, Run

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from .db import RunInfo, Store

Variant = tuple[str, str, str]  # (prompt, version, model)

T = Result.__table__
SHOWS = ("all", "failures", "passes", "changed")
# 0 pass, 1 fail (or not judged, as in the HTML report), 2 error: one number per cell, so that
# "any failure" is max > 0 and "changed" is min != max.
STATE = case((T.c.error.is_not(None), 2), (T.c.passed.is_(True), 0), else_=1)
STATE_NAMES = ("pass", "fail", "error")


@dataclass
class Cell:
    state: str
    output: str | None
    error: str | None
    score: float | None
    checks: list[dict[str, Any]]
    latency_s: float | None
    cached: bool


@dataclass
class Row:
    case_id: str
    repeat: int
    inputs: dict[str, Any]
    expected: Any
    cells: list[Cell | None] = field(default_factory=list)


@dataclass
class MatrixPage:
    variants: list[Variant]
    rows: list[Row]
    matching: int  # rows matching the filters, over all pages
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.matching // self.per_page))


def variants(engine: Engine, run_id: str) -> list[Variant]:
    """The run's variants (prompt, version, model) in the order they first appear."""
    query = (
        select(T.c.prompt, T.c.version, T.c.model, func.min(T.c.id).label("first"))
        .where(T.c.run_id == run_id)
        .group_by(T.c.prompt, T.c.version, T.c.model)
        .order_by("first")
    )
    with engine.connect() as conn:
        return [(p, v, m) for p, v, m, _ in conn.execute(query)]


def _among(chosen: Sequence[Variant]) -> Any:
    return or_(*(and_(T.c.prompt == p, T.c.version == v, T.c.model == m) for p, v, m in chosen))


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matrix(
    engine: Engine,
    run_id: str,
    chosen: Sequence[Variant],
    *,
    show: str = "all",
    text: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> MatrixPage:
    """One page of rows (case, repeat) × the chosen variants, with the filters applied."""
    where = [T.c.run_id == run_id]
    if chosen:
        where.append(_among(chosen))
    groups = (
        select(T.c.case_id, T.c.repeat, func.min(T.c.id).label("first"))
        .where(*where)
        .group_by(T.c.case_id, T.c.repeat)
    )
    if show == "failures":
        groups = groups.having(func.max(STATE) > 0)
    elif show == "passes":
        groups = groups.having(func.max(STATE) == 0)
    elif show == "changed":
        groups = groups.having(func.min(STATE) != func.max(STATE))
    if text:
        pattern = _like(text)
        hit = or_(
            T.c.case_id.ilike(pattern, escape="\\"),
            T.c.output.ilike(pattern, escape="\\"),
            T.c.error.ilike(pattern, escape="\\"),
            cast(T.c.inputs, String).ilike(pattern, escape="\\"),
            cast(T.c.expected, String).ilike(pattern, escape="\\"),
        )
        groups = groups.having(func.max(case((hit, 1), else_=0)) == 1)
    counted = select(func.count()).select_from(groups.subquery())
    page = max(1, page)
    keyed = groups.order_by("first").limit(per_page).offset((page - 1) * per_page)
    with engine.connect() as conn:
        matching = int(conn.execute(counted).scalar_one())
        keys = [(c, int(r)) for c, r, _ in conn.execute(keyed)]
        rows: dict[tuple[str, int], Row] = {}
        if keys:
            column = {v: i for i, v in enumerate(chosen)}
            wanted = set(keys)
            full = select(
                T.c.prompt,
                T.c.version,
                T.c.model,
                T.c.case_id,
                T.c.repeat,
                T.c.inputs,
                T.c.expected,
                T.c.output,
                T.c.error,
                T.c.passed,
                T.c.score,
                T.c.checks,
                T.c.latency_s,
                T.c.cached,
            ).where(*where, T.c.case_id.in_(sorted({c for c, _ in keys})))
            rows = {k: Row(k[0], k[1], {}, None, [None] * len(chosen)) for k in keys}
            for r in conn.execute(full):
                key = (r.case_id, int(r.repeat))
                col = column.get((r.prompt, r.version, r.model))
                if key not in wanted or col is None:
                    continue
                row = rows[key]
                row.inputs, row.expected = dict(r.inputs or {}), r.expected
                state = 2 if r.error is not None else (0 if r.passed is True else 1)
                row.cells[col] = Cell(
                    STATE_NAMES[state],
                    r.output,
                    r.error,
                    r.score,
                    list(r.checks or []),
                    r.latency_s,
                    bool(r.cached),
                )
    return MatrixPage(list(chosen), [rows[k] for k in keys], matching, page, per_page)


LIGHT = (
    "prompt",
    "version",
    "model",
    "case_id",
    "repeat",
    "passed",
    "score",
    "latency_s",
    "input_tokens",
    "output_tokens",
    "cost",
    "error",
    "cached",
    "queue_s",
    "enforcement",
)


def light_records(
    engine: Engine, run_id: str, chosen: Sequence[Variant] | None = None
) -> list[ResultRecord]:
    """The run's results without inputs, outputs or checks: what `report.summarise` and
    `report.paired` read, at a fraction of the cost of whole rows."""
    where = [T.c.run_id == run_id]
    if chosen:
        where.append(_among(chosen))
    query = select(*(T.c[c] for c in LIGHT)).where(*where).order_by(T.c.id)
    out = []
    with engine.connect() as conn:
        for r in conn.execute(query):
            out.append(
                ResultRecord(
                    r.prompt,
                    r.version,
                    r.model,
                    r.case_id,
                    int(r.repeat),
                    {},
                    None,
                    None,
                    r.passed,
                    r.score,
                    [],
                    r.latency_s,
                    r.input_tokens or 0,
                    r.output_tokens or 0,
                    r.cost,
                    r.error,
                    bool(r.cached),
                    queue_s=r.queue_s,
                    enforcement=r.enforcement,
                )
            )
    return out


class ResultQueries:
    """`store.pages`: what the server's run routes and the web's run pages read."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def runs(self, offset: int, limit: int) -> tuple[list[RunInfo], bool]:
        """A page of runs, newest first, with their counts; and whether more follow."""
        store = self._store
        with store.session() as s:
            rows = list(
                s.scalars(
                    select(Run)
                    .order_by(Run.created_at.desc(), Run.id)
                    .offset(offset)
                    .limit(limit + 1)
                )
            )
        return store._with_counts(rows[:limit]), len(rows) > limit

    def results(
        self, run_id: str, columns: Sequence[str], offset: int, limit: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """How many results the run has, and one page of them (the given columns), in the
        order they were stored."""
        t = Result.__table__
        with self._store.engine.connect() as conn:
            total = conn.execute(
                select(func.count()).select_from(t).where(t.c.run_id == run_id)
            ).scalar_one()
            rows = conn.execute(
                select(*(t.c[name] for name in columns))
                .where(t.c.run_id == run_id)
                .order_by(t.c.id)
                .offset(offset)
                .limit(limit)
            ).all()
        return int(total), [dict(row._mapping) for row in rows]

    def variants(self, run_id: str) -> list[Variant]:
        return variants(self._store.engine, run_id)

    def matrix(self, run_id: str, chosen: Sequence[Variant], **kw: Any) -> MatrixPage:
        return matrix(self._store.engine, run_id, chosen, **kw)

    def light(self, run_id: str, chosen: Sequence[Variant] | None = None) -> list[ResultRecord]:
        return light_records(self._store.engine, run_id, chosen)
