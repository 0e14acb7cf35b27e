"""What the server benchmarks share: a free loopback port and a scratch PostgreSQL database
(the tests' own helper, so that both create and drop databases the same way).

The scripts run as `python benchmarks/server/X.py`, so this folder is on sys.path.
"""

from __future__ import annotations

import contextlib
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))

from helpers_postgres import fresh_database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def scratch_database(base: str) -> Iterator[str]:
    """The URL of a new database on the server of `base`, dropped on exit."""
    with fresh_database(base, "prompteur_bench") as url:
        yield url
