"""Reading and writing the probes' tables (through `store.probes`): the findings of a
probe run, with their evidence, and the report built from them (rendered again by `show`)."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

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
    store.probes.save(run_id, [plain(asdict(f)) for f in findings], plain(report))


def load_report(store: Store, run_id: str) -> dict[str, Any] | None:
    return store.probes.report(run_id)


def count_findings(store: Store, run_id: str) -> int:
    return store.probes.count(run_id)
