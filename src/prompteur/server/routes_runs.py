"""Runs and their results, read from the store, paginated."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam

from ..errors import UserError
from .deps import Principal, require
from .errors import ApiError
from .routes_prompts import NOT_FOUND
from .schemas import ResultOut, ResultPage, RunList, RunOut

if TYPE_CHECKING:
    from ..store.db import RunInfo

router = APIRouter(prefix="/v1/runs", tags=["runs"])
READ = Depends(require("read"))
MAX_PAGE = 500
RunId = Annotated[
    str,
    PathParam(
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="A run id, a prefix or suffix of it, or `latest`",
    ),
]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]


def _run_out(run: RunInfo, *, plan: bool = False) -> RunOut:
    return RunOut(
        id=run.id,
        suite=run.suite,
        status=run.status,
        total=run.total,
        done=run.done,
        passed=run.passed,
        failed=run.failed,
        errors=run.errors,
        created_at=run.created_at,
        finished_at=run.finished_at,
        plan=run.plan if plan else None,
    )


@router.get("", summary="The runs, newest first", response_model=RunList)
def list_runs(offset: Offset = 0, limit: Limit = 50, principal: Principal = READ) -> RunList:
    # Pass/fail counts come from the store's own aggregation, for this page only.
    runs, more = principal.store.pages.runs(offset, limit)
    return RunList(
        runs=[_run_out(r) for r in runs],
        offset=offset,
        limit=limit,
        next_offset=offset + limit if more else None,
    )


def _get_run(principal: Principal, run_id: str) -> RunInfo:
    try:
        return principal.api.run(run_id)
    except UserError as exc:
        raise ApiError(404, exc.message, hint=exc.hint) from None


@router.get(
    "/{run_id}",
    summary="One run, with its plan and counts",
    response_model=RunOut,
    responses=NOT_FOUND,
)
def get_run(run_id: RunId, principal: Principal = READ) -> RunOut:
    return _run_out(_get_run(principal, run_id), plan=True)


_RESULT_COLUMNS = list(ResultOut.model_fields)


@router.get(
    "/{run_id}/results",
    summary="A run's results in the order they were stored, one page at a time",
    response_model=ResultPage,
    responses=NOT_FOUND,
)
def get_results(
    run_id: RunId, offset: Offset = 0, limit: Limit = 100, principal: Principal = READ
) -> ResultPage:
    run = _get_run(principal, run_id)
    total, rows = principal.store.pages.results(run.id, _RESULT_COLUMNS, offset, limit)
    results = [ResultOut.model_validate(row) for row in rows]
    return ResultPage(
        run_id=run.id,
        total=int(total),
        offset=offset,
        limit=limit,
        next_offset=offset + limit if offset + limit < total else None,
        results=results,
    )
