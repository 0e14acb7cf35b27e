"""The store: versions, runs, results and traces in SQLite or PostgreSQL."""

from .db import (
    DatabaseError,
    Store,
    StoreError,
    VersionInfo,
    hidden_password,
    outage_errors,
    store_failure,
)
from .tables import utcnow

__all__ = [
    "DatabaseError",
    "Store",
    "StoreError",
    "VersionInfo",
    "hidden_password",
    "outage_errors",
    "store_failure",
    "utcnow",
]
