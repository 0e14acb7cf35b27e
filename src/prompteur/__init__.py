"""prompteur — the prompt engineer's workbench.

Kept import-light on purpose: `prompteur --help` must start fast, so heavy modules (llama.cpp,
SQLAlchemy, httpx) load only when a command needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .api import (
        Project,
        ask,
        evaluate,
        evaluate_async,
        optimization,
        optimizations,
        optimize,
        optimize_async,
        probe,
        probe_async,
        probe_report,
        render,
        try_prompt,
        try_prompt_async,
    )
    from .sdk import AsyncClient, Client


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AsyncClient",
    "Client",
    "Project",
    "__version__",
    "ask",
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

# Loaded on first use (PEP 562): importing the package for the CLI must not pull in the SDK or
# the API (docs/python.md).
_LAZY = {n: "sdk" if n.endswith("Client") else "api" for n in __all__ if n != "__version__"}
