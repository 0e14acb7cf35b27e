"""The Python API: what the command line, the server and the web interface call, and what a
Python user calls (re-exported lazily by `prompteur`)."""

from ._ask import AskOutcome, ask, choose_model

__all__ = ["AskOutcome", "ask", "choose_model"]
