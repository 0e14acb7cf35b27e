"""Snapshots: the prompts a client holds, saved to a JSON file so an application can start
and serve its prompts with the server and the project out of reach."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import UserError
from ..files import write_atomic
from ._handle import PromptHandle

FORMAT = "prompteur-snapshot/1"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    content: str
    labels: list[str] = Field(default_factory=list)
    label: str | None = None


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: str
    created_at: str | None = None
    prompts: list[_Entry]


class Snapshot:
    """The handles of a snapshot file, found by label or by version prefix."""

    def __init__(self, path: Path, handles: list[PromptHandle]) -> None:
        self.path = path
        self.handles = handles

    def find(self, name: str, label: str | None, version: str | None) -> PromptHandle | None:
        for h in self.handles:
            if h.name != name:
                continue
            if version is not None:
                if h.version.startswith(version):
                    return h.with_source("snapshot")
            elif label is None or h.label == label or label in h.labels:
                return PromptHandle(h.name, h.version, h.content, h.labels, label, "snapshot")
        return None


def write_snapshot(path: Path, handles: Iterable[PromptHandle]) -> int:
    entries = [h.to_dict() for h in handles]
    data = {"format": FORMAT, "created_at": datetime.now(UTC).isoformat(), "prompts": entries}
    write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return len(entries)


def read_snapshot(path: Path) -> Snapshot:
    """Load and check a snapshot file; a mistake names the file, the line and the field."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError("snapshot file not found", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the snapshot: {exc}", file=path) from None
    try:
        raw: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"malformed JSON: {exc.msg}", file=path, line=exc.lineno) from None
    try:
        data = _File.model_validate(raw)
        if data.format != FORMAT:
            raise UserError(
                f"unknown snapshot format {data.format!r}",
                file=path,
                line=_line_of(text, path, ("format",)),
                field="format",
                hint=f"expected {FORMAT!r}, written by client.snapshot()",
            )
    except ValidationError as exc:
        from ..yamlfile import load_yaml, validation_error

        # JSON is YAML: the YAML loader knows on which line each field sits.
        _, linemap = load_yaml(text, path)
        raise validation_error(exc, linemap, path) from None
    handles = [
        PromptHandle(e.name, e.version, e.content, tuple(e.labels), e.label, "snapshot")
        for e in data.prompts
    ]
    return Snapshot(path, handles)


def _line_of(text: str, path: Path, loc: tuple[str, ...]) -> int | None:
    from ..yamlfile import load_yaml

    try:
        _, linemap = load_yaml(text, path)
    except UserError:
        return None
    return linemap.line(loc)
