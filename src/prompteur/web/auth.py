"""The pages' authentication: the same API keys as the API, kept in a cookie.

A small login form posts a key; when the server knows it, the key goes into an HttpOnly,
SameSite=Strict cookie for `/ui`. On every page request this middleware copies the cookie
into the `Authorization: Bearer` header, so the API's own authentication (and its scopes)
decides, through the same `require(scope)` dependency as the API routes. With `--dev` on
loopback no key is needed, as for the API. The login form and the static assets are answered
here, before the API's middleware (which refuses anything without a key).

Forms that change something (promotion, playground) are refused when the browser says they
come from another site, so another page cannot post them with the user's cookie — or, in
`--dev` mode, with no cookie at all.
"""

from __future__ import annotations

import mimetypes
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .render import page, secure
from .urls import PREFIX

KEY_COOKIE = "prompteur_key"
STATIC = Path(__file__).parent / "static"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@cache
def _assets() -> dict[str, tuple[bytes, str]]:
    """The vendored assets, read once: only these names are served (no path from the URL
    ever reaches the file system)."""
    out = {}
    for path in STATIC.iterdir():
        if path.is_file():
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if kind.startswith("text/") or kind.endswith("javascript"):
                kind += "; charset=utf-8"
            out[path.name] = (path.read_bytes(), kind)
    return out


def _safe_next(value: str | None) -> str:
    """Where to go after logging in: a page of this app only (no open redirect)."""
    if value and value.startswith(PREFIX + "/") and not value.startswith("//"):
        parts = urlsplit(value)
        if not parts.scheme and not parts.netloc:
            return value
    return PREFIX + "/"


def cross_site(request: Request) -> bool:
    """Whether an unsafe request comes from another site (Origin, else Sec-Fetch-Site)."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return urlsplit(origin).netloc != request.headers.get("host", "")
    if origin == "null":
        return True
    return request.headers.get("sec-fetch-site", "same-origin") not in {
        "same-origin",
        "none",
    }


async def read_form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (the pages' forms post nothing else); the
    last value of a repeated field wins."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}


async def read_form_lists(request: Request) -> dict[str, list[str]]:
    body = (await request.body()).decode("utf-8", errors="replace")
    return parse_qs(body, keep_blank_values=True)


class WebAuthMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == "/":
            await RedirectResponse(PREFIX + "/", 307)(scope, receive, send)
            return
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        response = await self._answer(request)
        if response is not None:
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _answer(self, request: Request) -> Response | None:
        """A response for what this middleware answers itself, else None (pass it on, with
        the cookie turned into the Authorization header)."""
        path = request.url.path
        if path.startswith(PREFIX + "/static/"):
            return _asset(path[len(PREFIX + "/static/") :])
        if request.method not in _SAFE_METHODS and cross_site(request):
            return PlainTextResponse("cross-site form refused", 403)
        if path == PREFIX + "/login":
            return await _login(request)
        if path == PREFIX + "/logout":
            response = RedirectResponse(PREFIX + "/login", 303)
            response.delete_cookie(KEY_COOKIE, path=PREFIX)
            return response
        key = request.cookies.get(KEY_COOKIE)
        headers: list[tuple[bytes, bytes]] = request.scope["headers"]
        has_header = any(k == b"authorization" for k, _ in headers)
        if key and not has_header:
            headers.append((b"authorization", f"Bearer {key}".encode("latin-1", "replace")))
        from fastapi import HTTPException
        from fastapi.security import HTTPAuthorizationCredentials

        from ..server.deps import _authenticate

        credentials = None
        auth = request.headers.get("authorization", "")
        kind, _, value = auth.partition(" ")
        if kind.lower() == "bearer" and value.strip():
            credentials = HTTPAuthorizationCredentials(scheme=kind, credentials=value.strip())
        try:
            await run_in_threadpool(_authenticate, request, credentials)
        except HTTPException as exc:
            message = "unknown or revoked API key" if credentials else "an API key is required"
            response = login_page(request, message, status=exc.status_code)
            if key:
                response.delete_cookie(KEY_COOKIE, path=PREFIX)
            return response
        return None


def _asset(name: str) -> Response:
    found = _assets().get(name)
    if found is None:
        return PlainTextResponse("not found", 404)
    body, kind = found
    response = Response(body, media_type=kind)
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def login_page(
    request: Request, error: str | None = None, *, status: int = 401, next: str | None = None
) -> Response:
    target = next or request.query_params.get("next")
    if target is None and request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return page(request, "login.html.j2", status=status, error=error, next=_safe_next(target))


async def _login(request: Request) -> Response:
    if request.method != "POST":
        return login_page(request, status=200)
    form = await read_form(request)
    key = form.get("key", "").strip()
    target = _safe_next(form.get("next"))
    if key and await run_in_threadpool(_known, request, key):
        response = RedirectResponse(target, 303)
        response.set_cookie(
            KEY_COOKIE,
            key,
            httponly=True,
            samesite="strict",
            path=PREFIX,
            secure=request.url.scheme == "https",
        )
        secure(response)
        return response
    return login_page(
        request,
        "unknown or revoked API key" if key else "an API key is required",
        next=target,
    )


def _known(request: Request, key: str) -> bool:
    from ..server.keys import find_key

    projects: dict[str, Any] = request.app.state.projects
    return any(find_key(p.store, key, p.name) is not None for p in projects.values())
