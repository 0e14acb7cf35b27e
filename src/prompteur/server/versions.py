"""Stored versions for the routes: resolved through the registry, parsed once per version."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from .. import registry
from ..errors import UserError
from .errors import ApiError

if TYPE_CHECKING:
    from ..prompt import Prompt
    from ..store import Store, VersionInfo


def resolve_or_404(store: Store, name: str, ref: str | None) -> VersionInfo:
    """The version `ref` (label, version prefix, or None for the newest) names, else a 404."""
    try:
        return registry.resolve(store, name, ref)
    except UserError as exc:
        raise ApiError(404, exc.message, field=exc.field, hint=exc.hint) from None


def resolve_with_labels_or_404(store: Store, name: str, ref: str) -> tuple[VersionInfo, list[str]]:
    """`resolve_or_404`, and the labels on that version (one query for a label)."""
    try:
        return registry.resolve_with_labels(store, name, ref)
    except UserError as exc:
        raise ApiError(404, exc.message, field=exc.field, hint=exc.hint) from None


def parsed(info: VersionInfo) -> Prompt:
    return _parse(info.name, info.version, info.content, info.source)


# A version is immutable (its name is its content's hash), so a parse is good forever; the
# bound only caps memory.
@functools.lru_cache(maxsize=512)
def _parse(name: str, version: str, content: str, source: str | None) -> Prompt:
    from ..prompt import parse_prompt

    del version  # part of the cache key only
    return parse_prompt(content, path=Path(source) if source else None, name=name)
