"""Labels and their audit log: the low-level moves, without any gate.

A label (`production`, `staging`, any name matching `LABEL_PATTERN`) points at one stored,
immutable version. Every move appends a numbered step to the label's history; the store
(`store.labels`) writes the step and the label's new holder in one transaction under a
per-label lock. The rules are here: valid label names, who the actor is, gated labels.
"""

from __future__ import annotations

import getpass
import os
import re
from typing import TYPE_CHECKING, Any

from ..errors import UserError
from ..store.labels import ANY, LabelInfo, Move

if TYPE_CHECKING:
    from ..config import Config
    from ..store import Store
    from ..store.db import VersionInfo

LABEL_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,99}$")
# Words that already mean something where a label is accepted (`NAME@latest`).
RESERVED = frozenset({"latest"})
ACTOR_ENV = "PROMPTEUR_ACTOR"

__all__ = ["ANY", "LabelInfo", "Move"]


def check_label(label: str, *, field: str = "label") -> str:
    if not LABEL_PATTERN.match(label or "") or label.lower() in RESERVED:
        raise UserError(
            f"'{label}' is not a valid label name",
            field=field,
            hint="a letter then letters, digits, '.', '_' or '-' (at most 100); not 'latest'",
        )
    return label


def default_actor(explicit: str | None = None) -> str:
    """Who moves a label: --actor, else $PROMPTEUR_ACTOR, else the OS user."""
    actor = (explicit or os.environ.get(ACTOR_ENV) or "").strip()
    if not actor:
        try:
            actor = getpass.getuser()
        except (OSError, KeyError):  # no user name in the environment nor in passwd
            actor = f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return actor[:200]


def gated_labels(config: Config | None) -> frozenset[str]:
    """Labels that move only through `promote`: `production` always, plus the config's."""
    extra = config.data.registry.gated if config is not None else []
    return frozenset({"production", *extra})


# ---- reading -------------------------------------------------------------------------------


def resolve(store: Store, name: str, ref: str | None) -> VersionInfo:
    """The version `ref` names: a label, else a version prefix; None (or `latest`) is the
    newest stored version. Raises UserError when nothing matches."""
    return store.labels.resolve(name, ref)


def resolve_with_labels(store: Store, name: str, ref: str | None) -> tuple[VersionInfo, list[str]]:
    """`resolve`, and the labels pointing at that version (sorted): one statement when `ref`
    is a label (the SDK's `get_prompt`), so the answer is one snapshot and one round trip."""
    return store.labels.resolve_with_labels(name, ref)


def labels_of(store: Store, name: str) -> dict[str, str]:
    """label → full version, for one prompt."""
    return store.labels.of(name)


def all_labels(store: Store) -> list[LabelInfo]:
    """Every label of every prompt, by prompt then label."""
    return store.labels.all()


def audit_log(
    store: Store, name: str | None = None, label: str | None = None, *, limit: int | None = None
) -> list[Move]:
    """Label moves, oldest first (the `limit` newest when given)."""
    return store.labels.moves(name, label, limit=limit)


# ---- moving --------------------------------------------------------------------------------


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
    expected: Any = ANY,
) -> Move | None:
    """Point `label` of `name` at `version` (a stored version or a prefix of one) and log it.

    No gate here: `promote` is the gate. `expected` (a full version, or None for "no holder")
    makes the move conditional on the current holder, so a decision taken on evidence
    about one holder never overwrites another. Returns None, writing nothing, when the label
    already points there.
    """
    check_label(label)
    actor = actor.strip()
    if not actor:
        raise UserError("a label move needs an actor", field="actor")
    return store.labels.move(
        name,
        label,
        version,
        actor=actor,
        reason=reason,
        evidence=evidence,
        forced=forced,
        action=action,
        expected=expected,
    )


def remove_label(
    store: Store, name: str, label: str, *, actor: str, reason: str | None = None
) -> Move:
    """Take a label off a prompt (logged; `rollback` puts it back)."""
    check_label(label)
    return store.labels.remove(name, label, actor=actor, reason=reason)


def rollback(store: Store, name: str, label: str, *, actor: str, reason: str | None = None) -> Move:
    """Move `label` back to the version it held before its last move (not gated: this is
    the way out of a bad release)."""
    check_label(label)
    return store.labels.rollback(name, label, actor=actor, reason=reason)
