"""Runs: the one lifecycle of every stored run (eval, probe, optimize, chain test, gate,
regress, playground).

A run is created by `start` or reopened by `resume`, both of which give a `RunHandle` to use
as a context manager: whatever happens inside, the run ends `done`, `failed` (an error, the
user's or ours) or `interrupted` (Ctrl-C, `kill -TERM`, a cancelled task) — never `running`
forever. Only this package changes a run's status. `open_runner` builds the Runner of a run
and closes its models; `choose_models` is the one order in which a run's models are chosen.
"""

from ..records import RunKind, RunStatus
from ._lifecycle import RunHandle, StoreSink, expect_kind, resume, start
from ._models import choose_models
from ._runner import open_runner

__all__ = [
    "RunHandle",
    "RunKind",
    "RunStatus",
    "StoreSink",
    "choose_models",
    "expect_kind",
    "open_runner",
    "resume",
    "start",
]
