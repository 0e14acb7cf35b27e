"""The target of the hostile tests: one project served by `prompteur serve` (keys required)
for the whole session, restarted if a test brought it down, with a run in its store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ._support import (
    Project,
    Server,
    base_env,
    cli,
    listening_project,
    make_key,
    runs_json,
)


@dataclass
class Site:
    project: Project
    server: Server
    keys: dict[str, str]  # scope → secret
    run_id: str
    queue: str

    @property
    def root(self) -> Path:
        return self.project.root

    def ensure(self) -> None:
        """A test that crashed the server must not fail every test after it."""
        if not self.server.alive():
            self.server.stop()
            self.server = Server(self.root, env=self.project.keys_env).start()


@pytest.fixture(scope="session")
def _site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("site")
    with listening_project(tmp) as project:
        keys = {
            s: make_key(project.root, s) for s in ("read", "review", "feedback", "write", "admin")
        }
        seeded = cli("eval", "suites/tiny.yaml", cwd=project.root, env=base_env(**project.keys_env))
        assert seeded.returncode == 0, str(seeded)
        run_id = str(runs_json(project.root)[0]["id"])
        saved = cli("library", "save", cwd=project.root)  # every prompt file as a version
        assert saved.returncode == 0, str(saved)
        queue = "scope-walk"
        made = cli(
            "review",
            "create",
            queue,
            "--run",
            run_id,
            cwd=project.root,
            env=base_env(**project.keys_env),
        )
        assert made.returncode == 0, str(made)
        server = Server(project.root, env=project.keys_env).start()
        site = Site(project, server, keys, run_id, queue)
        try:
            yield site
        finally:
            site.server.stop()


@pytest.fixture
def site(_site: Site) -> Site:
    _site.ensure()
    return _site
