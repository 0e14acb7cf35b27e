"""prompteur — the prompt engineer's workbench.

Kept import-light on purpose: `prompteur --help` must start fast, so heavy modules (llama.cpp,
SQLAlchemy, httpx) load only when a command needs them.
"""

__version__ = "0.1.0"
