"""Labels and their audit log in the store: the version a label holds, every move, and the
moves themselves — each written with the label's new holder in one transaction under a
per-label lock, so two writers never lose a move nor record one out of order. No rule here:
which labels are gated, valid names and who the actor is are prompteur.registry's."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from ..errors import UserError
from .db import VersionInfo, _info
from .tables import PromptVersion, utcnow
from .tables_registry import LabelMove, PromptLabel

if TYPE_CHECKING:
    from .db import Store


class _Any:
    """Sentinel: `move_label` does not check who holds the label before the move."""


ANY = _Any()


@dataclass(frozen=True)
class LabelInfo:
    name: str
    label: str
    version: str
    seq: int
    moved_by: str
    moved_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Move:
    """One entry of the audit log."""

    id: int
    name: str
    label: str
    seq: int
    action: str  # set | promote | rollback | remove
    from_version: str | None
    to_version: str | None
    actor: str
    reason: str | None
    evidence: dict[str, Any] | None
    forced: bool
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---- reading -------------------------------------------------------------------------------


def _by_label_query() -> Any:
    """The version a label holds and every label on that version: one row per label, the
    version's columns (VersionInfo's order) then the label."""
    versions = PromptVersion.__table__
    held = PromptLabel.__table__.alias("held")
    other = PromptLabel.__table__.alias("other")
    same = (other.c.name == held.c.name) & (other.c.version == held.c.version)
    return (
        select(
            versions.c.name,
            versions.c.version,
            versions.c.content,
            versions.c.source,
            versions.c.created_at,
            other.c.label,
        )
        .select_from(
            held.join(
                versions,
                (versions.c.name == held.c.name) & (versions.c.version == held.c.version),
            ).join(other, same)
        )
        .where(held.c.name == bindparam("name"), held.c.label == bindparam("ref"))
    )


# Built once: SQLAlchemy then finds its compiled form in its cache without rebuilding it.
_BY_LABEL = _by_label_query()


def _check_text(name: str, ref: str | None) -> None:
    """No stored name, label or version holds a NUL, and PostgreSQL refuses one in a query's
    text (a DataError, so a 500 for a client that sent one): nothing matches."""
    if "\x00" in name or "\x00" in (ref or ""):
        raise UserError(f"no label or version {ref!r} of {name!r}")


def resolve(store: Store, name: str, ref: str | None) -> VersionInfo:
    """The version `ref` names: a label, else a version prefix; None (or `latest`) is the
    newest stored version. Raises UserError when nothing matches."""
    _check_text(name, ref)
    if ref is None or ref == "latest":
        with store.session() as s:
            row = s.scalars(
                select(PromptVersion)
                .where(PromptVersion.name == name)
                .order_by(PromptVersion.created_at.desc())
                .limit(1)
            ).first()
            if row is None:
                raise UserError(
                    f"no stored version of '{name}'",
                    hint=f"record one: prompteur library save {name}",
                )
            return _info(row)
    if not ref:
        raise UserError(f"empty version or label for '{name}'")
    rows = store.read(lambda c: c.execute(_BY_LABEL, {"name": name, "ref": ref}).all())
    if rows:
        return VersionInfo(*rows[0][:5])
    return _by_prefix(store, name, ref)


def _by_prefix(store: Store, name: str, ref: str) -> VersionInfo:
    found = store.find_version(name, ref)
    if found is None:
        labels = sorted(labels_of(store, name))
        raise UserError(
            f"no label or version '{ref}' of '{name}'",
            hint=f"labels: {', '.join(labels)}" if labels else f"see: prompteur label {name}",
        )
    return found


def resolve_with_labels(store: Store, name: str, ref: str | None) -> tuple[VersionInfo, list[str]]:
    """`resolve`, and the labels pointing at that version (sorted): one statement when `ref`
    is a label (the SDK's `get_prompt`), so the answer is one snapshot and one round trip."""
    _check_text(name, ref)
    if ref and ref != "latest":
        rows = store.read(lambda c: c.execute(_BY_LABEL, {"name": name, "ref": ref}).all())
        if rows:
            return VersionInfo(*rows[0][:5]), sorted(row[5] for row in rows)
        info = _by_prefix(store, name, ref)
    else:
        info = resolve(store, name, ref)
    labels = sorted(label for label, v in labels_of(store, name).items() if v == info.version)
    return info, labels


def labels_of(store: Store, name: str) -> dict[str, str]:
    """label → full version, for one prompt."""
    query = (
        select(PromptLabel.label, PromptLabel.version)
        .where(PromptLabel.name == name)
        .order_by(PromptLabel.label)
    )
    rows = store.read(lambda c: c.execute(query).all())
    return {label: version for label, version in rows}


def all_labels(store: Store) -> list[LabelInfo]:
    """Every label of every prompt, by prompt then label."""
    with store.session() as s:
        rows = s.scalars(select(PromptLabel).order_by(PromptLabel.name, PromptLabel.label))
        return [_label_info(r) for r in rows]


def _label_info(r: PromptLabel) -> LabelInfo:
    return LabelInfo(r.name, r.label, r.version, r.seq, r.moved_by, r.moved_at)


def _move(r: LabelMove) -> Move:
    return Move(
        r.id,
        r.name,
        r.label,
        r.seq,
        r.action,
        r.from_version,
        r.to_version,
        r.actor,
        r.reason,
        dict(r.evidence) if r.evidence is not None else None,
        bool(r.forced),
        r.created_at,
    )


def audit_log(
    store: Store, name: str | None = None, label: str | None = None, *, limit: int | None = None
) -> list[Move]:
    """Label moves, oldest first (the `limit` newest when given)."""
    query = select(LabelMove)
    if name is not None:
        query = query.where(LabelMove.name == name)
    if label is not None:
        query = query.where(LabelMove.label == label)
    with store.session() as s:
        if limit is not None:
            rows = list(s.scalars(query.order_by(LabelMove.id.desc()).limit(limit)))
            rows.reverse()
        else:
            rows = list(s.scalars(query.order_by(LabelMove.id)))
        return [_move(r) for r in rows]


# ---- moving --------------------------------------------------------------------------------


def _lock_key(name: str, label: str) -> int:
    digest = hashlib.sha256(f"prompteur-label\0{name}\0{label}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _lock(s: Session, name: str, label: str) -> None:
    """Serialise writers of one label until the transaction ends.

    PostgreSQL: a transaction-level advisory lock on the (prompt, label) pair, which also
    covers a label that does not exist yet (a row lock could not). SQLite: the database's
    write lock, taken before the first read (BEGIN IMMEDIATE): a deferred transaction that
    read first and wrote second would fail with "database is locked" instead of waiting.
    """
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(name, label)})
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _full_version(store: Store, name: str, version: str) -> str:
    info = store.find_version(name, version)
    if info is None:
        raise UserError(
            f"no stored version '{version}' of '{name}'",
            field="version",
            hint=f"see: prompteur library versions {name}",
        )
    return info.version


