"""A prompteur project as a Python object: its config, library, store and models. Every
function of the API takes one; it is the only place of the API that reads the working folder
(`Project.open()` without a folder)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from ..errors import UserError

if TYPE_CHECKING:
    from ..config import Config
    from ..library import Library
    from ..models.pool import ModelPool
    from ..prompt import Prompt
    from ..records import ResultRecord, RunKind
    from ..store import Store
    from ..store.db import RunInfo


# How an error names a run of each kind ("run X is not a probe run").
_KIND_WORDS = {
    "eval": "an eval run",
    "probe": "a probe run",
    "optimize": "an optimization",
    "chain": "a chain test",
    "promote": "a gate run",
    "regress": "a regression run",
    "playground": "a playground run",
}


class Project:
    """A prompteur project: config, library, store (opened on first use) and models."""

    def __init__(
        self,
        config: Config,
        *,
        store: Store | None = None,
        library: Library | None = None,
        models: ModelPool | None = None,
    ) -> None:
        """A project from a config already loaded (a shell's); `open()` loads one. A server
        passes the store, library and models it keeps open for the project."""
        self.config = config
        self._library: Library | None = library
        self._store: Store | None = store
        self._models: ModelPool | None = models

    @classmethod
    def open(cls, folder: str | Path | None = None) -> Project:
        """The project in `folder` (its prompteur.toml must be there); without a folder, the
        one the working folder belongs to (its nearest prompteur.toml upwards)."""
        from .. import limits
        from ..config import CONFIG_NAME, load_config

        root = Path(folder).resolve() if folder is not None else None
        if root is not None and not root.is_dir():
            raise UserError("no such folder", file=root)
        config = load_config(root)
        if config.file is None or (root is not None and config.root != root):
            raise UserError(
                f"not a prompteur project: no {CONFIG_NAME} here",
                file=root or Path.cwd(),
                hint="create one with Project.init(folder) or: prompteur init",
            )
        limits.set_limits(config.limits)
        return cls(config)

    @classmethod
    def init(cls, folder: str | Path, *, force: bool = False, pack: str | None = None) -> Project:
        """Write the starter project (and a domain pack's files) into `folder`, then open it."""
        from ..scaffold import init_project

        init_project(Path(folder), force=force, pack=pack)
        return cls.open(folder)

    @property
    def root(self) -> Path:
        return self.config.root

    @property
    def library(self) -> Library:
        if self._library is None:
            from ..library import Library

            self._library = Library.from_config(self.config)
        return self._library

    @property
    def store(self) -> Store:
        if self._store is None:
            from ..store import Store

            self._store = Store(self.config.database_url)
        return self._store

    @property
    def models(self) -> ModelPool:
        """The project's models outside runs (a run has its own pool, closed with it)."""
        if self._models is None:
            from ..models.pool import ModelPool

            self._models = ModelPool(self.config)
        return self._models

    def prompt(self, ref: str) -> Prompt:
        """`NAME` (its working file), `NAME@VERSION` or `NAME@label` (from the store). A name,
        never a path."""
        return self.library.resolve(self.store, ref)

    def suite_path(self, ref: str | Path) -> Path:
        """A suite: a name (suites/NAME.yaml) or a path inside the project, when given as text
        (as a request or a project file would give it); a `Path` is the caller's own file,
        taken as it is (the command line's argument)."""
        if isinstance(ref, Path):
            return ref
        if "/" not in ref and "\\" not in ref and not ref.endswith((".yaml", ".yml")):
            return self.library.in_project(f"suites/{ref}.yaml", self.root, what="suite")
        return self.library.in_project(ref, self.root, what="suite")

    def run(self, ref: str, kind: RunKind | str | None = None) -> RunInfo:
        """A stored run: its id, a prefix of it, or 'latest'. With `kind`, a run of another
        kind is refused (a UserError that says what it is not)."""
        info = self.store.get_run(ref)
        if kind is not None:
            from ..records import RunKind

            wanted = RunKind(kind)
            if info.kind != wanted:
                raise UserError(f"run {info.id} is not {_KIND_WORDS[wanted]}", field="run")
        return info

    def runs(self, limit: int = 20, *, kind: RunKind | str | None = None) -> list[RunInfo]:
        """The newest stored runs first (at most `limit`); only those of `kind` when given."""
        return self.store.runs(limit, kind=kind)

    def results(self, run: str) -> list[ResultRecord]:
        """Every result a run stored so far."""
        return self.store.results(self.run(run).id)

    def trust(self, model_ids: Iterable[str]) -> None:
        """Model ids the caller typed (not read from a file): their own endpoints may receive
        their provider's key, as on the command line. Never for a served project."""
        if self.config.served:
            return
        import contextlib

        from ..models.providers import inline_endpoint, parse_model_id

        for model_id in model_ids:
            with contextlib.suppress(UserError):  # a bad id is reported where it is used
                endpoint = inline_endpoint(parse_model_id(model_id, self.config))
                if endpoint:
                    self.config.typed_endpoints.add(endpoint)

    def close(self) -> None:
        if self._models is not None:
            import asyncio

            asyncio.run(self._models.aclose())
            self._models = None
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Project:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Project({str(self.root)!r})"
