"""Reading and writing the probes' tables (store/tables.py, migration 0003): the findings of a
probe run, with their evidence, and the report built from them (rendered again by `show`)."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select

from ..store.tables import ProbeFinding, ProbeReport, utcnow

if TYPE_CHECKING:
    from ..store import Store
    from ._base import Finding


def plain(value: Any) -> Any:
    """JSON-safe data: NaN and infinities become None (PostgreSQL's JSON refuses them, and
    no reader of a report should have to guess what NaN meant)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def save_findings(
    store: Store, run_id: str, findings: list[Finding], report: dict[str, Any]
) -> None:
    """Replace the run's findings and report (a resumed run is analysed again, whole)."""
    rows = [plain({**asdict(f), "run_id": run_id}) | {"created_at": utcnow()} for f in findings]
    with store.engine.begin() as conn:
        conn.execute(delete(ProbeFinding).where(ProbeFinding.run_id == run_id))
        conn.execute(delete(ProbeReport).where(ProbeReport.run_id == run_id))
        if rows:
            conn.execute(ProbeFinding.__table__.insert(), rows)
        conn.execute(
            ProbeReport.__table__.insert(),
            [{"run_id": run_id, "report": plain(report), "created_at": utcnow()}],
        )


def load_report(store: Store, run_id: str) -> dict[str, Any] | None:
    with store.engine.connect() as conn:
        value = conn.execute(
            select(ProbeReport.report).where(ProbeReport.run_id == run_id)
        ).scalar_one_or_none()
    return dict(value) if value is not None else None


def count_findings(store: Store, run_id: str) -> int:

    with store.engine.connect() as conn:
        return int(
            conn.execute(select(func.count()).where(ProbeFinding.run_id == run_id)).scalar_one()
        )
