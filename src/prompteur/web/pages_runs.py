"""Run pages: the list of runs; a run's summary with intervals, the blind A/B verdicts people
gave on its variants, its matrix of cases × variants with filters and pagination; the paired
comparison of two variants or two runs, in words."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from .. import report
from ..errors import UserError
from .common import READ, error_page
from .i18n import lang_of
from .render import page
from .runs_query import (
    SHOWS,
    graded,
    parse_variant,
    pass_fail_only,
    variant_label,
)
from .urls import PREFIX

if TYPE_CHECKING:
    from ..server.deps import Principal

router = APIRouter(prefix=PREFIX, include_in_schema=False)
PER_PAGE = (25, 50, 100, 200)


@router.get("/runs", response_class=HTMLResponse)
def runs(request: Request, principal: Principal = READ) -> HTMLResponse:
    rows = principal.api.runs(200)
    return page(request, "runs.html.j2", principal, section="runs", runs=rows)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request,
    run_id: str,
    show: str = "all",
    q: str = "",
    page_no: int = Query(1, alias="page", ge=1, le=1_000_000),
    per: int = 50,
    v: list[str] = Query(default_factory=list),
    principal: Principal = READ,
) -> HTMLResponse:
    store, project = principal.store, principal.api
    try:
        info = project.run(run_id)
        if show not in SHOWS:
            raise UserError(f"unknown filter '{show}'", field="show", hint=", ".join(SHOWS))
    except UserError as exc:
        return error_page(request, principal, exc, status=404, section="runs")
    known = store.pages.variants(info.id)
    chosen = [x for x in (parse_variant(s, known) for s in v) if x is not None] or known
    per = per if per in PER_PAGE else 50
    grid = store.pages.matrix(
        info.id, chosen, show=show, text=q.strip(), page=page_no, per_page=per
    )
    records = store.pages.light(info.id)
    summaries = report.summarise(records, worst=0)
    # Pass/fail here, for speed; the compare page adds the score test when scores are graded.
    wanted = set(chosen)
    comparisons = report.paired(
        pass_fail_only([r for r in records if (r.prompt, r.version, r.model) in wanted])
    )
    from ..review import run_preferences

    return page(
        request,
        "run.html.j2",
        principal,
        section="runs",
        info=info,
        kind=info.kind.value,
        summaries=summaries,
        comparisons=comparisons,
        preferences=run_preferences(store, info.id, lang_of(request)),
        scores_graded=graded(records),
        known=known,
        chosen=chosen,
        labels=[variant_label(x) for x in chosen],
        grid=grid,
        show=show,
        q=q,
        per=per,
        per_page_choices=PER_PAGE,
        shows=SHOWS,
        other_runs=[r for r in project.runs(50) if r.id != info.id],
    )


@router.get("/runs/{run_id}/compare", response_class=HTMLResponse)
def compare(
    request: Request,
    run_id: str,
    a: str = "",
    b: str = "",
    other: str = "",
    principal: Principal = READ,
) -> HTMLResponse:
    """Two variants of one run (`a`, `b`: their indices), or this run against `other` —
    the same paired test as `prompteur compare`."""
    store = principal.store
    try:
        project = principal.api
        info = project.run(run_id)
        if other:
            second = project.run(other)
            # Label each run's variants by run, so the same prompt in both stays apart.
            records = [
                replace(r, prompt=f"{r.prompt} [{info.id[-6:]}]")
                for r in store.pages.light(info.id)
            ] + [
                replace(r, prompt=f"{r.prompt} [{second.id[-6:]}]")
                for r in store.pages.light(second.id)
            ]
            title = f"{info.id} ↔ {second.id}"
        else:
            known = store.pages.variants(info.id)
            va, vb = parse_variant(a, known), parse_variant(b, known)
            if va is None or vb is None:
                raise UserError("choose two variants of the run", field="a" if va is None else "b")
            if va == vb:
                raise UserError("the two variants are the same", field="b")
            # The baseline first: report.paired compares every variant with the first seen.
            records = store.pages.light(info.id, [va])
            records += store.pages.light(info.id, [vb])
            title = f"{variant_label(va)} ↔ {variant_label(vb)}"
    except UserError as exc:
        return error_page(request, principal, exc, section="runs")
    comparisons = report.paired(records if graded(records) else pass_fail_only(records))
    return page(
        request,
        "compare.html.j2",
        principal,
        section="runs",
        info=info,
        title=title,
        summaries=report.summarise(records, worst=0),
        comparisons=comparisons,
    )
