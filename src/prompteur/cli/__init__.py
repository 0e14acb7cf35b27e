"""The command line: a thin shell over the Python API. One module per command group;
`_common` holds what they share (console, errors → exit codes, options). Heavy modules load
inside each command so that `prompteur --help` stays fast."""

from ._app import app, main

__all__ = ["app", "main"]
