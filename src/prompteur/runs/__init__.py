"""Runs: the one lifecycle of every stored run (eval, probe, optimize, chain test, gate,
regress, playground).

A run is created by `start` or reopened by `resume`, both of which give a `RunHandle` to use
as a context manager: whatever happens inside, the run ends `done`, `failed` (an error, the
user's or ours) or `interrupted` (Ctrl-C, `kill -TERM`, a cancelled task) — never `running`
forever. Only this package changes a run's status.
"""

from ._lifecycle import RunHandle, RunKind, RunStatus, resume, start

__all__ = ["RunHandle", "RunKind", "RunStatus", "resume", "start"]
