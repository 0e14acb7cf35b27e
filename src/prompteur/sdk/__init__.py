"""The small public client: `from prompteur import Client`.

`Client(url=..., api_key=...)` talks to a `prompteur serve` server; `Client()` works on the
local project. See docs/sdk.md.
"""

from ._backends import Unavailable
from ._client import AsyncClient, Client, ClientStats, clear_spool, drain_spool
from ._handle import Completion, PromptHandle
from ._spool import SpoolInfo, find_spools
from ._spool import default_root as default_spool_folder
from ._tracing import Trace, current_trace

__all__ = [
    "AsyncClient",
    "Client",
    "ClientStats",
    "Completion",
    "PromptHandle",
    "SpoolInfo",
    "Trace",
    "Unavailable",
    "clear_spool",
    "current_trace",
    "default_spool_folder",
    "drain_spool",
    "find_spools",
]
