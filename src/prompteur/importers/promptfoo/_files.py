"""Reading promptfoo's files the way promptfoo reads them: `file://` references, globs, `$ref`
pointers, and variables loaded from files at render time."""

from __future__ import annotations

import base64
import copy
import glob
import json
from pathlib import Path
from typing import Any

import yaml

from ._result import Unsupported

CODE_SUFFIXES = {".py", ".js", ".ts", ".mjs", ".cjs", ".mts", ".cts", ".rb"}
JS_SUFFIXES = {".js", ".ts", ".mjs", ".cjs", ".mts", ".cts"}
IMAGE_SUFFIXES = {
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".webp",
    ".bmp",
    ".svg",
    ".tif",
    ".tiff",
    ".ico",
    ".avif",
    ".heic",
    ".heif",
}
MEDIA_SUFFIXES = IMAGE_SUFFIXES | {
    ".mp3",
    ".wav",
    ".m4a",
    ".ogg",
    ".flac",
    ".mp4",
    ".webm",
    ".mov",
    ".avi",
    ".mkv",
}
MAX_FILE = 20 * 1024 * 1024
GLOB_CHARS = set("*?[]{}")


def strip_file(ref: str) -> str:
    return ref[7:] if ref.startswith("file://") else ref


def split_function(ref: str) -> tuple[str, str | None]:
    """`path/x.py:fn` → (`path/x.py`, `fn`); a drive letter's colon is no function."""
    path = strip_file(ref)
    head, sep, tail = path.rpartition(":")
    if sep and len(head) > 1 and "/" not in tail and "\\" not in tail and tail:
        return head, tail
    return path, None


def has_glob(text: str) -> bool:
    return any(c in GLOB_CHARS for c in text)


def expand(base: Path, ref: str) -> list[Path]:
    """The files a path or glob names, sorted (none: an empty list)."""
    target = strip_file(ref)
    pattern = str(base / target) if not Path(target).is_absolute() else target
    if has_glob(target):
        # promptfoo's glob (node-glob 13) lists a folder's matches in reverse name order
        found = sorted(glob.glob(pattern, recursive=True), reverse=True)
        return [Path(p) for p in found if Path(p).is_file()]
    return [Path(pattern)] if Path(pattern).is_file() else []


def read_text(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_FILE:
            raise Unsupported(f"{path.name} is over {MAX_FILE // 1024 // 1024} MB")
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise Unsupported(f"file not found: {path}") from None
    except IsADirectoryError:
        raise Unsupported(f"{path} is a folder, not a file") from None
    except UnicodeDecodeError:
        raise Unsupported(f"{path.name} is not UTF-8 text") from None


def read_structured(path: Path) -> Any:
    """A YAML or JSON file (promptfoo reads both with its YAML loader)."""
    text = read_text(path)
    try:
        if path.suffix == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise Unsupported(f"{path.name}: malformed JSON at line {exc.lineno}: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise Unsupported(f"{path.name}: malformed YAML{line}") from None


def load_external(value: Any, base: Path, depth: int = 0) -> Any:
    """promptfoo's maybeLoadConfigFromExternalFile: a `file://` YAML/JSON reference anywhere
    in a structure is replaced by the file's content (other files stay references)."""
    if depth > 20:
        raise Unsupported("file references nested more than 20 deep")
    if isinstance(value, str) and value.startswith("file://"):
        path, fn = split_function(value)
        if fn is None and Path(path).suffix in {".yaml", ".yml", ".json"} and not has_glob(path):
            target = base / path
            return load_external(read_structured(target), target.parent, depth + 1)
        return value
    if isinstance(value, list):
        return [load_external(v, base, depth + 1) for v in value]
    if isinstance(value, dict):
        return {k: load_external(v, base, depth + 1) for k, v in value.items()}
    return value


def dereference(data: Any, root: Any | None = None, depth: int = 0) -> Any:
    """`$ref: '#/path/to/x'` JSON pointers replaced by what they point at (promptfoo
    dereferences the config, e.g. `assertionTemplates`); sibling keys are kept."""
    root = data if root is None else root
    if depth > 50:
        raise Unsupported("$ref pointers nested more than 50 deep (a cycle?)")
    if isinstance(data, dict):
        ref = data.get("$ref")
        if isinstance(ref, str):
            if not ref.startswith("#/"):
                raise Unsupported(f"$ref '{ref}': only pointers inside the config (#/...) resolve")
            target: Any = root
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if isinstance(target, dict) and part in target:
                    target = target[part]
                elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                    target = target[int(part)]
                else:
                    raise Unsupported(f"$ref '{ref}' points at nothing")
            resolved = dereference(copy.deepcopy(target), root, depth + 1)
            extra = {k: v for k, v in data.items() if k != "$ref"}
            if extra and isinstance(resolved, dict):
                return {**resolved, **dereference(extra, root, depth + 1)}
            return resolved
        return {k: dereference(v, root, depth + 1) for k, v in data.items()}
    if isinstance(data, list):
        return [dereference(v, root, depth + 1) for v in data]
    return data


def var_from_file(ref: str, base: Path) -> str:
    """A `file://` variable as promptfoo's renderPrompt loads it: text trimmed, YAML as
    compact JSON, images as a data URL, other media as base64; code raises Unsupported."""
    path = base / strip_file(ref)
    suffix = path.suffix.lower()
    if suffix in CODE_SUFFIXES:
        raise Unsupported("a variable computed by code (get_var) at each render")
    if suffix == ".pdf":
        raise Unsupported("a PDF read as text: prompteur does not extract PDF text")
    if suffix in MEDIA_SUFFIXES:
        try:
            data = base64.b64encode(path.read_bytes()).decode()
        except FileNotFoundError:
            raise Unsupported(f"file not found: {path}") from None
        if suffix in IMAGE_SUFFIXES:
            mime = {"jpg": "jpeg", "svg": "svg+xml", "tif": "tiff", "ico": "x-icon"}.get(
                suffix[1:], suffix[1:]
            )
            return f"data:image/{mime};base64,{data}"
        return data
    if suffix in {".yaml", ".yml"}:
        from ...nunjucks import js_stringify

        return js_stringify(read_structured(path))
    return read_text(path).strip()
