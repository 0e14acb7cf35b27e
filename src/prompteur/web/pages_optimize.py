"""Optimizer pages: the optimizations, and one's search history, its score against calls
spent (the optimize report's own chart data, drawn as inline SVG), the winner's lineage and
its diff from the starting prompt."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from ..errors import UserError
from .common import READ, error_page, run_of_kind
from .i18n import lang_of
from .render import page
from .urls import PREFIX

if TYPE_CHECKING:
    from ..server.deps import Principal
    from ..store import Store
    from ..store.db import RunInfo

router = APIRouter(prefix=PREFIX, include_in_schema=False)
SCAN = 500  # runs of a kind listed, newest first


def runs_of_kind(store: Store, kind: str) -> list[RunInfo]:
    return store.runs(SCAN, kind=kind)


@router.get("/optimize", response_class=HTMLResponse)
def optimizations(request: Request, principal: Principal = READ) -> HTMLResponse:
    from ..optimizer.engine import improved_of

    rows = runs_of_kind(principal.store, "optimize")
    return page(
        request,
        "optimize_list.html.j2",
        principal,
        section="optimize",
        runs=rows,
        improved_of=improved_of,
    )


def _diff(store: Store, plan: dict[str, Any]) -> list[str]:
    from ..library import unified_diff
    from ..prompt import parse_prompt

    result = plan.get("result")
    if not result or result["best_version"] == result["start_version"]:
        return []
    a = store.find_version(plan["prompt"], result["start_version"])
    b = store.find_version(plan["prompt"], result["best_version"])
    if a is None or b is None:
        return []
    return unified_diff(
        parse_prompt(a.content, name=a.name),
        parse_prompt(b.content, name=b.name),
        f"start {a.version[:12]}",
        f"optimized {b.version[:12]}",
    ).splitlines()


@router.get("/optimize/{run_id}", response_class=HTMLResponse)
def optimization(request: Request, run_id: str, principal: Principal = READ) -> HTMLResponse:
    from ..optimizer.engine import improved_of
    from ..optimizer.report import chart

    try:
        info = run_of_kind(principal.store, run_id, "optimize", "an optimization")
    except UserError as exc:
        return error_page(request, principal, exc, status=404, section="optimize")
    plan = info.plan
    history = plan.get("history", [])
    return page(
        request,
        "optimize.html.j2",
        principal,
        section="optimize",
        info=info,
        plan=plan,
        result=plan.get("result"),
        improved=improved_of(plan.get("result")),
        history=history,
        chart=chart(history, plan.get("settings", {}).get("budget", 0), lang_of(request)),
        diff=_diff(principal.store, plan),
    )
