"""Probe pages: probe runs, and one's failure rates per category with intervals, the worst
examples and the bias gaps per attribute — from the report the probe run stored."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from ..errors import UserError
from .common import READ, error_page
from .pages_optimize import SCAN
from .render import page
from .urls import PREFIX

if TYPE_CHECKING:
    from ..server.deps import Principal

router = APIRouter(prefix=PREFIX, include_in_schema=False)
WORST = 10
_SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


@router.get("/probes", response_class=HTMLResponse)
def probe_runs(request: Request, principal: Principal = READ) -> HTMLResponse:
    rows = principal.api.runs(SCAN, kind="probe")
    return page(request, "probes_list.html.j2", principal, section="probes", runs=rows)


def worst_findings(report: dict[str, Any], n: int = WORST) -> list[dict[str, Any]]:
    """The most severe findings first, then the lowest graded (a judge's score)."""
    found = [f for o in report.get("outcomes", []) for f in o.get("findings", [])]
    found.sort(
        key=lambda f: (
            _SEVERITY_RANK.get(f.get("severity"), 9),
            f.get("score") is None,
            f.get("score") or 0.0,
        )
    )
    return found[:n]


def bias_gaps(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per bias probe (one attribute each): pass rate per group and the largest gap."""
    out = []
    for o in report.get("outcomes", []):
        stats = o.get("stats") or {}
        if o.get("category") != "bias" or not ("groups" in stats or "gap" in stats):
            continue
        out.append(
            {
                "probe": o["probe"],
                "model": o["model"],
                "groups": stats.get("groups", {}),
                "gap": stats.get("gap"),
                "several": len(stats.get("comparisons", [])) > 1,
            }
        )
    return out


@router.get("/probes/{run_id}", response_class=HTMLResponse)
def probe_run(request: Request, run_id: str, principal: Principal = READ) -> HTMLResponse:
    from ..api import probe_report

    try:
        stored = probe_report(principal.api, run_id)
    except UserError as exc:
        return error_page(request, principal, exc, status=404, section="probes")
    report = stored.report
    return page(
        request,
        "probes.html.j2",
        principal,
        section="probes",
        info=stored.run,
        report=report,
        worst=worst_findings(report) if report else [],
        gaps=bias_gaps(report) if report else [],
    )
