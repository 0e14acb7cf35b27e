"""The review pages: the queues with their progress, a queue's figures (agreement between
reviewers, the blind A/B verdict, the items reviewers disagree on), and the keyboard-first
page where one item is labelled (1–9 choose, j/k or n/p move, c comments, e corrects, s
skips). Every page works without the script; labelling needs the `review` scope."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..errors import UserError
from ..server.deps import require
from .auth import read_form
from .common import READ, error_page
from .i18n import lang_of
from .render import page
from .urls import PREFIX

if TYPE_CHECKING:
    from ..server.deps import Principal

router = APIRouter(prefix=PREFIX, include_in_schema=False)
REVIEW = Depends(require("review"))
# Bounded: a huge number would overflow the database's integer, not just find nothing.
Position = Annotated[int, PathParam(ge=1, le=1_000_000)]


def _queue(principal: Principal, name: str) -> dict[str, Any]:
    from .. import review

    return review.queue(principal.store, name)


def _url(q: dict[str, Any], position: int | None = None) -> str:
    from urllib.parse import quote

    base = f"{PREFIX}/review/{quote(q['name'], safe='')}"
    return base if position is None else f"{base}/{position}"


@router.get("/review", response_class=HTMLResponse)
def review_list(request: Request, principal: Principal = READ) -> HTMLResponse:
    queues = principal.store.reviews.queues()
    return page(
        request, "review_list.html.j2", principal, section="review", queues=queues, url=_url
    )


@router.get("/review/{queue}", response_class=HTMLResponse)
def review_queue(request: Request, queue: str, principal: Principal = READ) -> HTMLResponse:
    from .. import review
    from ..server.routes_review import reviewer

    try:
        q = _queue(principal, queue)
    except UserError as exc:
        return error_page(request, principal, exc, status=404, section="review")
    lang = lang_of(request)
    summary = review.summary(principal.store, q, lang)
    me = reviewer(principal)
    start = principal.store.reviews.next_position(q["id"], me) or 1
    return page(
        request,
        "review_queue.html.j2",
        principal,
        section="review",
        q=q,
        s=summary,
        score=review.score_of(q),
        disagreements=review.disagreements(principal.store, q),
        start=_url(q, start),
        url=_url,
        me=me,
        lang_=lang,
    )


def _pretty(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2)


@router.get("/review/{queue}/{position}", response_class=HTMLResponse)
def review_item(
    request: Request, queue: str, position: Position, principal: Principal = READ
) -> HTMLResponse:
    from .. import review
    from ..server.routes_review import reviewer

    try:
        q = _queue(principal, queue)
        item = principal.store.reviews.item(q["id"], position, reviewer(principal))
    except UserError as exc:
        return error_page(request, principal, exc, status=404, section="review")
    score = review.score_of(q)
    lang = lang_of(request)
    return page(
        request,
        "review_item.html.j2",
        principal,
        section="review",
        q=q,
        item=item,
        score=score,
        description=score.describe(lang),
        show_verdict=not q["blind"] and q["kind"] != "preference",
        previous=_url(q, position - 1) if position > 1 else None,
        next=_url(q, position + 1) if position < item["count"] else None,
        action=_url(q, position),
        back=_url(q),
        pretty=_pretty,
        saved=request.query_params.get("saved") == "1",
    )


@router.post("/review/{queue}/{position}")
async def review_label(
    request: Request, queue: str, position: Position, principal: Principal = REVIEW
) -> Response:
    from starlette.concurrency import run_in_threadpool

    form = await read_form(request)

    def save() -> str:
        from .. import review
        from ..server.routes_review import reviewer

        q = _queue(principal, queue)
        me = reviewer(principal)
        skipped = form.get("skip") == "1"
        review.label(
            principal.store,
            q,
            position,
            me,
            value=None if skipped else (form.get("value") or None),
            comment=form.get("comment") or None,
            correction=form.get("correction") or None,
            skipped=skipped,
        )
        after = principal.store.reviews.next_position(q["id"], me, after=position)
        after = after or principal.store.reviews.next_position(q["id"], me)
        return _url(q, after) if after else _url(q) + "?done=1"

    try:
        target = await run_in_threadpool(save)
    except UserError as exc:
        return error_page(request, principal, exc, status=400, section="review")
    return RedirectResponse(target, 303)
