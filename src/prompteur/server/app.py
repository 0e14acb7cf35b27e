"""The server's FastAPI application over the API routes: `create_app(projects, pages=...)`.

The application `prompteur serve` runs, with the web pages, is put together one layer up, in
`prompteur.app` (the server does not import the web interface: the web imports the server)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

from fastapi import FastAPI

from .. import __version__
from . import errors
from .deps import AuthMiddleware, KeyCache
from .projects import ServedProject, close_projects, open_projects

TAGS = [
    {"name": "prompts", "description": "The library: prompts, stored versions, rendering."},
    {"name": "labels", "description": "Labels pointing at versions, moves and the audit log."},
    {"name": "gateway", "description": "Model calls through the server, recorded as traces."},
    {"name": "runs", "description": "Suite runs and their results."},
    {"name": "traces", "description": "Production calls: ingestion, queries, monitoring."},
    {"name": "review", "description": "Review queues, labels, preference, end-user feedback."},
]


def create_app(
    projects: Sequence[Path | str | ServedProject],
    dev: bool = False,
    *,
    max_body: int | None = None,
    pages: Callable[[FastAPI], None] | None = None,
) -> FastAPI:
    """The API over `projects` (folders, or projects already opened); `pages(app)` mounts
    more routes (the web interface) inside the same authentication and request guard.

    Every route needs an API key of the caller's project; `dev` lets anonymous callers from
    loopback in (the CLI refuses `--dev` on any other host, and the app refuses any Host but
    this machine's). A request body past `max_body` bytes (default: limits.py) gets 413.
    """
    opened = open_projects(projects)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The objects made so far (modules, the app, its routes and schemas: ~140,000) live
        # as long as the server. Left to the cyclic collector, each full collection walked
        # them all: a 50-100 ms pause of every request, several times a minute under load.
        # Frozen, a full collection only walks what requests leave behind.
        gc.collect()
        gc.freeze()
        yield
        gc.unfreeze()  # an app started and stopped in a longer-lived process (tests)
        for project in opened.values():
            with contextlib.suppress(Exception):
                await project.models.aclose()
        close_projects(opened.values())

    app = FastAPI(
        title="prompteur",
        version=__version__,
        summary="Prompt library, labels, gateway, runs and traces of prompteur projects.",
        description="Send an API key from `prompteur keys create` as "
        "`Authorization: Bearer <key>`. A key belongs to one project and sees only it; its "
        "scope (read < write < admin; review: read and label; feedback: feedback only) "
        "decides what it may do.",
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.projects = opened
    app.state.dev = dev
    app.state.key_cache = KeyCache()
    errors.install(app)
    app.add_middleware(AuthMiddleware)

    from . import gateway, routes_prompts, routes_runs

    app.include_router(routes_prompts.router)
    app.include_router(routes_prompts.labels_router)
    app.include_router(routes_prompts.audit_router)
    app.include_router(gateway.router)
    app.include_router(routes_runs.router)
    from . import traces_api

    app.include_router(traces_api.router)
    from . import routes_review

    app.include_router(routes_review.router)
    app.include_router(routes_review.feedback_router)
    if pages is not None:
        pages(app)
    from .. import limits
    from .guard import RequestGuard

    # Added last, so it runs first: nothing reads a body or trusts a Host before it.
    app.add_middleware(RequestGuard, max_body=max_body or limits.current().body_bytes, dev=dev)
    app.state.max_body = max_body or limits.current().body_bytes
    return app
