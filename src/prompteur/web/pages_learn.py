"""The lessons pages: the same lessons, grading and saved progress as `prompteur learn`,
in the browser (the attempt is typed in a form instead of a file)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from ..errors import PrompteurError, UserError
from .auth import read_form
from .common import READ, WRITE, error_page
from .i18n import lang_of
from .render import page
from .urls import PREFIX

if TYPE_CHECKING:
    from ..learn import Lesson, LessonResult
    from ..server.deps import Principal

router = APIRouter(prefix=PREFIX, include_in_schema=False)

# record_attempt reads, changes and rewrites learn.json: two grades finishing together in
# this process must not lose an attempt.
_PROGRESS_LOCK = threading.Lock()


def blocks(text: str) -> list[tuple[str, str]]:
    """A lesson text as paragraphs and indented examples, so the page can show prose as
    prose and examples verbatim: [("p" | "pre", text), …]."""
    out: list[tuple[str, str]] = []
    for chunk in text.strip("\n").split("\n\n"):
        lines = chunk.split("\n")
        if not chunk.strip():
            continue
        if all(line.startswith("    ") or not line.strip() for line in lines):
            out.append(("pre", "\n".join(line[4:] for line in lines)))
        else:
            out.append(("p", chunk.strip()))
    return out


def _lesson_page(
    request: Request,
    principal: Principal,
    lesson: Lesson,
    *,
    text: str,
    status: int = 200,
    error: UserError | None = None,
    result: LessonResult | None = None,
    entry: dict[str, Any] | None = None,
) -> HTMLResponse:
    from ..learn import load_progress

    lang = lang_of(request)
    saved = load_progress(principal.config.state_dir).get(lesson.id, {}) if entry is None else entry
    return page(
        request,
        "learn.html.j2",
        principal,
        status=status,
        section="learn",
        lesson=lesson,
        title=lesson.text("title", lang),
        explanation=blocks(lesson.text("explanation", lang)),
        exercise=blocks(lesson.text("exercise", lang)),
        text=text,
        error=error,
        result=result,
        progress=saved,
    )


@router.get("/learn", response_class=HTMLResponse)
def learn_list(request: Request, principal: Principal = READ) -> HTMLResponse:
    from ..learn import lessons, load_progress

    lang = lang_of(request)
    progress = load_progress(principal.config.state_dir)
    rows = [
        {
            "id": les.id,
            "order": les.order,
            "title": les.text("title", lang),
            "summary": les.text("summary", lang),
            "passed": bool(progress.get(les.id, {}).get("passed")),
            "attempts": int(progress.get(les.id, {}).get("attempts", 0)),
        }
        for les in lessons()
    ]
    return page(request, "learn_list.html.j2", principal, section="learn", rows=rows)


@router.get("/learn/{lesson}", response_class=HTMLResponse)
def learn_lesson(request: Request, lesson: str, principal: Principal = READ) -> HTMLResponse:
    from ..learn import get_lesson

    try:
        les = get_lesson(lesson)
    except UserError as exc:
        return error_page(request, principal, exc, status=404, section="learn")
    return _lesson_page(request, principal, les, text=les.starter)


@router.post("/learn/{lesson}", response_class=HTMLResponse)
async def learn_grade(request: Request, lesson: str, principal: Principal = WRITE) -> HTMLResponse:
    from ..learn import check_text, get_lesson, record_attempt

    try:
        les = get_lesson(lesson)
    except UserError as exc:
        return error_page(request, principal, exc, status=404, section="learn")
    form = await read_form(request)
    text = form.get("text", "")
    lang = lang_of(request)
    config = principal.config
    try:
        # The CLI's grading, with the project's response cache: re-grading an unchanged
        # attempt costs no model call. Named like the CLI's exercise file, so that an error
        # points at the file the learner thinks they are editing.
        result = await run_in_threadpool(
            check_text,
            les,
            text,
            config,
            lang=lang,
            source=les.file,
            cache=principal.store.cache,
        )
    except UserError as exc:
        return _lesson_page(request, principal, les, text=text, status=400, error=exc)
    except PrompteurError as exc:  # a model that cannot run: said, not a stack trace
        return _lesson_page(
            request, principal, les, text=text, status=502, error=UserError(str(exc))
        )

    def record() -> dict[str, Any]:
        with _PROGRESS_LOCK:
            return record_attempt(config.state_dir, les.id, result.passed, result.score)

    entry = await run_in_threadpool(record)
    return _lesson_page(request, principal, les, text=text, result=result, entry=entry)
