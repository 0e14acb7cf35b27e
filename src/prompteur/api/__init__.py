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
from ._stored import Optimization, StoredProbe, optimization, optimizations, probe_report
from ._try import try_prompt, try_prompt_async

__all__ = [
    "AskOutcome",
    "Optimization",
    "Project",
    "StoredProbe",
    "ask",
    "choose_model",
    "evaluate",
    "evaluate_async",
    "optimization",
    "optimizations",
    "optimize",
    "optimize_async",
    "probe",
    "probe_async",
    "probe_report",
    "render",
    "try_prompt",
    "try_prompt_async",
]
