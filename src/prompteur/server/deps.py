"""Authentication: `Depends(require("write"))` gives a route its `Principal` or answers 401/403.

A key is sent as `Authorization: Bearer <key>`; it belongs to one project and the principal
carries that project's store and library, so a route can only ever reach its key's project.
Without a key: 401, unless the server runs with `--dev` (loopback only), where an anonymous
caller from this machine acts as admin of the first project (or of `X-Prompteur-Project`).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from fastapi import HTTPException, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as ASGIScope

from .. import limits
from .keys import ALL_SCOPES

if TYPE_CHECKING:
    from ..api import Project
    from ..config import Config
    from ..library import Library
    from ..store import Store
    from .projects import ServedProject

Scope = Literal["read", "review", "feedback", "write", "admin"]
DEV_PROJECT_HEADER = "X-Prompteur-Project"

# auto_error=False: a missing header must give our 401 (FastAPI's own answers 403).
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="An API key from `prompteur keys create`, sent as `Authorization: Bearer <key>`.",
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's project, its scopes and that project's store and library."""

    project: str
    scopes: frozenset[str]
    store: Store
    library: Library
    config: Config
    key_id: str | None  # None for an anonymous caller in --dev mode
    # The project's models (a ModelPool), shared by its requests.
    models: Any = field(default=None, compare=False, repr=False)

    @property
    def api(self) -> Project:
        """The key's project for the Python API (`prompteur.api`), over the store, library and
        models the server keeps open for it: the routes and pages call the API through it."""
        from ..api import Project

        return Project(self.config, store=self.store, library=self.library, models=self.models)

    @property
    def actor(self) -> str:
        """How the caller is named in audit logs (never the key itself)."""
        return f"key:{self.key_id}" if self.key_id else "dev:anonymous"


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, detail=message, headers={"WWW-Authenticate": "Bearer"})


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# How long a server trusts a key it has checked before asking the store again. The check is
# a query and a thread hop, most of the cost of a cached `get_prompt`; the price is that a
# revoked key may still pass for this long on a server that saw it just before.
KEY_CACHE_SECONDS = 1.0


class KeyCache:
    """Keys recently found valid: sha256 of the key → (expiry, project, key id, scopes).
    Only successes are kept, so a key created a moment ago works at once."""

    def __init__(self, ttl: float = KEY_CACHE_SECONDS) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, str, str, frozenset[str]]] = {}

    def get(self, digest: str) -> tuple[str, str, frozenset[str]] | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._entries.pop(digest, None)
            return None
        return entry[1], entry[2], entry[3]

    def put(self, digest: str, project: str, key_id: str, scopes: frozenset[str]) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) > 10_000:  # a bound, not an eviction policy: start afresh
            self._entries.clear()
        self._entries[digest] = (time.monotonic() + self.ttl, project, key_id, scopes)


def _cached(request: Request, key: str | None) -> Principal | None:
    """The principal of a key checked within the last KEY_CACHE_SECONDS, without I/O."""
    from .keys import hash_key

    cache: KeyCache | None = getattr(request.app.state, "key_cache", None)
    if not key or cache is None:
        return None
    hit = cache.get(hash_key(key))
    if hit is None:
        return None
    project = request.app.state.projects.get(hit[0])
    return _principal(project, hit[2], hit[1]) if project is not None else None


def _authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    from .keys import find_key, hash_key

    projects: dict[str, ServedProject] = request.app.state.projects
    if credentials is None or not credentials.credentials:
        if request.app.state.dev and _is_loopback(request.client.host if request.client else None):
            wanted = request.headers.get(DEV_PROJECT_HEADER)
            project = projects.get(wanted) if wanted else next(iter(projects.values()))
            if project is None:
                raise _unauthorized(f"no project '{wanted}' on this server")
            return _principal(project, frozenset(ALL_SCOPES), None)
        raise _unauthorized("an API key is required: Authorization: Bearer <key>")
    key = credentials.credentials
    # Each project has its own store (projects.open_projects refuses a shared one), so a key
    # is found in at most one of them; the project column is checked as well.
    for project in projects.values():
        match = find_key(project.store, key, project.name)
        if match is not None:
            cache: KeyCache | None = getattr(request.app.state, "key_cache", None)
            if cache is not None:
                cache.put(hash_key(key), project.name, match.id, match.scopes)
            return _principal(project, match.scopes, match.id)
    raise _unauthorized("unknown or revoked API key")


def _principal(project: ServedProject, scopes: frozenset[str], key_id: str | None) -> Principal:
    return Principal(
        project.name,
        scopes,
        project.store,
        project.library,
        project.config,
        key_id,
        project.models,
    )


# Paths that are documentation, not data: the OpenAPI document and its viewers.
PUBLIC_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})


class AuthMiddleware:
    """Authenticates every request before anything else reads it, so that a caller without a
    valid key gets 401 whatever it sends (a malformed body included) and learns nothing.

    The principal is kept in the request's state; `require` then only checks the scope.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        header = request.headers.get("authorization", "")
        kind, _, key = header.partition(" ")
        credentials = (
            HTTPAuthorizationCredentials(scheme=kind, credentials=key.strip())
            if kind.lower() == "bearer" and key.strip()
            else None
        )
        try:
            principal = _cached(request, credentials.credentials if credentials else None)
            if principal is None:
                # The key lookup is a database query: off the event loop.
                principal = await run_in_threadpool(_authenticate, request, credentials)
        except HTTPException as exc:
            response = JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
            await response(scope, receive, send)
            return
        except Exception as exc:  # the key lookup needs the store
            from .errors import store_outage, store_unavailable

            if not store_outage(exc):
                raise
            await store_unavailable(exc)(scope, receive, send)
            return
        scope.setdefault("state", {})[_STATE_KEY] = principal
        # The bounds of the caller's project hold for everything this request parses or
        # renders (a context variable: it follows the request into worker threads).
        limits.set_limits(principal.config.limits)
        await self.app(scope, receive, send)


_STATE_KEY = "prompteur_principal"


def require(scope: Scope) -> Callable[..., Principal]:
    """A FastAPI dependency: the caller's Principal if its key holds `scope`, else 401/403."""
    if scope not in ALL_SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    # Async, so that the scope check costs no thread hop: the middleware has already looked
    # the key up (off the event loop), and only a route outside its reach queries here.
    async def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Security(bearer, scopes=[scope]),
    ) -> Principal:
        principal = getattr(request.state, _STATE_KEY, None)
        if principal is None:
            principal = await run_in_threadpool(_authenticate, request, credentials)
        if scope not in principal.scopes:
            raise HTTPException(403, detail=f"this API key lacks the '{scope}' scope needed here")
        return principal

    dependency.__name__ = f"require_{scope}"
    return dependency
