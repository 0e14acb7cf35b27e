"""The server's API keys (migration 0004): stored as hashes, listed, revoked, looked up on
every request. Hashing, scopes and what a key may do are prompteur.server's."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ..errors import UserError
from .tables_auth import ApiKey

if TYPE_CHECKING:
    from .db import Store

COLUMNS = ("id", "project", "name", "scopes", "created_at", "revoked_at", "last_used_at")


def _row(key: ApiKey) -> dict[str, Any]:
    return {c: getattr(key, c) for c in COLUMNS}


class KeyRepository:
    """`store.keys`."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def create(self, **row: Any) -> dict[str, Any]:
        """Store a key (ApiKey's columns: id, project, name, key_hash, scopes, created_at)."""
        key = ApiKey(**row)
        with self._store.session() as s:
            s.add(key)
        return _row(key)

    def list(self, project: str | None = None) -> list[dict[str, Any]]:
        query = select(ApiKey).order_by(ApiKey.created_at)
        if project is not None:
            query = query.where(ApiKey.project == project)
        with self._store.session() as s:
            return [_row(r) for r in s.scalars(query)]

    def revoke(self, key_id: str, project: str | None, now: datetime) -> dict[str, Any]:
        """Revoke the key whose id starts with `key_id` (refusing an ambiguous prefix); a
        revoked key stays listed, revoked at its first revocation."""
        with self._store.session() as s:
            query = select(ApiKey).where(ApiKey.id.startswith(key_id, autoescape=True))
            if project is not None:
                query = query.where(ApiKey.project == project)
            rows = list(s.scalars(query.limit(2))) if key_id else []
            if not rows:
                raise UserError(
                    f"no key '{key_id}'", field="KEY_ID", hint="see: prompteur keys list"
                )
            if len(rows) > 1:
                raise UserError(f"key id '{key_id}' is ambiguous", hint="give more characters")
            row = rows[0]
            if row.revoked_at is None:
                row.revoked_at = now
            return _row(row)

    def by_hash(self, digest: str) -> Any:
        """(id, project, scopes, revoked_at, last_used_at) of the key with this hash, or None:
        one round trip on the reading connection, which sees a revocation committed a moment
        ago."""
        t = ApiKey.__table__
        query = select(t.c.id, t.c.project, t.c.scopes, t.c.revoked_at, t.c.last_used_at).where(
            t.c.key_hash == digest
        )
        return self._store.read(lambda conn: conn.execute(query).first())

    def touch(self, key_id: str, now: datetime) -> None:
        t = ApiKey.__table__
        with self._store.engine.begin() as conn:
            conn.execute(t.update().where(t.c.id == key_id).values(last_used_at=now))
