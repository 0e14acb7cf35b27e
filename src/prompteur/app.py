"""The application `prompteur serve` runs: the server's API with the web pages mounted on it.

The composition root of the two shells: the server does not import the web interface, the
web interface uses the server's dependencies, and this module puts them together."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from .server.projects import ServedProject

# How `prompteur serve --workers N` hands its settings to each worker process (uvicorn imports
# the app factory by name there, so it cannot receive arguments).
SETTINGS_ENV = "PROMPTEUR_SERVE_SETTINGS"


def create_app(
    projects: Sequence[Path | str | ServedProject],
    dev: bool = False,
    *,
    max_body: int | None = None,
) -> FastAPI:
    """The API and the web pages (under /ui) over `projects` (folders, or projects already
    opened). See `prompteur.server.app.create_app` for `dev` and `max_body`."""
    from .server.app import create_app as create_api
    from .web import install

    return create_api(projects, dev, max_body=max_body, pages=install)


def app_from_env() -> FastAPI:
    """The app of a `--workers` process, from the settings its parent put in the environment."""
    settings = json.loads(os.environ[SETTINGS_ENV])
    return create_app(
        settings["projects"], dev=bool(settings["dev"]), max_body=settings.get("max_body")
    )
