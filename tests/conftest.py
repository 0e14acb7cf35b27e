"""Shared fixtures. Real components only: the embedded model, SQLite and PostgreSQL files and
servers, HTTP servers on loopback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from prompteur.project import init_project

POSTGRES_ENV = "PROMPTEUR_TEST_POSTGRES_URL"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh `prompteur init` project, made the working folder."""
    root = tmp_path / "proj"
    init_project(root)
    monkeypatch.chdir(root)
    monkeypatch.delenv("PROMPTEUR_DATABASE_URL", raising=False)
    return root


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL URL for tests. scripts/test.sh starts a server on loopback and sets it.

    Under CI a missing server is a failure, not a skip: the suite must prove both stores.
    """
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set under CI: PostgreSQL did not start")
        pytest.skip(f"no PostgreSQL ({POSTGRES_ENV} unset); scripts/test.sh starts one")
    return url


@pytest.fixture(scope="session")
def embedded_model_path() -> Path:
    from prompteur.models.local import embedded_model_path as path

    return path()
