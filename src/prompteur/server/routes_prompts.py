"""Library routes: prompts, versions, render, labels (through the registry) and the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from .. import registry
from ..errors import UserError
from .deps import Principal, require
from .errors import ApiError, user_error
from .schemas import (
    AuditEntry,
    ErrorOut,
    LabelMoveOut,
    LabelOut,
    LabelPut,
    LabelsOut,
    MessageOut,
    PromptDetail,
    PromptList,
    PromptSummary,
    RenderIn,
    RenderOut,
    RollbackIn,
    VariantOut,
    VersionOut,
    VersionSummary,
)
from .versions import parsed, resolve_or_404, resolve_with_labels_or_404

if TYPE_CHECKING:
    from ..prompt import Prompt
    from ..store import VersionInfo

router = APIRouter(prefix="/v1/prompts", tags=["prompts"])
labels_router = APIRouter(prefix="/v1/prompts", tags=["labels"])
audit_router = APIRouter(prefix="/v1", tags=["labels"])

# No control characters: PostgreSQL refuses NUL in text, and none belongs in a name.
_NAME_PATTERN = r"^[^\x00-\x1f\x7f]+$"
PromptName = Annotated[
    str, PathParam(min_length=1, max_length=200, pattern=_NAME_PATTERN, description="Prompt name")
]
LabelName = Annotated[
    str, PathParam(min_length=1, max_length=100, pattern=_NAME_PATTERN, description="Label")
]
Ref = Annotated[
    str,
    PathParam(
        min_length=1, max_length=100, pattern=_NAME_PATTERN, description="Label or version prefix"
    ),
]
ModelQuery = Annotated[
    str | None,
    Query(
        max_length=300,
        pattern=_NAME_PATTERN,
        description="A model id: the answer says which variant that model gets.",
    ),
]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}}
READ = Depends(require("read"))
WRITE = Depends(require("write"))


def _labels_by_version(labels: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for label, version in sorted(labels.items()):
        out.setdefault(version, []).append(label)
    return out


@router.get("", summary="List the project's prompts", response_model=PromptList)
def list_prompts(principal: Principal = READ) -> PromptList:
    files, _broken = principal.library.scan()
    counts = principal.store.version_counts()
    by_name = {p.name: p for p in files}
    labels: dict[str, dict[str, str]] = {}
    for held in registry.all_labels(principal.store):
        labels.setdefault(held.name, {})[held.label] = held.version
    out = []
    for name in sorted(set(by_name) | set(counts)):
        prompt = by_name.get(name)
        out.append(
            PromptSummary(
                name=name,
                description=prompt.meta.description if prompt else None,
                tags=list(prompt.meta.tags) if prompt else [],
                file_version=prompt.version if prompt else None,
                stored_versions=int(counts.get(name, 0)),
                labels=labels.get(name, {}),
            )
        )
    return PromptList(project=principal.project, prompts=out)


def _file_prompt(principal: Principal, name: str) -> Prompt | None:
    """The working file of that name. Not `Library.get`: it also takes a path, and a client
    must never name a file on the server's disk."""
    return next((p for p in principal.library.prompts() if p.name == name), None)


@router.get(
    "/{name}",
    summary="A prompt: its stored versions and labels",
    response_model=PromptDetail,
    responses=NOT_FOUND,
)
def get_prompt(name: PromptName, principal: Principal = READ) -> PromptDetail:
    file_prompt = _file_prompt(principal, name)
    versions = principal.store.versions(name)
    if file_prompt is None and not versions:
        raise HTTPException(404, detail=f"no prompt named '{name}'")
    labels = registry.labels_of(principal.store, name)
    by_version = _labels_by_version(labels)
    return PromptDetail(
        name=name,
        description=file_prompt.meta.description if file_prompt else None,
        file_version=file_prompt.version if file_prompt else None,
        labels=labels,
        versions=[
            VersionSummary(
                version=v.version, created_at=v.created_at, labels=by_version.get(v.version, [])
            )
            for v in versions
        ],
    )


@router.get(
    "/{name}/versions/{ref}",
    summary="One version of a prompt, by label or version prefix",
    response_model=VersionOut,
    responses=NOT_FOUND,
)
async def get_version(
    name: PromptName,
    ref: Ref,
    model: ModelQuery = None,
    principal: Principal = READ,
) -> VersionOut:
    # The SDK's hot path: for a label, one query (version and its labels) in one thread hop.
    return await run_in_threadpool(_get_version, principal, name, ref, model)


def _get_version(principal: Principal, name: str, ref: str, model: str | None) -> VersionOut:
    info, labels = resolve_with_labels_or_404(principal.store, name, ref)
    out = VersionOut(
        name=info.name,
        version=info.version,
        content=info.content,
        labels=labels,
        created_at=info.created_at,
    )
    # Only a file that declares variants is parsed here (once per version: `parsed` caches).
    if "variants:" in info.content:
        try:
            prompt = parsed(info)
        except UserError:
            return out  # served as stored; rendering it will say what is wrong
        out.variants = [
            VariantOut(name=v.name, models=v.models, description=v.description)
            for v in prompt.meta.variants
        ]
        out.variant = prompt.for_model(model).variant
    return out


