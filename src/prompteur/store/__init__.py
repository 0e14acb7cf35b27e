"""The store: versions, runs, results and traces in SQLite or PostgreSQL."""

from .db import Store, StoreError, VersionInfo

__all__ = ["Store", "StoreError", "VersionInfo"]
