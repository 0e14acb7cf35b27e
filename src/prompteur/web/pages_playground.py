"""The playground page: edit a prompt, run it on a few cases or the whole suite (the embedded
model unless the prompt or suite names another), save it as a version."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from ..errors import PrompteurError, UserError
from .auth import read_form
from .common import READ, WRITE, error_page
from .render import page
from .urls import PREFIX

if TYPE_CHECKING:
    from ..prompt import Prompt
    from ..server.deps import Principal

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def _form(
    request: Request,
    principal: Principal,
    *,
    name: str,
    text: str,
    cases: str = "3",
    status: int = 200,
    error: UserError | None = None,
    inputs: dict[str, str] | None = None,
    fields: tuple[list[str], dict[str, object]] | None = None,
    **extra: object,
) -> HTMLResponse:
    """The page. `fields` (the inputs to type, and sample values) is parsed here only for a
    GET, which runs in a worker thread; a POST passes what it parsed off the event loop."""
    from .playground import CASE_CHOICES

    prompts = sorted(p.name for p in principal.library.prompts())
    declared, sample = fields if fields is not None else _declared_inputs(text)
    given = sample if inputs is None else inputs
    typed = {k: str(given.get(k, "")) for k in declared}
    return page(
        request,
        "playground.html.j2",
        principal,
        status=status,
        section="playground",
        prompts=prompts,
        name=name,
        text=text,
        cases=cases if cases in CASE_CHOICES else "3",
        case_choices=CASE_CHOICES,
        error=error,
        typed=typed,
        **{"run": None, "records": [], "summaries": [], "saved": None, **extra},
    )


def _declared_inputs(text: str) -> tuple[list[str], dict[str, object]]:
    """The inputs the edited prompt declares (none when it does not parse yet), one field
    each in the page, and its sample values to start from."""
    from ..prompt import parse_prompt

    try:
        return _fields_of(parse_prompt(text))
    except UserError:
        return [], {}


def _fields_of(prompt: Prompt) -> tuple[list[str], dict[str, object]]:
    meta = prompt.meta
    sample = meta.sample if isinstance(meta.sample, dict) else {}
    return list(dict.fromkeys([*meta.inputs, *sample])), sample


@router.get("/playground", response_class=HTMLResponse)
def playground(request: Request, prompt: str = "", principal: Principal = READ) -> HTMLResponse:
    text = ""
    name = prompt
    if not name:
        first = principal.library.prompts()
        name = first[0].name if first else ""
    elif prompt:
        # A name the library does not hold (a path, a typo): said, as a 404.
        try:
            principal.library.get(prompt)
        except UserError as exc:
            return error_page(request, principal, exc, status=404, section="playground")
    if name:
        with contextlib.suppress(UserError):
            found = principal.library.get(name)
            name, text = found.name, found.text
    return _form(request, principal, name=name, text=text)


@router.post("/playground", response_class=HTMLResponse)
async def playground_post(request: Request, principal: Principal = WRITE) -> HTMLResponse:
    from .. import report
    from ..api import try_prompt
    from .playground import edited, save

    form = await read_form(request)
    name, text = form.get("name", ""), form.get("text", "")
    cases, action = form.get("cases", "3"), form.get("action", "run")
    inputs = {k[len("input.") :]: v for k, v in form.items() if k.startswith("input.")}
    fields: tuple[list[str], dict[str, object]] = ([], {})
    try:
        # Parsing is CPU work that a hostile text can make costly: off the event loop.
        prompt, _path = await run_in_threadpool(edited, text, principal.library, name)
        fields = _fields_of(prompt)
        if action == "save":
            new, written = await run_in_threadpool(
                save,
                principal.config,
                principal.store,
                principal.library,
                name,
                prompt,
                form.get("write_file") == "on",
            )
            saved = {"version": prompt.version, "new": new, "path": str(written or "") or None}
            return _form(
                request,
                principal,
                name=name,
                text=text,
                cases=cases,
                saved=saved,
                inputs=inputs,
                fields=fields,
            )
        project = principal.api
        if action == "typed":
            done = await run_in_threadpool(try_prompt, project, prompt, inputs=inputs)
        else:
            limit = None if cases == "all" else int(cases) if cases.isdigit() else 3
            done = await run_in_threadpool(try_prompt, project, prompt, cases=limit)
    except UserError as exc:
        return _form(
            request,
            principal,
            name=name,
            text=text,
            cases=cases,
            status=400,
            error=exc,
            inputs=inputs,
            fields=fields,
        )
    except PrompteurError as exc:  # a model that cannot run: said, not a stack trace
        return _form(
            request,
            principal,
            name=name,
            text=text,
            cases=cases,
            status=502,
            error=UserError(str(exc)),
            inputs=inputs,
            fields=fields,
        )
    info = project.run(done.run_id)
    records = project.results(info.id)
    return _form(
        request,
        principal,
        name=name,
        text=text,
        cases=cases,
        run=info,
        records=records,
        summaries=report.summarise(records, worst=0),
        inputs=inputs,
        fields=fields,
    )
