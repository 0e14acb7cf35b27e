"""`start` / `resume` → a `RunHandle` whose `with` block decides how the run ends."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..store import Store


class RunStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class RunKind(StrEnum):
    """What a run's plan records as its `kind` (an eval run's plan has none)."""

    EVAL = "eval"
    PROBE = "probe"
    OPTIMIZE = "optimize"
    CHAIN = "chain"
    GATE = "promote"  # what gate runs have always recorded
    REGRESS = "regress"
    PLAYGROUND = "playground"

    @classmethod
    def of(cls, plan: dict[str, Any]) -> RunKind:
        try:
            return cls(plan.get("kind") or cls.EVAL)
        except ValueError:
            return cls.EVAL


@dataclass
class RunHandle:
    """One stored run under way. Use it as a context manager: leaving the block normally ends
    the run `done`, an exception ends it `failed`, an interruption `interrupted`; the
    exception goes on unchanged. Handles nest: the innermost block to end decides."""

    store: Store
    id: str

    def set_total(self, total: int) -> None:
        self.store.set_run_status(self.id, RunStatus.RUNNING, total=total)

    def finish(self, status: RunStatus) -> None:
        """End the run, unless something already ended it: a run's first end is its end, so
        a handle around a feature that ends the run itself changes nothing afterwards."""
        self.store.set_run_status(self.id, status, only_running=True)

    def __enter__(self) -> RunHandle:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:
            self.finish(RunStatus.DONE)
        elif issubclass(kind, KeyboardInterrupt | asyncio.CancelledError | SystemExit):
            self._finish_quietly(RunStatus.INTERRUPTED)
        else:
            self._finish_quietly(RunStatus.FAILED)

    def _finish_quietly(self, status: RunStatus) -> None:
        # The run is ending on an error already on its way up: a store that fails now too
        # (the disk is full) must not hide it.
        with contextlib.suppress(Exception):
            self.finish(status)


def start(store: Store, suite: str, plan: dict[str, Any], total: int = 0) -> RunHandle:
    """A new run, `running`, with its plan (its `kind` says what it is)."""
    return RunHandle(store, store.new_run(suite, plan, total))


def resume(store: Store, run_id: str) -> RunHandle:
    """An existing run, `running` again."""
    store.set_run_status(run_id, RunStatus.RUNNING)
    return RunHandle(store, run_id)
