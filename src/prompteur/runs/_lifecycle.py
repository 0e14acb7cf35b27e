"""`start` / `resume` → a `RunHandle` whose `with` block decides how the run ends."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ..records import Key, ResultRecord, RunKind, RunStatus

if TYPE_CHECKING:
    from ..store import Store
    from ..store.db import RunInfo


class StoreSink:
    """Writes a run's results into the store as they arrive (the runner's sink)."""

    def __init__(self, store: Store, run_id: str) -> None:
        self.store = store
        self.run_id = run_id

    def write(self, records: list[ResultRecord]) -> None:
        self.store.write_results(self.run_id, records)


@dataclass
class RunHandle:
    """One stored run under way. Use it as a context manager: leaving the block normally ends
    the run `done`, an exception ends it `failed`, an interruption (Ctrl-C, `kill -TERM`, a
    cancelled task) `interrupted`; the exception goes on unchanged."""

    store: Store
    id: str
    kind: RunKind = RunKind.EVAL

    @property
    def sink(self) -> StoreSink:
        return StoreSink(self.store, self.id)

    def done_keys(self) -> set[Key]:
        """The results already stored (a resumed run computes only the others)."""
        return self.store.done_keys(self.id)

    def set_total(self, total: int) -> None:
        self.store.set_run_status(self.id, RunStatus.RUNNING, total=total)

    def update_plan(self, changes: dict[str, Any]) -> None:
        """Merge keys into the run's plan (an optimization's history grows as it searches)."""
        self.store.update_run_plan(self.id, changes)

    def finish(self, status: RunStatus) -> None:
        """End the run, unless something already ended it: a run's first end is its end."""
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


def start(
    store: Store, kind: RunKind, suite: str, plan: dict[str, Any], total: int = 0
) -> RunHandle:
    """A new run of `kind`, `running`, with its plan (which records the kind)."""
    run_id = store.new_run(suite, {**plan, "kind": kind.value}, total)
    return RunHandle(store, run_id, kind)


def expect_kind(info: RunInfo, kind: RunKind) -> None:
    """Refuse to resume a run of another kind: its plan would rebuild the wrong work."""
    found = RunKind.of(info.plan)
    if found is not kind:
        raise UserError(
            f"run {info.id} is {_a(found.value)} run, not {_a(kind.value)} run",
            field="--resume",
            hint=found.resume_hint(info.id),
        )


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def resume(store: Store, info: RunInfo, kind: RunKind) -> RunHandle:
    """An existing run of `kind`, `running` again."""
    expect_kind(info, kind)
    store.set_run_status(info.id, RunStatus.RUNNING)
    return RunHandle(store, info.id, kind)
