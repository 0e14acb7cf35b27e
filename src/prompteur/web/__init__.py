"""The web interface: server-rendered pages over the same functions as the CLI and the API.

`install(app)` adds the pages under `/ui` to the server's FastAPI app, with the middleware
that lets a browser authenticate with a cookie (the API itself only reads the Bearer header).
Everything the pages need (styles, a small script) is served by the app: no network at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .urls import PREFIX

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["PREFIX", "install"]


def install(app: FastAPI) -> None:
    """Mount the pages on `app` (called once by `prompteur.app.create_app`)."""
    from .auth import WebAuthMiddleware
    from .routes import router

    app.include_router(router)
    # Added after the API's AuthMiddleware, so it runs before it: it turns the cookie into
    # the Bearer header the API expects, and answers the login page and assets itself.
    app.add_middleware(WebAuthMiddleware)
