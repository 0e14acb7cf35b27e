"""Helpers shared by the server tests (no test here): an app over a real project, keys."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from prompteur.library import Library
from prompteur.server.keys import create_key

if TYPE_CHECKING:
    from fastapi import FastAPI

    from prompteur.server.projects import ServedProject


def served(app: FastAPI, name: str | None = None) -> ServedProject:
    projects = app.state.projects
    return projects[name] if name else next(iter(projects.values()))


def save_prompts(project: ServedProject) -> dict[str, str]:
    """Record the project's prompt files as stored versions; name → version."""
    library = Library(project.config.prompts_dir)
    out = {}
    for prompt in library.prompts():
        library.save(project.store, prompt)
        out[prompt.name] = prompt.version
    return out


def key(app: FastAPI, *scopes: str, project: str | None = None) -> dict[str, str]:
    """Headers carrying a fresh key with `scopes` of the project (the first one by default)."""
    p = served(app, project)
    secret = create_key(p.store, p.name, tuple(scopes), "test").secret
    return {"Authorization": f"Bearer {secret}"}


def write_prompt(root: Path, name: str, body: str = "user:\nSay {{ word }}.\n") -> Path:
    path = root / "prompts" / f"{name}.prompty"
    path.write_text(
        f"---\nname: {name}\ninputs:\n  word:\n    kind: string\n---\n{body}", encoding="utf-8"
    )
    return path
