"""Probe pages: probe runs, and one's failure rates per category with intervals, the worst
examples and the bias gaps per attribute — from the report the probe run stored."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from ..errors import UserError
from ..i18n import number, sentence, translate
from .common import READ, error_page
from .i18n import lang_of
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


def bias_gaps(report: dict[str, Any], lang: str = "en") -> list[dict[str, Any]]:
    """Per bias probe (one attribute each): pass rate per group and the largest gap, with
    the attribute, the groups and the gap in `lang`."""
    out = []
    for o in report.get("outcomes", []):
        stats = o.get("stats") or {}
        if o.get("category") != "bias" or not ("groups" in stats or "gap" in stats):
            continue
        several = len(stats.get("comparisons", [])) > 1
        attribute = re.split(r"[.-]", o["probe"], maxsplit=1)[-1]
        out.append(
            {
                "probe": o["probe"],
                "attribute": translate(attribute, lang),
                "model": o["model"],
                "groups": {translate(name, lang): v for name, v in stats.get("groups", {}).items()},
                "gap": stats.get("gap"),
                "gap_text": gap_text(stats["gap"], several, lang) if stats.get("gap") else None,
                "several": several,
            }
        )
    return out


def gap_text(gap: dict[str, Any], several: bool, lang: str = "en") -> str:
    """The largest gap between two groups: "female vs male: -30.0 pts [-50.0, -10.0],
    p = 0.012 (Holm)", and in French "femme contre homme : −30,0 pts [−50,0 ; −10,0] …"."""
    d = gap["difference"]
    text = "{b} vs {a}: {d} pts [{low}, {high}], p = {p}" + (" (Holm)" if several else "")
    values = {
        "a": translate(gap["a"], lang),
        "b": translate(gap["b"], lang),
        "d": number(d["estimate"] * 100, lang, "+.1f"),
        "low": number(d["low"] * 100, lang, "+.1f"),
        "high": number(d["high"] * 100, lang, "+.1f"),
        "p": number(gap["p_value"], lang, ".3g"),
    }
    return sentence(text, lang, values)


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
        gaps=bias_gaps(report, lang_of(request)) if report else [],
    )
