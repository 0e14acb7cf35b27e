"""Optimizer pages: the optimizations, and one's search history, its score against calls
spent (the optimize report's own chart data, drawn as inline SVG), the winner's lineage and
its diff from the starting prompt."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from ..errors import UserError
from .common import READ, error_page
from .i18n import comparison_words, lang_of
from .render import page
from .urls import PREFIX

if TYPE_CHECKING:
    from ..server.deps import Principal

router = APIRouter(prefix=PREFIX, include_in_schema=False)
SCAN = 500  # runs of a kind listed, newest first


@router.get("/optimize", response_class=HTMLResponse)
def optimizations(request: Request, principal: Principal = READ) -> HTMLResponse:
    from ..api import optimizations as stored

    return page(
        request,
        "optimize_list.html.j2",
        principal,
        section="optimize",
        optimizations=stored(principal.api, SCAN),
    )


@router.get("/optimize/{run_id}", response_class=HTMLResponse)
def optimization(request: Request, run_id: str, principal: Principal = READ) -> HTMLResponse:
    from ..api import optimization as stored

    project = principal.api
    try:
        done = stored(project, run_id)
    except UserError as exc:
        return error_page(request, principal, exc, status=404, section="optimize")
    lang = lang_of(request)
    return page(
        request,
        "optimize.html.j2",
        principal,
        section="optimize",
        info=done.run,
        plan=done.run.plan,
        result=done.result,
        comparison=held_out_words(done.result, lang),
        improved=done.improved,
        history=done.history,
        chart=done.chart(lang_of(request)),
        diff=done.diff(project),
    )


def held_out_words(result: dict[str, Any] | None, lang: str) -> str:
    """The held-out comparison in words, in the page's language: made again from the stored
    figures (stored in English; outcomes stored before the figures held the discordant
    counts keep their English sentence)."""
    c = (result or {}).get("test_comparison")
    if not c:
        return ""
    if lang != "fr" or "only_start" not in c:
        return str(c.get("words", ""))
    from ..i18n import translate
    from ..stats import Interval, PairedComparison

    d = c["difference"]
    return comparison_words(
        PairedComparison(
            a=translate("start", lang),
            b=translate("optimized", lang),
            cases=c["cases"],
            rate_a=c["rate_start"],
            rate_b=c["rate_best"],
            difference=Interval(d["estimate"], d["low"], d["high"]),
            only_a=c["only_start"],
            only_b=c["only_best"],
            p_value=c["p_value"],
        ),
        lang,
    )
