"""All the pages, as one router for `install`."""

from __future__ import annotations

from fastapi import APIRouter

from . import (
    pages_learn,
    pages_library,
    pages_monitor,
    pages_optimize,
    pages_playground,
    pages_probes,
    pages_review,
    pages_runs,
)

router = APIRouter()
for module in (
    pages_library,
    pages_runs,
    pages_optimize,
    pages_probes,
    pages_monitor,
    pages_review,
    pages_playground,
    pages_learn,
):
    router.include_router(module.router)
