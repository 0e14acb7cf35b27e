"""promptfoo prompts → prompt bodies, as promptfoo's prompt processors read them.

A prompt whose raw text parses as JSON is rendered string by string inside the parsed chat
(promptfoo's JSON auto-escape); it becomes a role-marked body (`system:` / `user:` …) whose
turns are Nunjucks templates. Any other prompt is rendered as a whole, then read as a chat
(a JSON array, or a YAML list starting with `- role:`) or else as one user message: its body
is promptfoo's template as written, under `template: {format: nunjucks, parser: promptfoo}`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...nunjucks import CHAT_ROLES, text_content, translate
from ._files import (
    CODE_SUFFIXES,
    expand,
    has_glob,
    load_external,
    read_structured,
    read_text,
    split_function,
    strip_file,
)
from ._jsconfig import is_function
from ._result import Unsupported

TEXT_SUFFIXES = {".txt", ".md", ".j2", ".jinja", ".jinja2", ".prompt", ".tmpl", ""}
_PARTIAL = re.compile(r"({%[^%]*$|{{[^}]*$|{#[^#]*$)", re.M)
_RAW = re.compile(r"{%\s*raw\s*%}")
ENDRAW = re.compile(r"{%\s*endraw\s*%}")


@dataclass
class Prompt:
    label: str
    raw: str  # promptfoo's raw template
    where: str
    chat: list[tuple[str, str]] | None = None  # (role, template) when parsed as JSON first

    @property
    def text_body(self) -> str:
        """The whole template (rendered, then read as a chat or as one user message)."""
        raw = self.raw
        if _PARTIAL.search(raw) and not (_RAW.search(raw) and ENDRAW.search(raw)):
            raw = "{% raw %}" + raw + "{% endraw %}"  # promptfoo's autoWrapRawIfPartialNunjucks
        return translate(raw)


def _from_raw(label: str, raw: str, where: str) -> Prompt:
    """promptfoo's renderPrompt: JSON that parses is rendered inside, the rest as text."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        return Prompt(label, raw, where)
    if isinstance(data, dict) and "role" in data:
        data = [data]
    if isinstance(data, list) and data and all(isinstance(m, dict) for m in data):
        turns: list[tuple[str, str]] = []
        for i, m in enumerate(data):
            role = CHAT_ROLES.get(str(m.get("role", "")).lower())
            if role is None:
                raise Unsupported(f"message {i}: role '{m.get('role')}' has no equivalent")
            try:
                content = text_content(m.get("content"), f"message {i} content")
            except ValueError as exc:
                raise Unsupported(f"{exc} (images, audio and files are not converted)") from None
            extra = set(m) - {"role", "content", "name"}
            if extra:
                raise Unsupported(f"message {i}: {', '.join(sorted(extra))} not converted")
            turns.append((role, translate(content)))
        return Prompt(label, raw, where, turns)
    if isinstance(data, str | int | float | dict | list):
        raise Unsupported(
            "a prompt that is a JSON value but not a chat (promptfoo sends it as JSON text)"
        )
    return Prompt(label, raw, where)


def from_file(ref: str, base: Path, where: str, label: str | None) -> list[Prompt]:
    path_text, fn = split_function(ref)
    if fn is not None or Path(path_text).suffix in CODE_SUFFIXES:
        raise Unsupported("a prompt function (code that builds the prompt) is not converted")
    paths = expand(base, path_text)
    if not paths:
        if has_glob(path_text):
            raise Unsupported(f"no file matches {path_text}")
        raise Unsupported(f"file not found: {base / strip_file(path_text)}")
    found: list[Prompt] = []
    for p in paths:
        here = f"{where} ({p.name})"
        suffix = p.suffix.lower()
        name = label if label and len(paths) == 1 else p.stem
        if suffix in {".json", ".yaml", ".yml"}:
            text = read_text(p)
            try:
                data = json.loads(text) if suffix == ".json" else read_structured(p)
                raw = json.dumps(load_external(data, p.parent), ensure_ascii=False)
            except (json.JSONDecodeError, Unsupported):
                raw = text  # promptfoo keeps a file that does not parse as it is
            found.append(_from_raw(name, raw, here))
        elif suffix == ".jsonl":
            lines = [ln for ln in re.split(r"\r?\n", read_text(p)) if ln]
            for k, line in enumerate(lines, 1):
                found.append(_from_raw(f"{name}-{k}" if len(lines) > 1 else name, line, here))
        elif suffix in (".txt",):
            pieces: list[str] = []
            buffer: list[str] = []
            for line in re.split(r"\r?\n", read_text(p)):
                if line.strip() == "---":
                    pieces.append("\n".join(buffer).strip())
                    buffer = []
                else:
                    buffer.append(line)
            pieces.append("\n".join(buffer).strip())
            pieces = [x for x in pieces if x]
            for k, piece in enumerate(pieces, 1):
                found.append(_from_raw(f"{name}-{k}" if len(pieces) > 1 else name, piece, here))
        elif suffix in TEXT_SUFFIXES or suffix in {".html", ".xml"}:
            found.append(_from_raw(name, read_text(p), here))
        elif suffix == ".csv":
            raise Unsupported("prompts from a CSV file are not converted")
        else:
            raise Unsupported(f"a prompt in a {suffix} file")
    return found


def _looks_like_file(item: str, base: Path) -> bool:
    """promptfoo's maybeFilePath, for a prompt without file://."""
    if "\n" in item or item.startswith(("{", "[")) or "{{" in item or "{%" in item:
        return False
    if has_glob(item):
        return bool(expand(base, item))
    return Path(item).suffix != "" and len(item) < 300 and (base / item).is_file()


def one(item: Any, base: Path, where: str) -> list[Prompt]:
    """One entry of `prompts:` (a string, or {raw | id, label})."""
    label: str | None = None
    if is_function(item):
        raise Unsupported("a prompt function (code that builds the prompt) is not converted")
    if isinstance(item, dict):
        label = item.get("label") or None
        raw = item.get("raw")
        ref = item.get("id") if raw is None else None
        if raw is None and ref is None:
            raise Unsupported("a prompt object needs raw or id")
        if item.get("config"):
            raise Unsupported(
                "prompt config (provider options for this prompt, such as response_format) is "
                "not converted"
            )
        if raw is not None:
            label = label or (str(item["id"]) if item.get("id") else None)
        item = raw if raw is not None else ref
    if not isinstance(item, str):
        raise Unsupported("a prompt is text, file://path or {raw | id, label}")
    if item.startswith(("exec:", "langfuse://", "portkey://", "helicone://")):
        raise Unsupported("a prompt fetched from a program or a prompt service")
    if item.startswith("file://") or _looks_like_file(item, base):
        return from_file(item, base, where, label)
    return [_from_raw(label or "", item, where)]
