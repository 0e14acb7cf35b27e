"""The projects a server serves: each one's config, store and prompt library, opened once."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UserError

if TYPE_CHECKING:
    from ..config import Config
    from ..library import Library
    from ..models.pool import ModelPool
    from ..store import Store


@dataclass
class ServedProject:
    name: str
    root: Path
    config: Config
    store: Store
    library: Library
    # The project's models (the gateway's, reused across requests: they pool their
    # connections), made from this project's config; closed when the server stops.
    models: ModelPool


def project_name(config: Config) -> str:
    """A project's name: `[project] name` in prompteur.toml, else its folder's name."""
    return config.data.project.name or config.root.name


def open_project(folder: Path | str) -> ServedProject:
    from ..config import CONFIG_NAME, load_config
    from ..library import Library
    from ..store import Store

    root = Path(folder).resolve()
    if not root.is_dir():
        raise UserError("no such folder", file=root, field="--project")
    config = load_config(root)
    if config.file is None or config.root != root:
        raise UserError(
            f"not a prompteur project: no {CONFIG_NAME} here",
            file=root,
            field="--project",
            hint="create one with: prompteur init",
        )
    library = Library.from_config(config)
    config.served = True
    config.project_endpoints = project_endpoints(config, library)
    from ..models.pool import ModelPool

    store = Store(config.database_url)
    return ServedProject(project_name(config), root, config, store, library, ModelPool(config))


def project_endpoints(config: Config, library: Library) -> set[str]:
    """The endpoints the project's own files name (prompts' and suites' models), read once
    when the server opens it: those a server may call beside prompteur.toml's. A file the
    server writes later (the playground) cannot add one: saving refuses a new endpoint."""
    from ..errors import UserError
    from ..models.providers import inline_endpoint, parse_model_id
    from ..suite import suite_model_ids

    ids = {p.model_id for p in library.prompts() if p.model_id}
    ids |= suite_model_ids(config.suites_dir)
    found = set()
    for model_id in ids:
        try:
            endpoint = inline_endpoint(parse_model_id(model_id, config))
        except UserError:
            continue
        if endpoint:
            found.add(endpoint)
    return found


def open_projects(folders: Iterable[Path | str | ServedProject]) -> dict[str, ServedProject]:
    """Open every project; refuses two with one name or one store (they would not be isolated)."""
    opened: dict[str, ServedProject] = {}
    by_store: dict[str, str] = {}
    try:
        for item in folders:
            project = item if isinstance(item, ServedProject) else open_project(item)
            if project.name in opened:
                raise UserError(
                    f"two projects are named '{project.name}'",
                    file=project.root,
                    field="project.name",
                    hint="give each a distinct [project] name in prompteur.toml",
                )
            url = project.store.url
            if url in by_store:
                raise UserError(
                    f"projects '{by_store[url]}' and '{project.name}' share one store: their "
                    "prompts, labels and traces would mix",
                    file=project.root,
                    field="project.store",
                    hint="give each project its own database (is PROMPTEUR_DATABASE_URL set?)",
                )
            opened[project.name] = project
            by_store[url] = project.name
    except BaseException:
        close_projects(opened.values())
        raise
    if not opened:
        raise UserError("no project to serve", field="--project")
    return opened


def close_projects(projects: Iterable[ServedProject]) -> None:
    for project in projects:
        with contextlib.suppress(Exception):
            project.store.close()
