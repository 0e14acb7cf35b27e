"""A run's matrix (cases × variants), filtered and paginated in SQL, and its results as light
records for the summary and the paired comparisons.

A run of 10,000 results must open in well under a second: the filters (failures, passes,
changed between variants, text) are HAVING clauses over (case, repeat) groups, only one page
of rows is read whole, and the summary reads the few scalar columns it needs, never the
inputs, outputs or checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, and_, case, cast, func, or_, select

from ..report import Variant, variant_label
from ..runner import ResultRecord
from ..store.tables import Result

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

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
                )
            )
    return out


def graded(records: Sequence[ResultRecord]) -> bool:
    """Whether scores say more than pass/fail (a score strictly between 0 and 1)."""
    return any(r.score is not None and 0.0 < r.score < 1.0 for r in records)


def pass_fail_only(records: Sequence[ResultRecord]) -> list[ResultRecord]:
    """The records without scores, for `report.paired`: its sign-flip permutation test on
    scores runs 10,000 resamples in Python (seconds on a run of 10,000 results), and on
    pass/fail scores it only repeats what McNemar already says."""
    from dataclasses import replace

    return [replace(r, score=None) for r in records]


def parse_variant(text: str, known: Sequence[Variant]) -> Variant | None:
    """A variant from its form value (its index in the run's variants)."""
    try:
        i = int(text)
    except ValueError:
        return None
    return known[i] if 0 <= i < len(known) else None


__all__ = [
    "SHOWS",
    "Cell",
    "MatrixPage",
    "Row",
    "graded",
    "light_records",
    "matrix",
    "parse_variant",
    "pass_fail_only",
    "variant_label",
    "variants",
]
