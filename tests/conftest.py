"""Shared fixtures. Real components only: the embedded model, SQLite and PostgreSQL files and
servers, HTTP servers on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from helpers_postgres import fresh_database

from prompteur.scaffold import init_project

if TYPE_CHECKING:
    from prompteur.store import Store

# pytest-xdist's workers set COLUMNS=80 and LINES=24 in their environment; a run in one
# process has neither. Without them, output printed to a pipe takes a log's full width
# (cli/_common.py), which is what the tests of printed tables read.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)

POSTGRES_ENV = "PROMPTEUR_TEST_POSTGRES_URL"


@pytest.fixture(autouse=True)
def _own_spool_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test's SDK spools traces in a folder of its own, never in the user's cache."""
    monkeypatch.setenv("PROMPTEUR_SPOOL_DIR", str(tmp_path_factory.mktemp("spool")))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh `prompteur init` project, made the working folder."""
    root = tmp_path / "proj"
    init_project(root)
    monkeypatch.chdir(root)
    monkeypatch.delenv("PROMPTEUR_DATABASE_URL", raising=False)
    return root


@pytest.fixture
def away(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with no prompteur project (no library fallback unless a test adds
    one), and no server in the environment."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("PROMPTEUR_URL", raising=False)
    monkeypatch.delenv("PROMPTEUR_API_KEY", raising=False)
    return folder


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


@pytest.fixture
def fresh_postgres(postgres_url: str) -> Iterator[str]:
    """The URL of a new, empty database on the test server; dropped after the test."""
    with fresh_database(postgres_url) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL with nothing behind it yet: a SQLite file path or an empty database."""
    if request.param == "sqlite":
        (tmp_path / "store").mkdir(exist_ok=True)  # a store's folder must exist (db.py)
        return f"sqlite:///{tmp_path / 'store' / 'prompteur.db'}"
    return str(request.getfixturevalue("fresh_postgres"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An open, migrated store on each backend (`store_url`), closed after the test."""
    from prompteur.store import Store

    s = Store(store_url)
    yield s
    s.close()


@pytest.fixture(scope="session")
def embedded_model_path() -> Path:
    from prompteur.models.local import embedded_model_path as path

    return path()