def _append(
    s: Session,
    *,
    name: str,
    label: str,
    action: str,
    current: PromptLabel | None,
    to_version: str | None,
    actor: str,
    reason: str | None,
    evidence: dict[str, Any] | None,
    forced: bool,
) -> Move:
    last = s.scalar(
        select(func.max(LabelMove.seq)).where(LabelMove.name == name, LabelMove.label == label)
    )
    seq = int(last or 0) + 1
    now = utcnow()
    entry = LabelMove(
        name=name,
        label=label,
        seq=seq,
        action=action,
        from_version=current.version if current else None,
        to_version=to_version,
        actor=actor,
        reason=reason,
        evidence=evidence,
        forced=forced,
        created_at=now,
    )
    s.add(entry)
    if to_version is None:
        if current is not None:
            s.delete(current)
    elif current is None:
        s.add(
            PromptLabel(
                name=name, label=label, version=to_version, seq=seq, moved_by=actor, moved_at=now
            )
        )
    else:
        current.version, current.seq, current.moved_by, current.moved_at = (
            to_version,
            seq,
            actor,
            now,
        )
    s.flush()
    return _move(entry)


def _conflict(name: str, label: str, expected: str | None, current: str | None) -> UserError:
    now = current[:12] if current else "nothing"
    was = expected[:12] if expected else "nothing"
    return UserError(
        f"'{label}' of '{name}' moved while you worked: it held {was}, it now holds {now}",
        field="label",
        hint="nothing was changed; look at prompteur audit, then try again",
    )


