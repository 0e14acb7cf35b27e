"""API keys: created once (the secret is shown once), stored as a hash, listed, revoked.

Scopes are ordered — read < write < admin — and a key holds its scope and every lower one.
Two narrower scopes stand beside them: `review` (read, and label review queues: never
promote, never write prompts) and `feedback` (send end-user feedback on traces, nothing
else: the key an application ships). A write key holds both.
Imports no web framework: `prompteur keys ...` uses it without loading FastAPI.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ..store import utcnow

if TYPE_CHECKING:
    from ..store import Store

SCOPES = ("read", "write", "admin")
SIDE_SCOPES = ("review", "feedback")
ALL_SCOPES = ("read", "review", "feedback", "write", "admin")
_SCOPES_HINT = "one of: read, review, feedback, write, admin"
KEY_PREFIX = "ptk_"
_NAME = re.compile(r"^[\w .@:/-]{1,200}$")
# `last_used_at` is a hint for `keys list`, not an audit trail: written at most this often per
# key so that reads never turn into a write per request.
_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class KeyInfo:
    id: str
    project: str
    name: str | None
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class NewKey:
    info: KeyInfo
    secret: str  # the whole key, to show once: it is not stored anywhere


def hash_key(key: str) -> str:
    """The stored form of a key.

    sha256, not bcrypt or argon2: those are slow on purpose to protect low-entropy passwords
    against guessing. Our keys carry 256 random bits, so guessing is hopeless whatever the hash,
    and a fast hash keeps every request's key check under a millisecond and lets the store look
    the key up by an index instead of trying each stored salt.
    """
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_scopes(text: str) -> tuple[str, ...]:
    """`read,write` → the scopes as given, checked; the highest one decides the key's power."""
    given = [s.strip().lower() for s in text.split(",") if s.strip()]
    if not given:
        raise UserError("no scope given", field="--scopes", hint=_SCOPES_HINT)
    unknown = [s for s in given if s not in ALL_SCOPES]
    if unknown:
        raise UserError(f"unknown scope '{unknown[0]}'", field="--scopes", hint=_SCOPES_HINT)
    return tuple(s for s in ALL_SCOPES if s in given)


def effective_scopes(scopes: tuple[str, ...] | list[str]) -> frozenset[str]:
    """A key's scopes with every lower one implied (admin → write → read; write → review and
    feedback; review → read)."""
    top = max((SCOPES.index(s) for s in scopes if s in SCOPES), default=-1)
    held = set(SCOPES[: top + 1])
    if "write" in held:
        held.update(SIDE_SCOPES)
    if "review" in scopes:
        held.update(("read", "review"))
    if "feedback" in scopes:
        held.add("feedback")
    return frozenset(held)


def create_key(store: Store, project: str, scopes: tuple[str, ...], name: str | None) -> NewKey:
    if name is not None and not _NAME.match(name):
        raise UserError(
            "a key name is 1 to 200 letters, digits, spaces or . @ : / - _", field="--name"
        )
    key_id = secrets.token_hex(6)
    secret = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    row = store.keys.create(
        id=key_id,
        project=project,
        name=name,
        key_hash=hash_key(secret),
        scopes=",".join(scopes),
        created_at=utcnow(),
    )
    return NewKey(_info(row), secret)


def list_keys(store: Store, project: str | None = None) -> list[KeyInfo]:
    return [_info(r) for r in store.keys.list(project)]


def revoke_key(store: Store, key_id: str, project: str | None = None) -> KeyInfo:
    """Revoke a key by its id (or a unique prefix of it); a revoked key stays listed."""
    key_id = key_id.strip().removeprefix(KEY_PREFIX)
    return _info(store.keys.revoke(key_id, project, utcnow()))


@dataclass(frozen=True)
class KeyMatch:
    id: str
    project: str
    scopes: frozenset[str]


def find_key(store: Store, key: str, project: str) -> KeyMatch | None:
    """The active key of `project` whose hash matches, or None (unknown, revoked, other project)."""
    row = store.keys.by_hash(hash_key(key))
    if row is None or row.revoked_at is not None or row.project != project:
        return None
    now = utcnow()
    last = row.last_used_at
    if last is None or now - last > _TOUCH_EVERY:
        store.keys.touch(row.id, now)
    return KeyMatch(row.id, row.project, effective_scopes(row.scopes.split(",")))


def _info(row: dict[str, Any]) -> KeyInfo:
    return KeyInfo(
        row["id"],
        row["project"],
        row["name"],
        tuple(row["scopes"].split(",")),
        row["created_at"],
        row["revoked_at"],
        row["last_used_at"],
    )
