"""YAML that remembers where things are, so every error can name its line.

Prompt front matter and suite files are YAML. Pydantic tells us *which* field is wrong
(`inputs.question.kind`); this module tells us *where* it is in the file.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from . import limits
from .errors import UserError

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


def _walk(node: yaml.Node, path: Loc, lines: dict[Loc, int], offset: int) -> None:
    """Record the line of every field path. Iterative, and each node once: an alias is the
    same node as its anchor, so its fields keep the anchor's lines (and a file of aliases
    costs its own size, not its expansion)."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, Loc]] = [(node, path)]
    while stack:
        current, where = stack.pop()
        lines.setdefault(where, current.start_mark.line + 1 + offset)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                k = key.value if isinstance(key, yaml.ScalarNode) else str(key.value)
                lines[(*where, k)] = key.start_mark.line + 1 + offset
                stack.append((value, (*where, k)))
        elif isinstance(current, yaml.SequenceNode):
            for i, item in enumerate(current.value):
                stack.append((item, (*where, i)))


def _expanded_size(node: yaml.Node) -> tuple[int, int]:
    """(nodes written in the file, nodes once every alias is expanded), without expanding:
    each distinct node's expanded size is computed once, bottom-up."""
    sizes: dict[int, int] = {}
    order: list[yaml.Node] = []
    stack = [node]
    while stack:  # every distinct node, parents before children
        current = stack.pop()
        if id(current) in sizes:
            continue
        sizes[id(current)] = 0
        order.append(current)
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack.extend((key, value))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    for current in reversed(order):  # children before parents
        size = 1
        if isinstance(current, yaml.MappingNode):
            size += sum(sizes[id(k)] + sizes[id(v)] for k, v in current.value)
        elif isinstance(current, yaml.SequenceNode):
            size += sum(sizes[id(item)] for item in current.value)
        sizes[id(current)] = size
    return len(order), sizes[id(node)]


class LineMap:
    """Maps a field path such as ("inputs", "question", "kind") to its 1-based file line."""

    def __init__(self, lines: dict[Loc, int], default: int) -> None:
        self._lines = lines
        self._default = default

    def __contains__(self, loc: object) -> bool:
        return loc in self._lines

    def line(self, loc: Iterable[str | int]) -> int:
        loc = tuple(loc)
        # Pydantic may report a deeper path than the YAML has (a missing key): climb up.
        while loc:
            if loc in self._lines:
                return self._lines[loc]
            loc = loc[:-1]
        return self._lines.get((), self._default)


def load_yaml(text: str, file: str | Path, *, line_offset: int = 0) -> tuple[Any, LineMap]:
    """Parse YAML text; a syntax error becomes a UserError naming the line.

    `line_offset` is the number of file lines before `text` (front matter starts at line 2).
    Bounded: aliases (and merge keys) may add at most `limits.yaml_alias_nodes` nodes beyond
    those written out, so a "billion laughs" file is refused before anything expands it.
    """
    node = _compose(text, file, line_offset)
    lines: dict[Loc, int] = {}
    if node is None:
        return None, LineMap(lines, line_offset + 1)
    written, expanded = _expanded_size(node)
    allowed = written + limits.current().yaml_alias_nodes
    if expanded > allowed:
        raise UserError(
            f"YAML aliases expand to {expanded:,} nodes (more than {allowed:,}): refused",
            file=file,
            line=line_offset + 1,
            hint="write the repeated parts out, or use fewer nested aliases",
        )
    try:
        loader = yaml.SafeLoader("")
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, file, line_offset) from None
    except yaml.YAMLError as exc:
        raise UserError(f"malformed YAML: {exc}", file=file, line=line_offset + 1) from None
    except RecursionError:
        raise UserError("malformed YAML: nested too deeply", file=file) from None
    _walk(node, (), lines, line_offset)
    return data, LineMap(lines, line_offset + 1)


def safe_load(text: str, file: str | Path) -> Any:
    """`yaml.safe_load`, bounded like `load_yaml` (for readers that need no line map)."""
    return load_yaml(text, file)[0]


