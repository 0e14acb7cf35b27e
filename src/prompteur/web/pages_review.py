"""The review pages: the queues with their progress, a queue's figures (agreement between
reviewers, the blind A/B verdict, the items reviewers disagree on), and the keyboard-first
page where one item is labelled (1–9 choose, j/k or n/p move, c comments, e corrects, s
skips), and the button that turns reviewed failures into suite cases. Every page works
without the script; labelling needs the `review` scope, adding cases to a suite `write`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..errors import UserError
from ..server.deps import require
from .auth import read_form
from .common import READ, WRITE, error_page
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


def _selector(known: list[tuple[str, str, str]], index: str) -> str:
    """How `review.preference_queue` selects the run's variant at `index` (a form value):
    prompt@version when that names it alone, else its model."""
    from .runs_query import parse_variant

    v = parse_variant(index, known)
    if v is None:
        raise UserError("choose two variants of the run", field="a")
    prompt, version, model = v
    if sum(1 for k in known if k[:2] == (prompt, version)) == 1:
        return f"{prompt}@{version}"
    if sum(1 for k in known if k[2] == model) == 1:
        return model
    raise UserError(
        "this variant differs from the others by neither its version nor its model alone",
        field="a",
        hint="make the A/B queue with prompteur review pair --run RUN-B",
    )


@router.post("/review")
async def review_create(request: Request, principal: Principal = WRITE) -> Response:
    """A queue made from a run (the run page's forms): a review of its results, or a blind
    A/B queue of two of its variants; the same function as `POST /v1/review/queues`."""
    from starlette.concurrency import run_in_threadpool

    form = await read_form(request)

    def make() -> str:
        from pydantic import ValidationError

        from ..server.routes_review import QueueIn, make_queue

        if not (form.get("run") or "").strip():
            raise UserError("choose the run to review", field="run")
        run = principal.store.get_run(form["run"].strip())
        fields: dict[str, Any] = {"name": form.get("name") or "", "run": run.id}
        fields["kind"] = "preference" if form.get("kind") == "preference" else "label"
        if fields["kind"] == "preference":
            known = principal.store.pages.variants(run.id)
            fields["a"] = _selector(known, form.get("a") or "")
            fields["b"] = _selector(known, form.get("b") or "")
        else:
            fields["select"] = form.get("select") or "all"
            fields["blind"] = form.get("blind") == "on"
        for name in ("size", "reviewers", "seed"):
            if (form.get(name) or "").strip():
                fields[name] = form[name].strip()
        try:
            body = QueueIn(**fields)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            raise UserError(f"{where}: {first['msg']}", field=where) from None
        return _url(make_queue(principal, body))

    try:
        target = await run_in_threadpool(make)
    except UserError as exc:
        return error_page(request, principal, exc, status=400, section="review")
    return RedirectResponse(target, 303)


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
    can_add = q["kind"] != "preference" and "write" in principal.scopes
    suites, first = _suites(principal, q) if can_add else ([], None)
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
        suites=suites,
        first_suite=first,
        to_cases=_url(q) + "/cases",
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


def _suites(principal: Principal, q: dict[str, Any]) -> tuple[list[str], str | None]:
    """The project's suites a queue's items may be added to, and the one to offer first: the
    suite of the run the queue was made from, when it is one of them."""
    from ..suite_cases import project_suites

    names = list(project_suites(principal.config))
    suite = None
    if q["source"] == "run" and q["ref"]:
        try:
            suite = principal.store.get_run(q["ref"]).suite
        except UserError:
            suite = None
    first = next((n for n in names if suite and suite.replace("\\", "/").endswith(n)), None)
    return names, first


# Declared before the label route: "cases" would otherwise be read as an item's position.
@router.post("/review/{queue}/cases")
async def review_to_cases(request: Request, queue: str, principal: Principal = WRITE) -> Response:
    """Reviewed failures and corrections (or one item) become cases of a suite of the project,
    chosen by name among them: the same function as `prompteur review to-cases`. It writes a
    project file, so it needs `write`; a `review` key labels only."""
    from starlette.concurrency import run_in_threadpool

    form = await read_form(request)

    def add() -> str:
        from urllib.parse import urlencode

        from .. import review
        from ..suite_cases import project_suites

        q = _queue(principal, queue)
        chosen = form.get("suite") or ""
        suites = project_suites(principal.config)
        if chosen not in suites:
            raise UserError(
                f"no suite '{chosen[:200]}' in the project's suites folder",
                field="suite",
                hint="choose one of the list",
            )
        item = (form.get("position") or "").strip()
        positions = None
        if item:
            if not item.isdigit() or not 1 <= int(item) <= 1_000_000:
                raise UserError(f"'{item[:20]}' is not an item's position", field="position")
            positions = {int(item)}
        result = review.to_cases(
            principal.store,
            q,
            suites[chosen],
            only=form.get("only") or "failures",
            positions=positions,
        )
        done = {"added": len(result.added), "already": result.duplicates, "suite": chosen}
        return _url(q) + "?" + urlencode(done) + "#to-cases"

    try:
        target = await run_in_threadpool(add)
    except UserError as exc:
        return error_page(request, principal, exc, status=400, section="review")
    return RedirectResponse(target, 303)


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
