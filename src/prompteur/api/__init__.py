"""The Python API: what the command line, the server and the web interface call, and what a
Python user calls (re-exported lazily by `prompteur`): docs/python.md."""

from ._ask import AskOutcome, ask, choose_model
from ._calls import (
    evaluate,
    evaluate_async,
    optimize,
    optimize_async,
    probe,
    probe_async,
    render,
)
from ._project import Project

__all__ = [
    "AskOutcome",
    "Project",
    "ask",
    "choose_model",
    "evaluate",
    "evaluate_async",
    "optimize",
    "optimize_async",
    "probe",
    "probe_async",
    "render",
]