def _compose(text: str, file: str | Path, line_offset: int) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, file, line_offset) from None
    except yaml.YAMLError as exc:
        raise UserError(f"malformed YAML: {exc}", file=file, line=line_offset + 1) from None
    except RecursionError:
        raise UserError("malformed YAML: nested too deeply", file=file) from None


def _syntax_error(exc: yaml.MarkedYAMLError, file: str | Path, line_offset: int) -> UserError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 + line_offset if mark else None
    problem = exc.problem or exc.context or "malformed YAML"
    return UserError(f"malformed YAML: {problem}", file=file, line=line)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def load_json(
    text: str | bytes, file: str | Path | None = None, *, field: str | None = None
) -> Any:
    """`json.loads`, bounded in nesting depth; a mistake is a UserError naming the line."""
    try:
        limits.check_json_depth(text)
    except ValueError as exc:
        raise UserError(f"malformed JSON: {exc}", file=file, field=field) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"malformed JSON: {exc.msg}", file=file, line=exc.lineno, field=field
        ) from None
    except RecursionError:
        raise UserError("malformed JSON: nested too deeply", file=file, field=field) from None
    if _SURROGATE_ESCAPE.search(text if isinstance(text, str) else text.decode("utf-8", "replace")):
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            # "\ud800" alone is valid JSON but not text: nothing could print or store it.
            raise UserError(
                "malformed JSON: a lone surrogate (\\ud800-\\udfff) is not a character",
                file=file,
                field=field,
            ) from None
    return data


