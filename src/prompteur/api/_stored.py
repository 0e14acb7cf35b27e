"""Stored probe runs and optimizations read back: what `prompteur show`, the server and the web
pages show of them, without running anything."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._project import Project

if TYPE_CHECKING:
    from ..store.db import RunInfo


@dataclass(frozen=True)
class StoredProbe:
    """A probe run and the report it stored (None while it runs, or when it stopped early)."""

    run: RunInfo
    report: dict[str, Any] | None


def probe_report(project: Project, run: str) -> StoredProbe:
    """The probe run `run` (an id, a prefix or 'latest') and its report; a run of another kind
    is refused (UserError)."""
    from ..probes.storage import load_report

    info = project.run(run, kind="probe")
    return StoredProbe(info, load_report(project.store, info.id))


@dataclass(frozen=True)
class Optimization:
    """An optimization run read back: its outcome (None until it finished), whether that is a
    held-out improvement, and its search history."""

    run: RunInfo

    @property
    def result(self) -> dict[str, Any] | None:
        return self.run.plan.get("result")

    @property
    def improved(self) -> bool | None:
        """Significantly better on the held-out cases (None: no outcome yet)."""
        from ..optimizer.engine import improved_of

        return improved_of(self.result)

    @property
    def history(self) -> list[dict[str, Any]]:
        return self.run.plan.get("history", [])

    def chart(self, lang: str = "en") -> dict[str, Any]:
        """Each candidate's development score against the calls spent (the report's chart),
        its scale written the way `lang` writes numbers."""
        from ..optimizer.report import chart

        return chart(self.history, self.run.plan.get("settings", {}).get("budget", 0), lang)

    def diff(self, project: Project) -> list[str]:
        """The lines of the unified diff from the starting prompt to the winner (none when the
        start stayed the best or a version is missing from the store)."""
        from ..optimizer.report import winner_diff

        return winner_diff(project.store, self.run.plan)


def optimization(project: Project, run: str) -> Optimization:
    """The optimization `run` (an id, a prefix or 'latest'); a run of another kind is refused."""
    return Optimization(project.run(run, kind="optimize"))


def optimizations(project: Project, limit: int = 20) -> list[Optimization]:
    """The newest optimizations first."""
    return [Optimization(info) for info in project.runs(limit, kind="optimize")]