@router.post(
    "/{name}/render",
    summary="Render a version with inputs into chat messages (no model call)",
    response_model=RenderOut,
    responses={**NOT_FOUND, 422: {"model": ErrorOut}},
)
def render(name: PromptName, body: RenderIn, principal: Principal = READ) -> RenderOut:
    from ..api import render as render_prompt

    info = resolve_or_404(principal.store, name, body.ref)
    try:
        prompt = parsed(info).for_model(body.model)
        messages = render_prompt(principal.api, prompt, body.inputs)
    except UserError as exc:
        raise user_error(exc, 422) from None
    return RenderOut(
        name=info.name,
        version=info.version,
        variant=prompt.variant,
        messages=[MessageOut.model_validate(m.to_dict()) for m in messages],
    )


# ---- labels ------------------------------------------------------------------------------


@labels_router.get(
    "/{name}/labels", summary="A prompt's labels (label → version)", response_model=LabelsOut
)
def get_labels(name: PromptName, principal: Principal = READ) -> LabelsOut:
    return LabelsOut(name=name, labels=registry.labels_of(principal.store, name))


@labels_router.get(
    "/{name}/labels/{label}",
    summary="The version a label points at",
    response_model=LabelOut,
    responses=NOT_FOUND,
)
def get_label(name: PromptName, label: LabelName, principal: Principal = READ) -> LabelOut:
    version = registry.labels_of(principal.store, name).get(label)
    if version is None:
        raise HTTPException(404, detail=f"'{name}' has no label '{label}'")
    return LabelOut(name=name, label=label, version=version)


@labels_router.put(
    "/{name}/labels/{label}",
    summary="Move a label: gated promotion, or forced (admin, with a reason)",
    description="Without `force`, the label moves only if the version passes the prompt's "
    "suite and is not significantly worse than the version the label points at now (the "
    "registry's gate: `prompteur promote`); a refusal answers 409 with the evidence. With "
    "`force` and a `reason`, an admin key moves the label without the gate. Every move is in "
    "the audit log.",
    response_model=LabelMoveOut,
    responses={**NOT_FOUND, 409: {"model": ErrorOut}, 422: {"model": ErrorOut}},
)
def put_label(
    name: PromptName, label: LabelName, body: LabelPut, principal: Principal = WRITE
) -> LabelMoveOut:
    try:
        registry.check_label(label)
    except UserError as exc:
        raise user_error(exc, 422) from None
    info = resolve_or_404(principal.store, name, body.version)
    previous = registry.labels_of(principal.store, name).get(label)
    if body.force:
        return _force(principal, info, label, body, previous)
    return _promote(principal, info, label, body, previous)


def _force(
    principal: Principal, info: VersionInfo, label: str, body: LabelPut, previous: str | None
) -> LabelMoveOut:
    """The registry's low-level move, without the gate: an admin's decision, with its reason
    in the audit log."""
    if "admin" not in principal.scopes:
        raise HTTPException(403, detail="a forced label move needs the 'admin' scope")
    reason = (body.reason or "").strip()
    if not reason:
        raise ApiError(422, "a forced label move needs a reason", field="reason")
    try:
        registry.move_label(
            principal.store,
            info.name,
            label,
            info.version,
            actor=principal.actor,
            reason=reason,
            evidence={"gate": "skipped", "via": "api", "previous": previous},
            forced=True,
        )
    except UserError as exc:
        raise user_error(exc, 409) from None
    return LabelMoveOut(
        name=info.name, label=label, version=info.version, previous=previous, forced=True
    )


def _promote(
    principal: Principal, info: VersionInfo, label: str, body: LabelPut, previous: str | None
) -> LabelMoveOut:
    """The gate: the registry runs the prompt's suite (and the paired test against the
    current holder) and moves the label only if the candidate passes."""
    try:
        result = registry.promote(
            principal.store,
            principal.config,
            info.name,
            info.version,
            label,
            actor=principal.actor,
            reason=body.reason,
            threshold=body.threshold,
        )
    except UserError as exc:
        raise user_error(exc, 422) from None
    evidence = result.evidence()
    if not result.moved and not result.unchanged:
        raise ApiError(409, result.words(), field="version", extra={"evidence": evidence})
    return LabelMoveOut(
        name=info.name,
        label=label,
        version=info.version,
        previous=previous,
        forced=False,
        evidence=evidence,
    )


@labels_router.post(
    "/{name}/labels/{label}/rollback",
    summary="Move a label back to the version it pointed at before",
    response_model=LabelMoveOut,
    responses={**NOT_FOUND, 409: {"model": ErrorOut}},
)
def rollback(
    name: PromptName, label: LabelName, body: RollbackIn, principal: Principal = WRITE
) -> LabelMoveOut:
    try:
        move = registry.rollback(
            principal.store, name, label, actor=principal.actor, reason=body.reason
        )
    except UserError as exc:
        raise user_error(exc, 409) from None
    return LabelMoveOut(
        name=name,
        label=label,
        version=move.to_version,
        previous=move.from_version,
        forced=False,
    )


@audit_router.get(
    "/audit",
    summary="The audit log of label moves: who, when, why, evidence",
    response_model=list[AuditEntry],
)
def audit(
    name: Annotated[str | None, Query(max_length=200, pattern=_NAME_PATTERN)] = None,
    label: Annotated[str | None, Query(max_length=100, pattern=_NAME_PATTERN)] = None,
    principal: Principal = READ,
) -> list[AuditEntry]:
    entries = registry.audit_log(principal.store, name=name, label=label)
    return [AuditEntry.model_validate(e, from_attributes=True) for e in entries]
