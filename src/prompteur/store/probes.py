"""The probes' tables (migration 0003): a probe run's findings with their evidence, the report
built from them (rendered again by `show`), and the judges' calibrations against human labels.
Values arrive JSON-safe (prompteur.probes makes them so)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select

from .tables import JudgeCalibration, ProbeFinding, ProbeReport, utcnow

if TYPE_CHECKING:
    from .db import Store


class ProbeRepository:
    """`store.probes`."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def save(self, run_id: str, findings: list[dict[str, Any]], report: dict[str, Any]) -> None:
        """Replace the run's findings and report (a resumed run is analysed again, whole)."""
        now = utcnow()
        rows = [{**f, "run_id": run_id, "created_at": now} for f in findings]
        with self._store.engine.begin() as conn:
            conn.execute(delete(ProbeFinding).where(ProbeFinding.run_id == run_id))
            conn.execute(delete(ProbeReport).where(ProbeReport.run_id == run_id))
            if rows:
                conn.execute(ProbeFinding.__table__.insert(), rows)
            conn.execute(
                ProbeReport.__table__.insert(),
                [{"run_id": run_id, "report": report, "created_at": now}],
            )

    def report(self, run_id: str) -> dict[str, Any] | None:
        with self._store.engine.connect() as conn:
            value = conn.execute(
                select(ProbeReport.report).where(ProbeReport.run_id == run_id)
            ).scalar_one_or_none()
        return dict(value) if value is not None else None

    def count(self, run_id: str) -> int:
        with self._store.engine.connect() as conn:
            return int(
                conn.execute(select(func.count()).where(ProbeFinding.run_id == run_id)).scalar_one()
            )

    # ---- judges' calibrations ----------------------------------------------------------------

    def save_calibration(self, **row: Any) -> int:
        """Store one calibration (JudgeCalibration's columns); returns its id."""
        with self._store.session() as s:
            entry = JudgeCalibration(**row)
            s.add(entry)
            s.flush()
            return int(entry.id)

    def calibrations(self, judge: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Stored calibrations, newest first, as column → value."""
        t = JudgeCalibration
        query = select(t).order_by(t.created_at.desc(), t.id.desc()).limit(limit)
        if judge:
            query = query.where(t.judge == judge)
        names = [c.name for c in t.__table__.columns]
        with self._store.session() as s:
            return [{n: getattr(r, n) for n in names} for r in s.scalars(query)]