def move_label(
    store: Store,
    name: str,
    label: str,
    version: str,
    *,
    actor: str,
    reason: str | None,
    evidence: dict[str, Any] | None,
    forced: bool = False,
    action: str = "set",
    expected: str | _Any | None = ANY,
) -> Move | None:
    """Point `label` of `name` at `version` (a stored version or a prefix of one) and log it.

    No gate here: `promote` is the gate. `expected` (a full version, or None for "no holder")
    makes the move conditional on the current holder, so a decision taken on evidence
    about one holder never overwrites another. Returns None, writing nothing, when the label
    already points there.
    """
    actor = actor.strip()
    if not actor:
        raise UserError("a label move needs an actor", field="actor")
    full = _full_version(store, name, version)
    with store.session() as s:
        _lock(s, name, label)
        current = s.get(PromptLabel, (name, label))
        held = current.version if current else None
        if not isinstance(expected, _Any) and expected != held:
            raise _conflict(name, label, expected, held)
        if held == full:
            return None
        return _append(
            s,
            name=name,
            label=label,
            action=action,
            current=current,
            to_version=full,
            actor=actor,
            reason=reason,
            evidence=evidence,
            forced=forced,
        )


def remove_label(
    store: Store, name: str, label: str, *, actor: str, reason: str | None = None
) -> Move:
    """Take a label off a prompt (logged; `rollback` puts it back)."""
    with store.session() as s:
        _lock(s, name, label)
        current = s.get(PromptLabel, (name, label))
        if current is None:
            raise UserError(f"'{name}' has no label '{label}'", field="label")
        return _append(
            s,
            name=name,
            label=label,
            action="remove",
            current=current,
            to_version=None,
            actor=actor,
            reason=reason,
            evidence=None,
            forced=False,
        )


def _previous_holder(moves: list[LabelMove]) -> tuple[str | None, int] | None:
    """The holder before the current one, and the step that moved it away, by replaying the
    history: a forward move stacks its target, a rollback unstacks. None: no previous holder.
    Several rollbacks in a row walk back through the forward moves one by one."""
    stack: list[tuple[str | None, int]] = []
    for m in moves:
        if m.action == "rollback":
            if stack:
                stack.pop()
        else:
            stack.append((m.to_version, m.seq))
    if len(stack) < 2:
        return None
    return stack[-2][0], stack[-1][1]


def rollback(store: Store, name: str, label: str, *, actor: str, reason: str | None = None) -> Move:
    """Move `label` back to the version it held before its last move (not gated: this is
    the way out of a bad release)."""
    with store.session() as s:
        _lock(s, name, label)
        moves = list(
            s.scalars(
                select(LabelMove)
                .where(LabelMove.name == name, LabelMove.label == label)
                .order_by(LabelMove.seq)
            )
        )
        if not moves:
            raise UserError(f"'{name}' has never had a label '{label}'", field="label")
        previous = _previous_holder(moves)
        if previous is None:
            raise UserError(
                f"'{label}' of '{name}' has no previous holder to go back to",
                field="label",
                hint=f"see: prompteur audit {name}",
            )
        target, undone = previous
        current = s.get(PromptLabel, (name, label))
        return _append(
            s,
            name=name,
            label=label,
            action="rollback",
            current=current,
            to_version=target,
            actor=actor,
            reason=reason,
            evidence={"undoes_step": undone},
            forced=False,
        )


class LabelRepository:
    """`store.labels`: the functions above, on this store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def resolve(self, name: str, ref: str | None) -> VersionInfo:
        return resolve(self._store, name, ref)

    def resolve_with_labels(self, name: str, ref: str | None) -> tuple[VersionInfo, list[str]]:
        return resolve_with_labels(self._store, name, ref)

    def of(self, name: str) -> dict[str, str]:
        return labels_of(self._store, name)

    def all(self) -> list[LabelInfo]:
        return all_labels(self._store)

    def moves(
        self, name: str | None = None, label: str | None = None, *, limit: int | None = None
    ) -> list[Move]:
        return audit_log(self._store, name, label, limit=limit)

    def move(self, name: str, label: str, version: str, **kw: Any) -> Move | None:
        return move_label(self._store, name, label, version, **kw)

    def remove(self, name: str, label: str, *, actor: str, reason: str | None = None) -> Move:
        return remove_label(self._store, name, label, actor=actor, reason=reason)

    def rollback(self, name: str, label: str, *, actor: str, reason: str | None = None) -> Move:
        return rollback(self._store, name, label, actor=actor, reason=reason)
