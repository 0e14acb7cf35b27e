"""The bounds on everything prompteur parses or renders (docs/security.md states the figures).

Every input is hostile until bounded: a prompt file, a suite, a form field or a JSON body can
be written to exhaust memory or time (YAML alias bombs, template loops, 10,000-deep JSON).
Each parser and renderer checks the bound that applies to it here and reports a `UserError`
naming the file and line when it is crossed, never a traceback and never a hang.

The defaults suit real prompts and suites by a wide margin; `[limits]` in prompteur.toml (or
`prompteur serve --max-body`) raises them for a project that needs more.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    # Files the user writes by hand: a prompt, a suite, a spec (datasets are streamed).
    prompt_bytes: int = 1 * MiB
    spec_bytes: int = 16 * MiB
    # One line of a JSONL dataset, one CSV row.
    dataset_line_bytes: int = 4 * MiB
    # YAML: nodes that aliases (`*a`, merge keys) may add beyond the nodes written out.
    yaml_alias_nodes: int = 10_000
    # JSON and YAML nesting (inputs files, request bodies, OTLP): deeper is refused.
    nesting_depth: int = 200
    # Templates: characters produced (the rendered prompt and any string built on the way),
    # loop iterations and macro calls, and wall time of one render.
    render_chars: int = 2_000_000
    render_steps: int = 1_000_000
    render_seconds: float = 1.0
    # HTTP request bodies (the server's default; `serve --max-body` changes it).
    body_bytes: int = 8 * MiB

    def updated(self, **values: Any) -> Limits:
        return replace(self, **{k: v for k, v in values.items() if v is not None})


DEFAULT = Limits()
_current: contextvars.ContextVar[Limits] = contextvars.ContextVar("prompteur_limits")


def current() -> Limits:
    """The limits in force here: the defaults unless a shell set a project's `[limits]`."""
    return _current.get(DEFAULT)


def set_limits(limits: Limits) -> None:
    """Make `limits` the ones in force (a shell does this once, from the project's config)."""
    _current.set(limits)


@contextlib.contextmanager
def using(limits: Limits) -> Iterator[Limits]:
    token = _current.set(limits)
    try:
        yield limits
    finally:
        _current.reset(token)


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth(text: str | bytes) -> int:
    """The deepest nesting of brackets in JSON text, strings skipped: measured before
    `json.loads`, whose recursion would otherwise end in RecursionError. Two regexes and an
    accumulate: C speed, a fraction of what parsing the same text costs."""
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8", errors="replace")
    brackets = _NOT_BRACKETS.sub("", _JSON_STRING.sub("", text))
    if not brackets:
        return 0
    return max(itertools.accumulate(map(_STEP.__getitem__, brackets)))


def check_json_depth(text: str | bytes, limit: int | None = None) -> None:
    """Raise ValueError when `text` nests deeper than the limit (the caller says where)."""
    bound = current().nesting_depth if limit is None else limit
    # Fast path: text with fewer opening brackets than the bound cannot nest deeper.
    opening = (
        text.count(b"[") + text.count(b"{")
        if isinstance(text, bytes)
        else (text.count("[") + text.count("{"))
    )
    if opening > bound and json_depth(text) > bound:
        raise ValueError(f"nested more than {bound} levels deep")
