"""Library pages: prompts with search and filters, a prompt's versions, a diff between two
versions, its labels with the audit log, and promotion through the registry's gate."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from .. import registry
from ..errors import UserError
from .auth import read_form
from .common import READ, WRITE, error_page
from .render import page
from .urls import PREFIX

if TYPE_CHECKING:
    from ..prompt import Prompt
    from ..server.deps import Principal

router = APIRouter(prefix=PREFIX, include_in_schema=False)
WORKING = "file"  # the diff's name for the working file


@router.get("/")
def home(principal: Principal = READ) -> Response:
    # READ, not just a valid key: a feedback-only key must not be sent on to the pages.
    return RedirectResponse(PREFIX + "/library", 303)


@router.get("/library", response_class=HTMLResponse)
def library(
    request: Request,
    q: str = "",
    tag: str = "",
    domain: str = "",
    model: str = "",
    principal: Principal = READ,
) -> HTMLResponse:
    lib = principal.library
    everything, broken = lib.scan()
    prompts = lib.filter(tag=tag or None, domain=domain or None, model=model or None)
    if q.strip():
        # search() loads the files again: match by name and path, not object identity.
        hits = {(p.name, p.path) for p, _ in lib.search(q.strip())}
        prompts = [p for p in prompts if (p.name, p.path) in hits]
    labels: dict[str, list[str]] = {}
    for info in registry.all_labels(principal.store):
        labels.setdefault(info.name, []).append(info.label)
    return page(
        request,
        "library.html.j2",
        principal,
        section="library",
        prompts=prompts,
        broken=broken,
        labels=labels,
        q=q,
        tag=tag,
        domain=domain,
        model=model,
        tags=sorted({t for p in everything for t in p.meta.tags}),
        domains=sorted({p.meta.domain for p in everything if p.meta.domain}),
        models=sorted({m for p in everything for m in [p.model_id, *p.meta.targets] if m}),
    )


def _working(principal: Principal, name: str) -> Prompt | None:
    with contextlib.suppress(UserError):
        return principal.library.get(name)
    return None


def _side(principal: Principal, name: str, ref: str) -> Prompt:
    if ref == WORKING:
        found = _working(principal, name)
        if found is None:
            raise UserError(f"'{name}' has no working file", field="a")
        return found
    return principal.library.resolve(principal.store, f"{name}@{ref}")


def prompt_context(principal: Principal, name: str) -> dict[str, Any]:
    working = _working(principal, name)
    versions = principal.store.versions(working.name if working else name)
    if working is None and not versions:
        raise HTTPException(404, detail=f"no prompt named '{name}'")
    name = working.name if working else name
    from ..library import variant_scores

    return {
        "variants": variant_scores(working, principal.store) if working else [],
        "name": name,
        "working": working,
        "versions": versions,
        "labels": registry.labels_of(principal.store, name),
        "gated": sorted(registry.gated_labels(principal.config)),
        "audit": registry.audit_log(principal.store, name, limit=20),
    }


@router.get("/library/{name}", response_class=HTMLResponse)
def prompt_page(
    request: Request, name: str, a: str = "", b: str = "", principal: Principal = READ
) -> HTMLResponse:
    try:
        context = prompt_context(principal, name)
        diff = None
        if a and b:
            from ..library import unified_diff

            pa, pb = _side(principal, name, a), _side(principal, name, b)
            diff = unified_diff(
                pa, pb, f"{pa.name}@{pa.short_version}", f"{pb.name}@{pb.short_version}"
            ).splitlines()
    except UserError as exc:
        return error_page(request, principal, exc, section="library")
    return page(
        request,
        "prompt.html.j2",
        principal,
        section="library",
        a=a,
        b=b,
        diff=diff,
        working_ref=WORKING,
        **context,
    )


@router.post("/library/{name}/promote", response_class=HTMLResponse)
async def promote(request: Request, name: str, principal: Principal = WRITE) -> HTMLResponse:
    form = await read_form(request)
    version = form.get("version", "").strip() or None
    label = form.get("label", "").strip()
    force = form.get("force") == "on"
    reason = form.get("reason", "").strip() or None
    threshold = None
    try:
        if form.get("threshold", "").strip():
            try:
                threshold = float(form["threshold"].replace(",", "."))
            except ValueError:
                raise UserError(
                    f"'{form['threshold']}' is not a number", field="threshold"
                ) from None
        if force and "admin" not in principal.scopes:
            raise UserError("forcing a promotion needs the 'admin' scope", field="force")
        # The gate runs the suite (asyncio.run inside): in a worker thread, off the loop.
        result = await run_in_threadpool(
            registry.promote,
            principal.store,
            principal.config,
            name,
            None if version == WORKING else version,
            label,
            actor=principal.actor,
            threshold=threshold,
            force=force,
            reason=reason,
        )
    except UserError as exc:
        return error_page(request, principal, exc, section="library")
    status = 200 if result.moved or result.unchanged else 409
    return page(
        request,
        "promotion.html.j2",
        principal,
        status=status,
        section="library",
        result=result,
        evidence=result.evidence(),
    )
