"""The command line: a thin shell over the Python API. One module per command group;
`_common` holds what they share (console, errors → exit codes, options). Heavy modules load
inside each command so that `prompteur --help` stays fast, and `prompteur --version` loads
no command at all (`main` answers it before Typer is imported)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._app import app

__all__ = ["app", "main"]


def main() -> None:
    """The console script."""
    if sys.argv[1:] == ["--version"]:
        from .. import __version__

        sys.stdout.write(f"prompteur {__version__}\n")
        return
    from ._app import main as run

    run()


def __getattr__(name: str) -> Any:
    if name == "app":
        from ._app import app

        return app
    raise AttributeError(name)