def dotted(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def fields_at(model: type[BaseModel], loc: Iterable[str | int]) -> list[str]:
    """The keys allowed at `loc` inside `model` (a nested model's own fields, by alias):
    what "did you mean" chooses from for an unknown key there."""
    current: Any = model
    for part in loc:
        kind, inner = _shape(current)
        if kind == "model":
            fields = {f.alias or n: f for n, f in inner.model_fields.items()}
            found = fields.get(str(part)) or inner.model_fields.get(str(part))
            if found is None:
                return []
            current = found.annotation
        elif kind in ("list", "dict"):
            current = inner  # an index or a key: step into the element
        else:
            return []
    kind, inner = _shape(current)
    return [f.alias or n for n, f in inner.model_fields.items()] if kind == "model" else []


def _shape(annotation: Any) -> tuple[str, Any]:
    """("model", M), ("list", element), ("dict", value) or ("other", None), looking through
    `X | None` and other unions (the first model or container they hold)."""
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "model", annotation
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (list, tuple, set, frozenset) and args:
        return "list", args[0]
    if origin is dict and args:
        return "dict", args[-1]
    for arg in args:  # a union: the first member with a shape
        kind, inner = _shape(arg)
        if kind != "other":
            return kind, inner
    return "other", None


def validation_error(
    exc: ValidationError,
    linemap: LineMap,
    file: str | Path,
    *,
    known: Iterable[str] = (),
    model: type[BaseModel] | None = None,
) -> UserError:
    """The first pydantic error, as a UserError with file, line and dotted field. With
    `model`, an unknown nested key's "did you mean" draws on the keys allowed where it is."""
    err = exc.errors(include_url=False)[0]
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    message = err["msg"]
    hint = None
    if err["type"] == "extra_forbidden" and loc:
        message = f"unknown key '{loc[-1]}'"
        if model is not None:
            known = fields_at(model, loc[:-1]) or (known if len(loc) == 1 else [])
        close = difflib.get_close_matches(str(loc[-1]), list(known), n=1)
        if close:
            hint = f"did you mean '{close[0]}'?"
    elif err["type"] == "missing":
        message = "required field is missing"
    return UserError(
        message, file=file, line=linemap.line(loc), field=dotted(loc) or None, hint=hint
    )


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def read_bytes(
    path: str | Path,
    what: str = "file",
    *,
    field: str | None = None,
    max_bytes: int | None = None,
) -> bytes:
    """A regular file's bytes, at most `max_bytes` (default: the spec-file limit); a missing,
    folder, special (a FIFO, /dev/zero) or oversized path is a UserError, read no further."""
    import os
    import stat

    path = Path(path)
    limit = limits.current().spec_bytes if max_bytes is None else max_bytes
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer before we can refuse it.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise UserError(f"{what} not found", file=path, field=field) from None
    except IsADirectoryError:
        raise UserError(f"is a folder, not {_a(what)}", file=path, field=field) from None
    except PermissionError:
        raise UserError("permission denied: cannot read it", file=path, field=field) from None
    except OSError as exc:
        raise UserError(f"cannot open it: {exc.strerror}", file=path, field=field) from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UserError(f"is a folder, not {_a(what)}", file=path, field=field)
        if not stat.S_ISREG(info.st_mode):
            raise UserError(f"not a regular file, not {_a(what)}", file=path, field=field)
        if info.st_size > limit:
            raise UserError(
                f"{what} too large: {info.st_size:,} bytes (the limit is {limit:,})",
                file=path,
                field=field,
                hint="raise it under [limits] in prompteur.toml if this is intended",
            )
        data = fh.read(limit + 1)
    if len(data) > limit:  # grew while we read it
        raise UserError(f"{what} too large (the limit is {limit:,} bytes)", file=path, field=field)
    return data


def read_text(
    path: str | Path,
    what: str = "file",
    *,
    field: str | None = None,
    max_bytes: int | None = None,
) -> str:
    """A text file's contents; a missing, folder, unreadable, oversized or non-UTF-8 path is a
    UserError (naming the line of the first bad byte).

    `what` names the file in the message ("suite file" → "suite file not found").
    """
    data = read_bytes(path, what, field=field, max_bytes=max_bytes)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError("not valid UTF-8 text", file=path, line=line, field=field) from None


def load_mapping(
    text: str,
    file: str | Path,
    *,
    what: str,
    example_keys: Iterable[str] = (),
    empty_ok: bool = False,
) -> tuple[dict[str, Any], LineMap]:
    """Parse YAML text that must be a mapping (a spec file); `what` names it ("suite")."""
    data, lines = load_yaml(text, file)
    if data is None and empty_ok:
        data = {}
    if not isinstance(data, dict):
        keys = ", ".join(f"{k}:" for k in example_keys)
        raise UserError(
            f"{_a(what)} must be a YAML mapping" + (f" ({keys}, …)" if keys else ""),
            file=file,
            line=1,
        )
    return data, lines


def validate(
    model: type[M],
    data: Any,
    lines: LineMap,
    file: str | Path,
    *,
    known: Iterable[str] | None = None,
    root_field: str | None = None,
) -> M:
    """`model.model_validate(data)`, a failure as a UserError naming file, line and field.

    `known` (default: the model's fields) feeds "did you mean"; `root_field` is where a
    model-level check (one with no field of its own) points, when the file has that key.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        names = list(model.model_fields) if known is None else list(known)
        err = validation_error(exc, lines, file, known=names, model=model)
        field, line = err.field, err.line
        if field is None and root_field and (root_field,) in lines:
            field, line = root_field, lines.line((root_field,))
        # Pydantic prefixes a validator's own sentence; the user wrote none of it.
        message = err.message.removeprefix("Value error, ")
        raise UserError(message, file=file, line=line, field=field, hint=err.hint) from None


def load_model(
    text: str,
    model: type[M],
    file: str | Path,
    *,
    what: str,
    example_keys: Iterable[str] = (),
    known: Iterable[str] | None = None,
    empty_ok: bool = False,
    root_field: str | None = None,
) -> tuple[M, LineMap]:
    """A spec file's text as a validated pydantic model, plus where each field is.

    Every mistake (bad YAML, not a mapping, a wrong field) is a UserError naming the line.
    """
    data, lines = load_mapping(text, file, what=what, example_keys=example_keys, empty_ok=empty_ok)
    return validate(model, data, lines, file, known=known, root_field=root_field), lines
